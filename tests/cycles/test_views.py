"""The cycle pages: forms with CSRF on, refusals as a 400 with an error summary, closed cycles
read-only, managers read-only, and auditors declining only their own assignments."""

import io
import re
from datetime import date

import pytest
from sqlmodel import select

from audit_workflow.cycles import plan_sample
from audit_workflow.cycles.models import Assignment, AuditCycle, CycleAuditor, CyclePlan, CycleStatus
from audit_workflow.notifications.models import OutboxMessage
from audit_workflow.plans.models import Plan
from tests.conftest import csrf_token, sign_in
from tests.cycles.conftest import add_auditors, add_register
from tests.factories import make_assignment, make_cycle

CYCLE_FORM = {
    "name": "Autumn 2026", "period_start": ["1", "9", "2026"], "period_end": ["18", "12", "2026"], "target": "10%",
    "strata": ["key_stage", "primary_need"], "due_working_days": "15", "remind_days_before": "2",
    "overdue_interval_days": "3", "escalate_after_days": "5", "reallocate_after_days": "", "moderation_share": "10",
}


def post(client, path, data, token_from=None, prefix=""):
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**data, f"{prefix}csrf_token": token})


def see_committed(db) -> None:
    """End the test session's read snapshot and forget loaded values, to see what requests wrote."""
    db.rollback()
    db.expire_all()


def error_summary(response) -> list[str]:
    html = response.get_data(as_text=True)
    summary = re.search(r'class="govuk-error-summary".*?</ul>', html, re.S)
    assert summary, "no error summary on the page"
    return [re.sub(r"\s+", " ", item).strip() for item in re.findall(r'<a href="#[^"]*">(.*?)</a>', summary.group(0), re.S)]


@pytest.fixture
def coordinator_client(sign_in_as):
    return sign_in_as("coordinator")


def test_a_coordinator_creates_a_cycle(coordinator_client, db, la):
    assert coordinator_client.get("/cycles/new").status_code == 200
    response = post(coordinator_client, "/cycles/new", CYCLE_FORM)
    assert response.status_code == 302
    cycle = db.exec(select(AuditCycle).where(AuditCycle.la_id == la.id)).one()
    assert response.headers["Location"] == f"/cycles/{cycle.id}"
    assert (cycle.name, cycle.period_start, cycle.sample_share, cycle.strata, cycle.reallocate_after_days) == (
        "Autumn 2026", date(2026, 9, 1), 0.1, "key_stage,primary_need", None)
    page = coordinator_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Autumn 2026" in page and "10% of the plans" in page


def test_a_form_without_its_csrf_token_is_refused(coordinator_client, db):
    assert coordinator_client.post("/cycles/new", data=CYCLE_FORM).status_code == 400
    assert db.exec(select(AuditCycle)).all() == []


@pytest.mark.parametrize("changes, message", [
    ({"name": ""}, "Enter a name for the cycle"),
    ({"name": "Section F: provision"},
     "Change the name: it looks like plan text, so every email about this cycle would be stopped by the privacy guard."),
    ({"period_start": ["31", "2", "2026"]}, "Enter the start of the period as a real date, like 1 9 2026"),
    ({"period_end": ["1", "8", "2026"]}, "The end of the period must be the same as or after its start"),
    ({"target": "lots"}, "Enter the target as a number of plans, like 60, or a percentage, like 10%"),
    ({"due_working_days": "fifteen"}, "Enter the number of working days auditors have, like 15"),
    ({"due_working_days": "0"}, "Audits must be due between 1 and 100 working days after allocation"),
])
def test_a_bad_form_is_a_400_with_the_error_summary(coordinator_client, db, changes, message):
    response = post(coordinator_client, "/cycles/new", {**CYCLE_FORM, **changes}, token_from="/cycles/new")
    assert response.status_code == 400
    assert error_summary(response) == [message]
    assert "<title>Error: " in response.get_data(as_text=True)
    assert db.exec(select(AuditCycle)).all() == []


def test_settings_are_changed_on_the_edit_page(coordinator_client, db, la):
    cycle = make_cycle(db, la, status=CycleStatus.DRAFT)
    db.commit()
    page = coordinator_client.get(f"/cycles/{cycle.id}/edit").get_data(as_text=True)
    assert 'value="Autumn 2026"' in page and 'value="10"' in page
    response = post(coordinator_client, f"/cycles/{cycle.id}/edit", {**CYCLE_FORM, "name": "Renamed", "target": "25"})
    assert response.status_code == 302
    see_committed(db)
    assert (cycle.name, cycle.sample_size, cycle.sample_share) == ("Renamed", 25, None)


