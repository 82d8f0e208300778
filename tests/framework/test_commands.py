"""`framework check` and `framework show` on a bare Flask app, as the application will register them."""

from __future__ import annotations

import json

import pytest
import yaml
from flask import Flask

from audit_workflow.framework import default_framework_path, framework_to_dict, load_framework
from audit_workflow.framework.commands import framework_cli

from .conftest import FAST_DUMPER, section_data


@pytest.fixture
def run():
    app = Flask(__name__)
    app.cli.add_command(framework_cli)
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["framework", *args])


def test_check_without_a_file_checks_the_shipped_framework(run, monkeypatch):
    monkeypatch.chdir(default_framework_path().parents[2])  # the repository root: the path is shown relative to it
    result = run("check")
    assert result.exit_code == 0
    assert result.stdout == "OK: config/framework/default.yaml (version 2026.2, 12 sections, 228 criteria)\n"


def test_check_a_valid_file(run, write_framework):
    path = write_framework()
    result = run("check", str(path))
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"OK: {path} (version 2026.2, 12 sections, 228 criteria)\n", "")


def test_check_lists_every_problem_on_stderr_and_fails(run, write_framework):
    def break_two_things(data):
        section_data(data, "F")["weight"] = 10
        section_data(data, "E")["bands"]["good"][0]["text"] = ""

    path = write_framework(break_two_things)
    result = run("check", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f'{path}: section "E": band "good": criterion "E-G-01": "text" is empty',
        f"{path}: section weights add up to 90, not 100",
    ]


def test_check_a_missing_file(run, tmp_path):
    result = run("check", str(tmp_path / "nope.yaml"))
    assert (result.exit_code, result.stderr) == (1, f"{tmp_path / 'nope.yaml'}: file not found\n")


def test_show_prints_rules_and_every_criterion(run, shipped):
    result = run("show")
    assert result.exit_code == 0
    assert result.stdout.startswith("EHC plan quality framework (audit-workflow default), version 2026.2\n")
    assert "Limit: an Inadequate B or F caps the overall grade at Requires improvement." in result.stdout
    assert "F  Special educational provision (weight 20, always applies)" in result.stdout
    assert "  * F-G-02    Each item says who delivers it" in result.stdout
    for criterion in (criterion for section in shipped.sections for criterion in section.criteria):
        assert f"{criterion.id:<9} {criterion.text}\n" in result.stdout


def test_show_json_then_check_round_trips(run, tmp_path, shipped):
    shown = run("show", "--json")
    assert shown.exit_code == 0
    data = json.loads(shown.stdout)
    assert data == framework_to_dict(shipped)

    path = tmp_path / "from-json.yaml"
    path.write_text(yaml.dump(data, Dumper=FAST_DUMPER, allow_unicode=True), encoding="utf-8")
    checked = run("check", str(path))
    assert (checked.exit_code, checked.stdout) == (0, f"OK: {path} (version 2026.2, 12 sections, 228 criteria)\n")
    assert load_framework(path) == shipped


def test_show_another_file(run, write_framework):
    path = write_framework(lambda data: data.update(version="2027.1-test"))
    result = run("show", "--json", "--file", str(path))
    assert json.loads(result.stdout)["version"] == "2027.1-test"


def test_show_a_broken_file_fails_with_its_problems(run, write_framework):
    path = write_framework(lambda data: data.pop("rules"))
    result = run("show", "--file", str(path))
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f'{path}: missing "rules"\n')



def test_load_makes_a_file_the_las_active_framework(app, world, db, tmp_path):
    from audit_workflow.framework.versions import active_framework
    from audit_workflow.framework import default_framework_path

    local = tmp_path / "kent.yaml"
    local.write_text(default_framework_path().read_text().replace('version: "2026.2"', 'version: "kent-2027.1"', 1))
    result = app.test_cli_runner().invoke(args=["framework", "load", "--la", "886", str(local)])
    assert result.exit_code == 0, result.output
    assert "kent-2027.1" in result.output
    row, framework = active_framework(db, world.las["own"].id)
    assert (row.version, framework.version) == ("kent-2027.1", "kent-2027.1")
    # The other LA still grades with the shipped framework.
    assert active_framework(db, world.las["other"].id)[1].version == "2026.2"


def test_load_refuses_an_unknown_la_and_a_broken_file(app, world, tmp_path):
    from audit_workflow.framework import default_framework_path

    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["framework", "load", "--la", "999", str(default_framework_path())])
    assert unknown.exit_code == 1 and "No LA with code" in unknown.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: [")
    refused = runner.invoke(args=["framework", "load", "--la", "886", str(broken)])
    assert refused.exit_code == 1 and "broken.yaml" in refused.output
