"""The numbers on the cycle dashboard and in `cycle status --json`, counted in SQL."""

from datetime import date

import pytest
import time_machine
from sqlalchemy import event

from audit_workflow.cycles import allocating, progress
from audit_workflow.cycles.models import Assignment
from audit_workflow.db import get_engine
from audit_workflow.plans.models import Plan
from tests.cycles.conftest import add_auditors, add_register
from tests.factories import make_assignment, make_cycle

TODAY = date(2026, 11, 2)


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
