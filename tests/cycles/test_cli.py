"""The CLI contract: `cycle create|sample|add-auditors|allocate|open|close|status|calendar` and
`import-plans`, with bad input always one clear message and exit status 1, never a traceback."""

import json
import uuid
from collections import Counter

import pytest
import time_machine
from sqlmodel import func, select

from audit_workflow.cycles.commands import cycle_cli
from audit_workflow.cycles.models import Assignment, AuditCycle, CyclePlan
from audit_workflow.plans.commands import import_plans_command
from audit_workflow.plans.models import Plan
from tests.cycles.conftest import FILE_HEADINGS, add_auditors, as_csv, as_xlsx, register_rows


@pytest.fixture
def cli(app, runner, world):
    app.cli.add_command(cycle_cli)
    app.cli.add_command(import_plans_command)
    return lambda *args: runner.invoke(args=[str(arg) for arg in args])


def create(cli, *extra):
    result = cli("cycle", "create", "--la", "886", "--name", "Autumn 2026", "--start", "2026-09-01", "--end",
                 "2026-12-18", "--due-working-days", "15", *extra)
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def refused(result, *fragments):
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    return result


def test_create_prints_the_new_cycles_id_last(cli, db):
    cycle_id = create(cli, "--target", "10%", "--strata", "key_stage")
    assert uuid.UUID(cycle_id)
    report = json.loads(cli("cycle", "status", cycle_id, "--json").stdout)
    none = {"assignments": 0, "by_status": {"overdue": 0}, "by_auditor": {}}
    assert report == {"cycle": cycle_id, **none, "moderation": none, "reaudit": none}


@pytest.mark.parametrize("args, message", [
    (["--la", "999"], "No LA with code '999'"),
    (["--start", "2026-13-01"], "--start must be a date like 2026-09-01"),
    (["--end", "2026-08-01"], "The end of the period must be the same as or after its start"),
    (["--due-working-days", "lots"], "'lots' is not a valid integer"),
    (["--target", "ten"], "Enter the target as a number of plans"),
    (["--strata", "key_stage,surname"], "Stratify by key_stage, primary_need, setting_type, plan_type only"),
])
def test_create_refuses_bad_input_with_one_clear_line(cli, args, message):
    values = {"--la": "886", "--name": "Autumn 2026", "--start": "2026-09-01", "--end": "2026-12-18", "--due-working-days": "15"}
    values.update(dict(zip(args[::2], args[1::2])))
    refused(cli("cycle", "create", *[item for pair in values.items() for item in pair]), message)


def test_a_missing_option_is_exit_status_1_too(cli):
    refused(cli("cycle", "create", "--la", "886"), "Missing option '--name'")


def test_import_plans_names_every_bad_row_and_column_and_imports_nothing(cli, db, tmp_path):
    rows = register_rows(20)
    rows[15][4] = "XYZ"
    rows[3][1] = ""
    path = tmp_path / "register.csv"
    path.write_bytes(as_csv(rows))
    result = refused(cli("import-plans", "--la", "886", path), "no plans were imported")
    lines = result.stderr.splitlines()
    assert lines[0] == 'Row 5, column "Key stage": the cell is empty, but every plan needs one'
    assert lines[1].startswith('Row 17, column "Primary need": "XYZ" is not a SEN2 primary-need code')
    assert len(lines) == 3

    path.write_bytes(as_csv([[*row, "Sam"] for row in register_rows(2)], (*FILE_HEADINGS, "Child name")))
    refused(cli("import-plans", "--la", "886", path), 'Column "Child name"')
    refused(cli("import-plans", "--la", "886", tmp_path / "missing.csv"), "cannot read")
    refused(cli("import-plans", "--la", "000", path), "No LA with code '000'")


REGISTER_FORMATS = [("register.csv", as_csv), ("register.xlsx", as_xlsx)]


@pytest.mark.parametrize("filename, write", REGISTER_FORMATS)
def test_a_date_of_birth_column_refuses_the_whole_file_naming_the_column_and_why(cli, db, tmp_path, filename, write):
    path = tmp_path / filename
    path.write_bytes(write([[*row, "2015-03-01"] for row in register_rows(30)], (*FILE_HEADINGS, "Date of birth")))
    result = refused(cli("import-plans", "--la", "886", path), "no plans were imported")
    assert result.stderr.splitlines()[0] == (
        'Column "Date of birth" (column H) looks like personal data: the service never holds a child\'s date of birth; '
        "remove the column and import again")
    assert db.exec(select(func.count()).select_from(Plan)).one() == 0


