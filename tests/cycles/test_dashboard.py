"""The numbers on the cycle dashboard and in `cycle status --json`, counted in SQL."""

import json
import re
from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import event
from sqlmodel import col, select

from audit_workflow.clock import ENGLAND
from audit_workflow.cycles import allocating, progress
from audit_workflow.cycles.commands import cycle_cli
from audit_workflow.cycles.digest import weekly_digest_job
from audit_workflow.cycles.models import Assignment
from audit_workflow.db import get_engine
from audit_workflow.notifications.models import OutboxMessage
from audit_workflow.plans.models import Plan
from tests.cycles.conftest import add_auditors, add_register
from tests.factories import make_assignment, make_cycle

TODAY = date(2026, 11, 2)
NONE_OF_KIND = {"assignments": 0, "by_status": {"overdue": 0}, "by_auditor": {}}


@pytest.fixture
def tracked(db, la, world):
    """Eight assignments in one cycle, one in another cycle and one in another LA."""
    plans = add_register(db, la, 10)
    anna, ben = add_auditors(db, la, 2)
    cycle = make_cycle(db, la)
    rows = [
        (anna, "not_started", date(2026, 11, 1)),  # overdue
        (anna, "not_started", date(2026, 11, 2)),  # due today: not overdue
        (anna, "in_progress", date(2026, 10, 30)),  # overdue
        (anna, "submitted", date(2026, 10, 1)),  # past due but done
        (ben, "in_progress", date(2026, 11, 20)),
        (ben, "declined", date(2026, 10, 1)),
        (ben, "withdrawn", date(2026, 10, 1)),
        (ben, "submitted", date(2026, 11, 20)),
    ]
    for plan_id, (auditor, status, due) in zip(plans, rows):
        make_assignment(db, cycle, db.get(Plan, plan_id), auditor, status=status, due_date=due)
    elsewhere = make_cycle(db, la, name="Other cycle")
    make_assignment(db, elsewhere, db.get(Plan, plans[9]), anna, due_date=date(2026, 1, 1))
    db.commit()
    return cycle, anna, ben


def test_counts_by_status_with_overdue_counted_as_well(db, tracked):
    cycle, anna, ben = tracked
    counts = progress.cycle_progress(db, cycle, on=TODAY)
    assert counts.by_status == {"not_started": 2, "in_progress": 2, "submitted": 2, "declined": 1, "withdrawn": 1}
    assert counts.overdue == 2 and counts.total == 8


def test_by_auditor_counts_the_plans_they_hold(db, tracked):
    cycle, anna, ben = tracked
    rows = {row.email: (row.assigned, row.submitted, row.overdue) for row in progress.cycle_progress(db, cycle, on=TODAY).by_auditor}
    assert rows == {anna.email: (4, 1, 2), ben.email: (2, 1, 0)}


def test_the_status_report_is_the_cli_contract(db, tracked):
    cycle, anna, ben = tracked
    assert progress.status_report(db, cycle, on=TODAY) == {
        "cycle": str(cycle.id),
        "assignments": 8,
        "by_status": {"not_started": 2, "in_progress": 2, "submitted": 2, "declined": 1, "withdrawn": 1, "overdue": 2},
        "by_auditor": {anna.email: 4, ben.email: 2},
        "moderation": NONE_OF_KIND,
        "reaudit": NONE_OF_KIND,
    }


def test_the_send_the_plan_checklist_lists_active_unsent_assignments_until_ticked(db, tracked, coordinator):
    cycle, anna, ben = tracked
    checklist = progress.plans_to_send(db, cycle)
    assert [(item.auditor_email, item.system_id) for item in checklist] == [
        (anna.email, "SYS-000000"), (anna.email, "SYS-000001"), (anna.email, "SYS-000002"), (ben.email, "SYS-000004")]
    allocating.mark_plan_sent(db, db.get(Assignment, checklist[0].assignment_id), coordinator)
    ticked = db.get(Assignment, checklist[0].assignment_id)
    assert ticked.plan_sent_at and ticked.plan_sent_by_id == coordinator.id
    assert len(progress.plans_to_send(db, cycle)) == 3 and progress.plans_sent_count(db, cycle) == 1


