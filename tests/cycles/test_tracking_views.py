"""The coordinator's tracking pages: the dashboard's counts lead to lists by status and by auditor,
each assignment links to its audit, and the reminder calendar shows who is chased when."""

import re
from datetime import date

import pytest
import time_machine

from audit_workflow.audits.service import start_audit
from audit_workflow.cycles.models import AssignmentStatus, CycleStatus
from audit_workflow.plans.models import Plan
from tests.conftest import csrf_token
from tests.cycles.conftest import add_auditors, add_register
from tests.factories import make_assignment, make_cycle

TODAY = "2026-11-02 09:00:00"  # a Monday


def system_ids(page: str) -> list[str]:
    table = re.search(r'data-testid="assignments".*?</table>', page, re.S)
    rows = re.findall(r'<th scope="row" class="govuk-table__header">(.*?)</th>', table.group(0), re.S) if table else []
    return [re.search(r"SYS-\d{6}", row).group(0) for row in rows]


@pytest.fixture
def tracked(db, la, world):
    """A cycle with an assignment in each status, for two auditors; the first one's audit started."""
    plans = [db.get(Plan, plan_id) for plan_id in add_register(db, la, 6)]
    anna, ben = add_auditors(db, la, 2)
    cycle = make_cycle(db, la)
    started = make_assignment(db, cycle, plans[0], anna, due_date=date(2026, 11, 20))
    audit = start_audit(db, started, anna)
    make_assignment(db, cycle, plans[1], anna, due_date=date(2026, 10, 30))  # overdue
    make_assignment(db, cycle, plans[2], ben, status=AssignmentStatus.SUBMITTED, due_date=date(2026, 10, 30))
    make_assignment(db, cycle, plans[3], ben, status=AssignmentStatus.DECLINED, decline_reason="I know the family")
    make_assignment(db, cycle, plans[4], ben, due_date=date(2026, 11, 20))
    db.commit()
    return cycle, anna, ben, audit


@time_machine.travel(TODAY, tick=False)
def test_the_dashboard_counts_lead_to_the_lists_by_status_and_by_auditor(sign_in_as, tracked):
    cycle, anna, ben, audit = tracked
    client = sign_in_as("coordinator")
    dashboard = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    for status in ("not_started", "in_progress", "submitted", "overdue", "declined"):
        assert f'href="/cycles/{cycle.id}/assignments?status={status}"' in dashboard, status
    assert f'href="/cycles/{cycle.id}/assignments?auditor={anna.id}"' in dashboard
    assert f'href="/cycles/{cycle.id}/calendar"' in dashboard

    expected = {
        None: ["SYS-000000", "SYS-000001", "SYS-000002", "SYS-000003", "SYS-000004"],
        "not_started": ["SYS-000001", "SYS-000004"],
        "in_progress": ["SYS-000000"],
        "submitted": ["SYS-000002"],
        "overdue": ["SYS-000001"],
        "declined": ["SYS-000003"],
        "withdrawn": [],
    }
    for status, wanted in expected.items():
        response = client.get(f"/cycles/{cycle.id}/assignments", query_string={"status": status} if status else {})
        assert response.status_code == 200 and system_ids(response.get_data(as_text=True)) == wanted, status
    declined = client.get(f"/cycles/{cycle.id}/assignments?status=declined").get_data(as_text=True)
    assert "Declined assignments" in declined and "I know the family" in declined

    page = client.get(f"/cycles/{cycle.id}/assignments?auditor={ben.id}&status=not_started").get_data(as_text=True)
    assert system_ids(page) == ["SYS-000004"] and f"Not started assignments of {ben.display_name}" in page


@time_machine.travel(TODAY, tick=False)
def test_filters_that_are_not_real_are_ignored(sign_in_as, tracked, world):
    cycle, _, _, _ = tracked
    client = sign_in_as("coordinator")
    everything = system_ids(client.get(f"/cycles/{cycle.id}/assignments").get_data(as_text=True))
    for query in ("status=<script>", "auditor=nonsense", f"auditor={world.user('auditor', 'other').id}", "status=&auditor="):
        response = client.get(f"/cycles/{cycle.id}/assignments?{query}")
        assert response.status_code == 200 and system_ids(response.get_data(as_text=True)) == everything, query
        assert "<script>" not in response.get_data(as_text=True)


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize("role", ["coordinator", "manager"])
def test_a_started_assignment_links_to_its_audit(sign_in_as, tracked, role):
    cycle, _, _, audit = tracked
    client = sign_in_as(role)
    link = f'href="/audits/{audit.id}"'
    for path in (f"/cycles/{cycle.id}/assignments", f"/cycles/{cycle.id}/allocation"):
        page = client.get(path).get_data(as_text=True)
        assert page.count(link) == 1, path
        assert page.count('href="/audits/') == 1, path  # nobody else has started
    assert client.get(f"/audits/{audit.id}").status_code == 302  # the link leads somewhere they may go