@pytest.mark.parametrize("filename, write", REGISTER_FORMATS)
def test_a_bad_sen2_code_in_row_17_refuses_the_whole_file_naming_row_and_column(cli, db, tmp_path, filename, write):
    rows = register_rows(30)
    rows[15][4] = "AUT"  # row 17 of the file: the headings are row 1
    path = tmp_path / filename
    path.write_bytes(write(rows))
    result = refused(cli("import-plans", "--la", "886", path), "The file has 1 problem, so no plans were imported")
    assert result.stderr.splitlines()[0].startswith('Row 17, column "Primary need": "AUT" is not a SEN2 primary-need code')
    assert db.exec(select(func.count()).select_from(Plan)).one() == 0


def test_import_plans_takes_an_excel_workbook(cli, tmp_path):
    path = tmp_path / "register.xlsx"
    path.write_bytes(as_xlsx(register_rows(40)))
    result = cli("import-plans", "--la", "886", path)
    assert result.exit_code == 0 and "40 new, 0 updated, 0 unchanged" in result.stdout


@time_machine.travel("2026-10-05 09:00:00", tick=False)
def test_the_whole_flow_from_the_command_line(cli, db, world, tmp_path):
    la = world.las["own"]
    auditors = add_auditors(db, la, 6)
    path = tmp_path / "register.csv"
    path.write_bytes(as_csv(register_rows(300)))
    assert cli("import-plans", "--la", "886", path).exit_code == 0
    cycle_id = create(cli)

    refused(cli("cycle", "allocate", cycle_id), "no unallocated plans")
    sample = cli("cycle", "sample", cycle_id, "--size", "30", "--seed", "11")
    assert sample.exit_code == 0 and "Drew 30 of 300 plans with seed 11." in sample.stdout
    assert "percentage points at 95% confidence" in sample.stdout
    refused(cli("cycle", "allocate", cycle_id), "no auditors")
    emails = [item for auditor in auditors[:3] for item in ("--email", auditor.email)]
    assert cli("cycle", "add-auditors", cycle_id, "--capacity", "4", *emails).exit_code == 0
    added = cli("cycle", "add-auditors", cycle_id, "--capacity", "5")  # everyone: the six and the world's auditor
    assert added.exit_code == 0 and "7 auditors in the pool with capacity 5." in added.stdout

    allocated = cli("cycle", "allocate", cycle_id)
    assert allocated.exit_code == 0 and "Allocated 30 plans; 0 not allocated." in allocated.stdout
    assert "30 plans allocated to" in allocated.stdout  # the allocator's explanation
    refused(cli("cycle", "sample", cycle_id, "--size", "10"), "already been allocated")

    report = json.loads(cli("cycle", "status", cycle_id, "--json").stdout)
    assert set(report) == {"cycle", "assignments", "by_status", "by_auditor", "moderation", "reaudit"}
    assert (report["cycle"], report["assignments"]) == (cycle_id, 30)
    assert report["by_status"] == {"not_started": 30, "overdue": 0}
    assert sum(report["by_auditor"].values()) == 30 and max(report["by_auditor"].values()) <= 5
    text = cli("cycle", "status", cycle_id)
    assert text.exit_code == 0 and "not started: 30" in text.stdout

    refused(cli("cycle", "open", cycle_id), "already open")  # allocation opened it
    assert cli("cycle", "close", cycle_id).exit_code == 0
    refused(cli("cycle", "close", cycle_id), "is closed")