def test_the_dashboard_runs_a_fixed_number_of_queries_however_many_assignments(app, db, tracked):
    cycle, _, _ = tracked
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        progress.cycle_progress(db, cycle, on=TODAY)
        progress.plans_to_send(db, cycle)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # The counts by status, by auditor (with the overdue ones) and the plans to send.
    assert len([sql for sql in statements if sql.startswith('SELECT')]) == 3, statements


@time_machine.travel("2026-11-02 09:00:00", tick=False)
def test_the_home_page_shows_each_open_cycle_at_a_glance(db, world, tracked, sign_in_as):
    cycle, _anna, _ben = tracked
    make_cycle(db, world.las["other"], name="Westminster autumn")
    closed = make_cycle(db, world.las["own"], name="Summer 2026", status="closed")
    db.commit()

    page = sign_in_as("coordinator").get("/").get_data(as_text=True)

    # Seven assignments count (the withdrawn one was handed on); plans to send are the active ones not yet sent.
    assert f'href="/cycles/{cycle.id}">Autumn 2026: 2 of 7 audits submitted, 2 overdue, 4 plans to send</a>' in page
    assert "Other cycle: 0 of 1 audits submitted, 1 overdue, 1 plan to send" in page
    assert "Westminster autumn" not in page and closed.name not in page


def test_a_manager_sees_progress_without_the_coordinators_checklist(world, tracked, sign_in_as):
    page = sign_in_as("manager").get("/").get_data(as_text=True)
    assert "Autumn 2026: 2 of 7 audits submitted" in page and "to send" not in page


@pytest.fixture
def second_audits(db, tracked):
    """Beside the first audits: three moderation assignments (one submitted, one overdue, one
    handed on) and a re-audit in progress."""
    cycle, anna, ben = tracked
    first = {assignment.plan_id: assignment for assignment in db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id)).all()}
    annas_done, bens_done = (plan_id for plan_id, assignment in first.items() if assignment.status == "submitted")
    for plan_id, auditor, kind, status, due in (
        (annas_done, ben, "moderation", "submitted", date(2026, 10, 20)),
        (bens_done, anna, "moderation", "not_started", date(2026, 10, 30)),  # overdue
        (bens_done, ben, "moderation", "withdrawn", date(2026, 10, 30)),
        (annas_done, ben, "reaudit", "in_progress", date(2026, 11, 20)),
    ):
        make_assignment(db, cycle, db.get(Plan, plan_id), auditor, kind=kind, status=status, due_date=due)
    db.commit()
    return cycle, anna, ben


FIRST_AUDITS = {"not_started": 2, "in_progress": 2, "submitted": 2, "declined": 1, "withdrawn": 1}


def test_completion_counts_the_first_audits_and_moderation_and_reaudits_apart(db, second_audits):
    cycle, anna, ben = second_audits
    counts = progress.cycle_progress(db, cycle, on=TODAY)
    assert (counts.by_status, counts.overdue, counts.total, counts.in_cycle, counts.submitted) == (FIRST_AUDITS, 2, 8, 7, 2)
    assert counts.moderation == progress.KindProgress({"submitted": 1, "not_started": 1, "withdrawn": 1}, overdue=1)
    assert (counts.moderation.submitted, counts.moderation.in_cycle, counts.moderation.unfinished) == (1, 2, 1)
    assert counts.reaudits == progress.KindProgress({"in_progress": 1}, overdue=0)
    rows = {row.email: (row.assigned, row.submitted, row.moderation, row.reaudits, row.overdue) for row in counts.by_auditor}
    # Overdue is work of every kind, as the scheduler chases it.
    assert rows == {anna.email: (4, 1, 1, 0, 3), ben.email: (2, 1, 1, 1, 0)}