@time_machine.travel(TODAY, tick=False)
def test_the_reminder_calendar_shows_who_is_chased_with_what_and_when(sign_in_as, tracked):
    cycle, anna, ben, _ = tracked
    client = sign_in_as("coordinator")
    page = client.get(f"/cycles/{cycle.id}/calendar").get_data(as_text=True)
    calendar = re.search(r'data-testid="chase-calendar".*?</table>', page, re.S).group(0)
    rows = re.findall(r'<time datetime="([\d-]+)">.*?</time></td>\s*<td class="govuk-table__cell">([^<]+)</td>\s*'
                      r'<td class="govuk-table__cell">([^<]+)</td>', calendar)
    # Active ones only: Anna's two and Ben's not started one, each with a reminder, due, overdue and escalation emails;
    # from today on, as a day that has passed is no longer planned (Anna's reminder on 28 October).
    assert ("2026-10-28", "Reminder to the auditor", anna.email) not in rows and "2026-10-28" not in page
    assert min(day for day, _, _ in rows) >= "2026-11-02"
    assert ("2026-11-20", "Due today, to the auditor", anna.email) in rows
    assert ("2026-11-20", "Due today, to the auditor", ben.email) in rows
    assert ("2026-11-06", "Escalation to the coordinators", anna.email) in rows
    assert {email for _, _, email in rows} == {anna.email, ben.email}
    # Anna's overdue one was due on 30 October, before today: its "due today" email is not planned any more.
    assert sum(1 for _, kind, _ in rows if kind.startswith("Due today")) == 2
    assert f"{len(rows)} emails planned" in page


def test_a_due_date_beyond_the_bank_holiday_data_is_a_warning_not_an_error(sign_in_as, db, la, world):
    plan = db.get(Plan, add_register(db, la, 1)[0])
    cycle = make_cycle(db, la)
    make_assignment(db, cycle, plan, world.user("auditor"), due_date=date(2045, 1, 9))
    db.commit()
    response = sign_in_as("coordinator").get(f"/cycles/{cycle.id}/calendar")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The calendar cannot be worked out: 2045-01-" in page and "upgrade the govuk-bank-holidays package" in page


def test_a_cycle_that_is_not_open_plans_no_reminders(sign_in_as, db, la, world):
    plan = db.get(Plan, add_register(db, la, 1)[0])
    cycle = make_cycle(db, la, status=CycleStatus.CLOSED)
    make_assignment(db, cycle, plan, world.user("auditor"))
    db.commit()
    page = sign_in_as("manager").get(f"/cycles/{cycle.id}/calendar").get_data(as_text=True)
    assert "This cycle is closed, so none are planned." in page and "<table" not in page


@pytest.fixture
def closed_assignment(db, la, world):
    plan = db.get(Plan, add_register(db, la, 1)[0])
    cycle = make_cycle(db, la, status=CycleStatus.CLOSED)
    assignment = make_assignment(db, cycle, plan, world.user("auditor"))
    db.commit()
    return assignment


def test_reassigning_in_a_closed_cycle_shows_no_form(sign_in_as, closed_assignment):
    response = sign_in_as("coordinator").get(f"/assignments/{closed_assignment.id}/reassign")
    assert response.status_code == 302 and response.headers["Location"] == f"/cycles/{closed_assignment.cycle_id}"


def test_declining_in_a_closed_cycle_shows_no_form_and_is_refused(sign_in_as, closed_assignment):
    assignment = closed_assignment
    auditor = sign_in_as("auditor")
    page = auditor.get(f"/assignments/{assignment.id}/decline").get_data(as_text=True)
    assert "Autumn 2026 is closed, so its audits can no longer be declined." in page and "<textarea" not in page
    token = csrf_token(auditor, "/")
    response = auditor.post(f"/assignments/{assignment.id}/decline", data={"reason": "away", "csrf_token": token})
    assert response.status_code == 400 and "is closed, so it can no longer be changed" in response.get_data(as_text=True)