@time_machine.travel("2026-10-05 09:00:00", tick=False)
def test_the_issues_flow_from_the_command_line_600_plans_60_sampled_12_auditors(cli, db, world, tmp_path):
    """The "Done when" of issue 4, as the browser test does it, from a script."""
    auditors = add_auditors(db, world.las["own"], 12)
    path = tmp_path / "register.xlsx"
    path.write_bytes(as_xlsx(register_rows(600)))
    imported = cli("import-plans", "--la", "886", path)
    assert imported.exit_code == 0 and "600 new, 0 updated, 0 unchanged" in imported.stdout
    cycle_id = create(cli)
    sample = cli("cycle", "sample", cycle_id, "--size", "60", "--seed", "2026")
    assert sample.exit_code == 0 and "Drew 60 of 600 plans with seed 2026." in sample.stdout
    cycle = db.get(AuditCycle, uuid.UUID(cycle_id))
    assert cycle.sample_strata == "key_stage,primary_need,setting_type"  # the default: stratified
    emails = [item for auditor in auditors for item in ("--email", auditor.email)]
    assert cli("cycle", "add-auditors", cycle_id, "--capacity", "6", *emails).exit_code == 0
    allocated = cli("cycle", "allocate", cycle_id)
    assert allocated.exit_code == 0 and "Allocated 60 plans; 0 not allocated." in allocated.stdout

    status = cli("cycle", "status", cycle_id, "--json")
    assert status.exit_code == 0
    report = json.loads(status.stdout)
    by_auditor = report.pop("by_auditor")
    none = {"assignments": 0, "by_status": {"overdue": 0}, "by_auditor": {}}
    assert report == {"cycle": cycle_id, "assignments": 60, "by_status": {"not_started": 60, "overdue": 0},
                      "moderation": none, "reaudit": none}
    assert set(by_auditor) == {auditor.email for auditor in auditors}
    # Spread evenly, within capacity, as far as the writing teams allow.
    assert sum(by_auditor.values()) == 60 and max(by_auditor.values()) <= 6 and min(by_auditor.values()) >= 4

    calendar = cli("cycle", "calendar", cycle_id, "--json")
    assert calendar.exit_code == 0, calendar.output
    entries = json.loads(calendar.stdout)
    assert all(set(entry) == {"assignment", "auditor", "kind", "date"} for entry in entries)
    db.rollback()  # a fresh read, after the commands' commits
    assignments = {str(a.id): a for a in db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id)).all()}
    emails_by_id = {auditor.id: auditor.email for auditor in auditors}
    assert {entry["assignment"] for entry in entries} == set(assignments)
    for entry in entries:
        assert entry["auditor"] == emails_by_id[assignments[entry["assignment"]].auditor_id]
    # Every assignment is due Monday 26 October 2026 (15 working days on): each has one of each
    # reminder, due and escalation, and overdue chases in between.
    kinds = Counter((entry["kind"], entry["date"]) for entry in entries)
    assert kinds[("reminder", "2026-10-22")] == kinds[("due", "2026-10-26")] == kinds[("escalation", "2026-11-02")] == 60
    assert {kind for kind, _ in kinds} == {"reminder", "due", "overdue", "escalation"}


def test_a_closed_cycle_refuses_every_change_from_the_command_line(cli, db, world, tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(as_csv(register_rows(20)))
    assert cli("import-plans", "--la", "886", path).exit_code == 0
    cycle_id = create(cli)
    assert cli("cycle", "close", cycle_id).exit_code == 0
    for command in (["sample", cycle_id, "--size", "5"], ["add-auditors", cycle_id, "--capacity", "3"],
                    ["allocate", cycle_id], ["open", cycle_id], ["close", cycle_id]):
        refused(cli("cycle", *command), "Autumn 2026 is closed, so it can no longer be changed")
    assert db.exec(select(func.count()).select_from(CyclePlan)).one() == 0
    assert cli("cycle", "status", cycle_id, "--json").exit_code == 0  # reading still works


@pytest.mark.parametrize("command", [["sample", "nonsense", "--size", "3"], ["allocate", "nonsense"], ["open", "nonsense"],
                                     ["close", "nonsense"], ["status", "nonsense"], ["add-auditors", "nonsense", "--capacity", "2"],
                                     ["calendar", "nonsense", "--json"]])
def test_a_bad_cycle_id_is_a_clear_refusal(cli, command):
    refused(cli("cycle", *command), "is not a cycle id")


def test_an_unknown_cycle_and_bad_numbers_are_refused(cli):
    missing = str(uuid.uuid4())
    refused(cli("cycle", "status", missing), f"No cycle with id {missing}")
    cycle_id = create(cli)
    refused(cli("cycle", "sample", cycle_id, "--size", "many"), "'many' is not a valid integer")
    refused(cli("cycle", "add-auditors", cycle_id, "--capacity", "3", "--email", "nobody@example.gov.uk"),
            "nobody@example.gov.uk is not an active auditor in this LA")