def test_a_closed_cycle_is_read_only(coordinator_client, db, world, la):
    plan_ids = add_register(db, la, 5)
    cycle = make_cycle(db, la)
    make_assignment(db, cycle, db.get(Plan, plan_ids[0]), world.user("auditor"))
    db.commit()
    page = coordinator_client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert "Close the cycle" in page and "Mark as sent" in page and f"/cycles/{cycle.id}/edit" in page

    assert post(coordinator_client, f"/cycles/{cycle.id}/close", {}).status_code == 302
    see_committed(db)
    assert cycle.status == CycleStatus.CLOSED
    for path in ("", "/sample", "/auditors", "/allocation"):
        page = coordinator_client.get(f"/cycles/{cycle.id}{path}").get_data(as_text=True)
        assert "<form method=\"post\" action=\"/cycles" not in page and "Mark as sent" not in page, path
        assert "Close the cycle" not in page and f"/cycles/{cycle.id}/edit" not in page, path
    assert coordinator_client.get(f"/cycles/{cycle.id}/edit").status_code == 302

    response = post(coordinator_client, f"/cycles/{cycle.id}/edit", CYCLE_FORM, token_from=f"/cycles/{cycle.id}")
    assert response.status_code == 400 and error_summary(response) == ["Autumn 2026 is closed, so it can no longer be changed"]
    response = post(coordinator_client, f"/cycles/{cycle.id}/sample", {"draw-size": "2"}, token_from=f"/cycles/{cycle.id}", prefix="draw-")
    assert response.status_code == 400 and "is closed" in response.get_data(as_text=True)
    assert db.exec(select(CyclePlan)).all() == []


def test_drawing_and_changing_the_sample_on_the_web(coordinator_client, db, la):
    add_register(db, la, 600)
    cycle = make_cycle(db, la, status=CycleStatus.DRAFT)
    cycle.sample_size = 60
    db.commit()
    page = coordinator_client.get(f"/cycles/{cycle.id}/sample").get_data(as_text=True)
    assert "With 60 of 600 plans" in page and "percentage points" in page

    response = post(coordinator_client, f"/cycles/{cycle.id}/sample", {"draw-size": "60", "draw-seed": "42"}, prefix="draw-")
    assert response.status_code == 302
    see_committed(db)
    assert cycle.sample_seed == 42
    page = coordinator_client.get(f"/cycles/{cycle.id}/sample").get_data(as_text=True)
    assert "A sample of 60 plans has been drawn with seed 42." in page
    assert page.count('<th scope="row" class="govuk-table__header">SYS-') == 60

    response = post(coordinator_client, f"/cycles/{cycle.id}/sample", {"draw-size": "601"}, prefix="draw-")
    assert response.status_code == 400 and error_summary(response) == [
        "The sample must be between 1 and 600 plans (the number in the register)"]

    outside = db.exec(select(Plan).where(Plan.id.not_in(select(CyclePlan.plan_id)))).first()
    response = post(coordinator_client, f"/cycles/{cycle.id}/sample/add", {"add-system_id": outside.system_id}, prefix="add-")
    assert response.status_code == 400 and error_summary(response) == ["Enter a reason"]
    response = post(coordinator_client, f"/cycles/{cycle.id}/sample/add",
                    {"add-system_id": outside.system_id, "add-reason": "Parent complaint"}, prefix="add-")
    assert response.status_code == 302
    see_committed(db)
    entry = db.exec(select(CyclePlan).where(CyclePlan.plan_id == outside.id)).one()

    remove = f"/cycles/{cycle.id}/sample/{entry.id}/remove"
    assert outside.system_id in coordinator_client.get(remove).get_data(as_text=True)
    assert post(coordinator_client, remove, {"reason": "Added by mistake"}).status_code == 302
    see_committed(db)
    assert entry.removed_reason == "Added by mistake"
    assert "Added by mistake" in coordinator_client.get(f"/cycles/{cycle.id}/sample").get_data(as_text=True)


