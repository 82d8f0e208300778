"""`import-plans --map` and what the command says about the mapping it used."""

import pytest
from sqlmodel import select

from audit_workflow.plans.commands import import_plans_command
from audit_workflow.plans.models import Plan
from tests.cycles.conftest import as_csv, register_rows


@pytest.fixture
def cli(app, runner, world):
    app.cli.add_command(import_plans_command)
    return lambda *args: runner.invoke(args=[str(arg) for arg in args])


HEADINGS = ("Child reference no", "Key stage", "School", "Setting type", "Primary need", "Plan type", "Caseworker unit",
            "Notes")


def test_map_names_a_column_and_the_command_prints_the_mapping_and_the_columns_not_used(cli, db, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"SEN register, printed by the case management system\n\n"
                     + as_csv([[*row, "x"] for row in register_rows(3)], HEADINGS))
    refused = cli("import-plans", "--la", "886", path)
    assert refused.exit_code == 1 and 'Column "System ID" is missing' in refused.stderr
    assert "Headings on row 3. Columns read:" in refused.stdout

    result = cli("import-plans", "--la", "886", "--map", "Child reference no=System ID", "--map",
                 "Caseworker unit=writing team", path)
    assert result.exit_code == 0, result.output
    assert "Headings on row 3. Columns read:" in result.stdout
    assert '"Child reference no" as System ID' in result.stdout and '"Caseworker unit" as Writer team' in result.stdout
    assert "Columns not used: Notes" in result.stdout
    teams = {plan.writer_team for plan in db.exec(select(Plan)).all()}
    assert teams == {"SEN North", "SEN South", "SEN East"}


def test_a_bad_map_says_what_is_accepted(cli, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(as_csv(register_rows(1)))
    result = cli("import-plans", "--la", "886", "--map", "Case Team=favourite colour", path)
    assert result.exit_code == 1 and "must be \"Heading in the file=what it is\"" in result.stderr
    assert "Writer team" in result.stderr


def test_the_size_is_checked_before_the_file_is_read(cli, tmp_path, monkeypatch):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:  # a sparse file: 1 GB on paper, nothing on disk
        handle.truncate(2**30)
    monkeypatch.setattr("pathlib.Path.read_bytes", lambda self: pytest.fail("read a file that is too big"))
    result = cli("import-plans", "--la", "886", path)
    assert result.exit_code == 1 and "The file is 1024.0 MB; the most it can be is 20 MB" in result.stderr