def test_the_status_report_puts_moderation_and_reaudits_under_their_own_keys(db, second_audits):
    cycle, anna, ben = second_audits
    assert progress.status_report(db, cycle, on=TODAY) == {
        "cycle": str(cycle.id),
        "assignments": 8,
        "by_status": {**FIRST_AUDITS, "overdue": 2},
        "by_auditor": {anna.email: 4, ben.email: 2},
        "moderation": {"assignments": 3, "by_status": {"submitted": 1, "not_started": 1, "withdrawn": 1, "overdue": 1},
                       "by_auditor": {anna.email: 1, ben.email: 1}},
        "reaudit": {"assignments": 1, "by_status": {"in_progress": 1, "overdue": 0}, "by_auditor": {ben.email: 1}},
    }


@time_machine.travel("2026-11-02 09:00:00", tick=False)
def test_the_cycle_status_command_prints_each_kind_apart(app, runner, db, second_audits):
    cycle, anna, ben = second_audits
    app.cli.add_command(cycle_cli)
    document = json.loads(runner.invoke(args=["cycle", "status", str(cycle.id), "--json"]).stdout)
    assert (document["assignments"], document["moderation"]["assignments"], document["reaudit"]["assignments"]) == (8, 3, 1)
    text = runner.invoke(args=["cycle", "status", str(cycle.id)]).stdout
    first, rest = text.split("Moderation (second audits): ")
    moderation, reaudits = rest.split("Re-audits of amended plans: ")
    assert "First audits of the sampled plans: 8 assignments" in first and "  submitted: 2" in first and "  overdue: 2" in first
    assert f"  {anna.email}: 4" in first
    assert moderation.startswith("3 assignments") and "  submitted: 1" in moderation and "  overdue: 1" in moderation
    assert reaudits.startswith("1 assignments") and "  in progress: 1" in reaudits and f"  {ben.email}: 1" in reaudits


@time_machine.travel("2026-11-02 09:00:00", tick=False)
def test_the_cycle_page_and_home_page_show_completion_of_the_first_audits(db, second_audits, sign_in_as):
    cycle, anna, ben = second_audits
    client = sign_in_as("coordinator")
    page = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert "First audits of the sampled plans by status (8 in all)" in page
    assert "Moderation: 1 of 2 second audits submitted, 1 overdue" in page
    assert "Re-audits of amended plans: 0 of 1 submitted, 0 overdue" in page
    by_auditor = page.split('data-testid="by-auditor"')[1].split("</table>")[0]
    cells = re.findall(r'govuk-table__cell--numeric">(\d+)<', by_auditor)
    assert cells == ["4", "1", "1", "0", "3", "2", "1", "1", "1", "0"]  # Auditor 00, then Auditor 01
    home = client.get("/").get_data(as_text=True)
    assert "Autumn 2026: 2 of 7 audits submitted, 2 overdue" in home


def test_the_weekly_digest_counts_the_first_audits_and_lists_the_others_apart(app, db, second_audits):
    cycle, anna, _ben = second_audits
    weekly_digest_job(get_engine(app), app.config, now=datetime(2026, 11, 2, 8, tzinfo=ENGLAND))
    db.commit()
    digest = db.exec(select(OutboxMessage).where(OutboxMessage.kind == "coordinator_digest",
                                                 col(OutboxMessage.idempotency_key).startswith(f"digest:{cycle.id}:"))).first()
    body = digest.body_text
    assert "First audits of the sampled plans: 7" in body and "Submitted: 2" in body and "Overdue: 2" in body
    assert "Moderation: 1 of 2 second audits submitted, 1 overdue" in body
    assert "Re-audits of amended plans: 0 of 1 submitted, 0 overdue" in body
    # Chasing covers every kind: Anna's overdue moderation is listed with her overdue first audits.
    assert f"{anna.display_name}: 3 (SYS-000000, SYS-000002, SYS-000007)" in body
    assert "Moderation: 1 of 2 second audits submitted, 1 overdue" in digest.body_html


def test_closing_warns_of_unfinished_work_of_every_kind(second_audits, sign_in_as):
    cycle, _anna, _ben = second_audits
    page = sign_in_as("coordinator").get(f"/cycles/{cycle.id}/close").get_data(as_text=True)
    # Four first audits, one moderation and one re-audit not started or in progress.
    assert "6 audits are not finished." in page