def test_the_pool_allocation_and_dashboard_on_the_web(coordinator_client, db, la):
    add_register(db, la, 40)
    auditors = add_auditors(db, la, 4)
    cycle = make_cycle(db, la, status=CycleStatus.DRAFT)
    plan_sample.draw_sample(db, cycle, size=12, seed=3)
    db.commit()

    pool_page = f"/cycles/{cycle.id}/auditors"
    response = post(coordinator_client, pool_page, {"add-auditor": str(auditors[0].id), "add-capacity": "3"}, prefix="add-")
    assert response.status_code == 302
    csv = f"email,capacity\n{auditors[1].email},4\n{auditors[2].email},lots\n".encode()
    token = csrf_token(coordinator_client, pool_page)
    response = coordinator_client.post(f"{pool_page}/import", data={"import-csrf_token": token, "import-file": (io.BytesIO(csv), "pool.csv")},
                                       content_type="multipart/form-data")
    assert response.status_code == 400 and "Row 3: capacity must be a whole number of plans" in response.get_data(as_text=True)
    good = f"email,capacity\n{auditors[1].email},4\n{auditors[2].email},5\n{auditors[3].email},5\n".encode()
    response = coordinator_client.post(f"{pool_page}/import", data={"import-csrf_token": token, "import-file": (io.BytesIO(good), "pool.csv")},
                                       content_type="multipart/form-data")
    assert response.status_code == 302
    assert len(db.exec(select(CycleAuditor).where(CycleAuditor.cycle_id == cycle.id)).all()) == 4

    response = post(coordinator_client, f"/cycles/{cycle.id}/allocation", {"education": "50", "health": "20"})
    assert response.status_code == 400 and error_summary(response) == [
        "The discipline percentages must add up to 100%, or all be left empty"]
    response = post(coordinator_client, f"/cycles/{cycle.id}/allocation", {})
    assert response.status_code == 302
    page = coordinator_client.get(f"/cycles/{cycle.id}/allocation").get_data(as_text=True)
    assert "12 plans have been allocated." in page and 'data-testid="allocation-explanation"' in page

    dashboard = coordinator_client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert "12 plans to send" in dashboard and dashboard.count("Mark as sent") == 12
    see_committed(db)
    first = db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id)).first()
    assert post(coordinator_client, f"/assignments/{first.id}/plan-sent", {}, token_from=f"/cycles/{cycle.id}").status_code == 302
    dashboard = coordinator_client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert "11 plans to send (1 already sent)" in dashboard

    reassign = f"/assignments/{first.id}/reassign"
    assert post(coordinator_client, reassign, {}).status_code == 400
    choice = re.search(r'name="auditor" type="radio" value="([^"]+)"', coordinator_client.get(reassign).get_data(as_text=True)).group(1)
    assert post(coordinator_client, reassign, {"auditor": choice}).status_code == 302
    see_committed(db)
    assert first.status == "withdrawn"
    assert db.exec(select(OutboxMessage).where(OutboxMessage.kind == "reassignment")).one()


def test_managers_read_but_change_nothing(sign_in_as, db, la):
    add_register(db, la, 5)
    cycle = make_cycle(db, la)
    db.commit()
    client = sign_in_as("manager")
    for path in ("/cycles", f"/cycles/{cycle.id}", f"/cycles/{cycle.id}/sample", f"/cycles/{cycle.id}/auditors",
                 f"/cycles/{cycle.id}/allocation"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert "Create a cycle" not in page and "Close the cycle" not in page and 'action="/cycles/' not in page, path
    assert client.get(f"/cycles/{cycle.id}/edit").status_code == 403


def test_an_auditor_declines_their_own_assignment_only(client, db, world, la):
    plans = add_register(db, la, 2)
    colleague = add_auditors(db, la, 1)[0]
    cycle = make_cycle(db, la)
    mine = make_assignment(db, cycle, db.get(Plan, plans[0]), world.user("auditor"))
    theirs = make_assignment(db, cycle, db.get(Plan, plans[1]), colleague)
    db.commit()
    sign_in(client, world.user("auditor"))

    assert client.get(f"/assignments/{theirs.id}/decline").status_code == 404
    page = client.get(f"/assignments/{mine.id}/decline")
    assert page.status_code == 200 and "SYS-000000" in page.get_data(as_text=True)
    response = post(client, f"/assignments/{mine.id}/decline", {"reason": ""})
    assert response.status_code == 400 and error_summary(response) == ["Enter a reason"]
    assert post(client, f"/assignments/{mine.id}/decline", {"reason": "I know the family"}).status_code == 302
    see_committed(db)
    assert (mine.status, mine.decline_reason) == ("declined", "I know the family")
    assert post(client, f"/assignments/{theirs.id}/decline", {"reason": "x"}, token_from="/").status_code == 404
