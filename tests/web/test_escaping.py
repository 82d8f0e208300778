"""Text people type or import reaches pages only as text: markup in any of it (a cycle name, a System
ID, a reason, a comment, a file name) is shown escaped wherever it appears, success banners
included, and never becomes a live link for the next person who reads it."""

from __future__ import annotations

import io
import re

from markupsafe import escape
from sqlmodel import select

from audit_workflow.audits.models import Audit
from audit_workflow.audits.service import submit_audit
from audit_workflow.auth.service import create_user
from audit_workflow.cycles.models import Assignment, AssignmentStatus, AuditCycle, CyclePlan
from audit_workflow.framework import default_framework
from audit_workflow.notifications.models import Alert, OutboxMessage
from audit_workflow.plans.models import Plan
from tests.audits.test_service import band_ticks, fast_password_hashing, save_all  # noqa: F401
from tests.conftest import TEST_PASSWORD_HASH, csrf_token, sign_in
from tests.cycles.conftest import as_csv
from tests.factories import make_cycle

LIVE_MARKUP = "<img src=x"


def markup(field: str) -> str:
    """Text that is an image with a script if a page takes it as HTML (no "/", so it can be a file's name)."""
    return f"<img src=x onerror=alert(1) alt={field}>{field}"


# No "system": a System ID with markup is refused at import (letters, digits, "-" and "/" only).
FIELDS = ("la", "file", "column", "setting", "team", "cycle", "added", "removed", "auditor", "auditor_team",
          "decline", "comment", "reopen", "alert")


class Reader:
    """A signed-in browser that keeps every page it was shown, redirects followed."""

    def __init__(self, app, user):
        self.client = app.test_client()
        sign_in(self.client, user)
        self.pages: list[tuple[str, str]] = []

    def get(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        html = response.get_data(as_text=True)
        self.pages.append((path, html))
        return html

    def post(self, path: str, data: dict, token_from: str | None = None, prefix: str = "") -> str:
        token = csrf_token(self.client, token_from or path)
        response = self.client.post(path, data={**data, f"{prefix}csrf_token": token})
        assert response.status_code == 302, (path, response.status_code, re.findall(
            r'govuk-error-summary__list">(.*?)</ul>', response.get_data(as_text=True), re.S))
        return self.get(response.headers["Location"])


def test_markup_in_every_typed_or_imported_text_is_shown_escaped_everywhere(app, db, world, fast_password_hashing):  # noqa: F811
    la = world.las["own"]
    la.name = markup("la")
    first, second = world.user("auditor"), create_user(db, la.id, "second@886.example.gov.uk", "Second Auditor", "auditor",
                                                       discipline="health", team="Team Health")
    first.display_name, first.team = markup("auditor"), markup("auditor_team")
    second.password_hash = TEST_PASSWORD_HASH
    db.add_all([la, first, second])
    db.commit()
    coordinator = Reader(app, world.user("coordinator"))

    # The register, by upload: a setting name and writing team, the file's name and a column not used.
    rows = [["SYS-1", "KS2", markup("setting"), "mainstream_maintained", "ASD", "annual_review", markup("team"), "x"],
            ["SYS-2", "KS3", "Oak", "special_maintained", "SEMH", "annual_review", "SEN North", "x"]]
    headings = ("System ID", "Key stage", "Setting name", "Setting type", "Primary need", "Plan type", "Writer team", markup("column"))
    coordinator.post("/plans/import", {"file": (io.BytesIO(as_csv(rows, headings)), markup("file") + ".csv")})

    # A cycle, its sample by hand (one plan added, one added and removed), a pool, opening and allocation.
    coordinator.post("/cycles/new", {
        "name": markup("cycle"), "period_start": ["1", "9", "2026"], "period_end": ["18", "12", "2026"], "target": "",
        "due_working_days": "15", "remind_days_before": "2", "overdue_interval_days": "3", "escalate_after_days": "5",
        "reallocate_after_days": "", "moderation_share": "0"})
    cycle = db.exec(select(AuditCycle).where(AuditCycle.la_id == la.id)).one()
    plan = db.exec(select(Plan).where(Plan.system_id == "SYS-1")).one()
    sample = f"/cycles/{cycle.id}/sample"
    coordinator.post(f"{sample}/add", {"add-system_id": "SYS-1", "add-reason": markup("added")}, sample, prefix="add-")
    coordinator.post(f"{sample}/add", {"add-system_id": "SYS-2", "add-reason": "Needed"}, sample, prefix="add-")
    second_entry = next(entry for entry in cycle_plans(db, cycle) if entry.plan_id != plan.id)
    remove = f"{sample}/{second_entry.id}/remove"
    coordinator.post(remove, {"reason": markup("removed")})
    pool = f"/cycles/{cycle.id}/auditors"
    coordinator.post(pool, {"add-auditor": str(first.id), "add-capacity": "5"}, prefix="add-")
    coordinator.post(f"/cycles/{cycle.id}/open", {}, f"/cycles/{cycle.id}")
    allocation = f"/cycles/{cycle.id}/allocation"
    coordinator.post(allocation, {})
    assignment = live_assignment(db, plan)
    coordinator.post(f"/assignments/{assignment.id}/plan-sent", {}, f"/cycles/{cycle.id}")

    # The first auditor declines with a reason; the plan goes to the second, who is replaced by a third.
    first_reader = Reader(app, first)
    first_reader.get("/my-audits")
    first_reader.post(f"/assignments/{assignment.id}/decline", {"reason": markup("decline")})
    coordinator.post(pool, {"add-auditor": str(second.id), "add-capacity": "5"}, prefix="add-")
    coordinator.post(allocation, {})
    db.rollback()  # end the test's read, so its writes come after the requests'
    third = create_user(db, la.id, "third@886.example.gov.uk", "Third Auditor", "auditor", discipline="other", team="Team Other")
    third.password_hash = TEST_PASSWORD_HASH
    db.commit()
    coordinator.post(pool, {"add-auditor": str(third.id), "add-capacity": "5"}, prefix="add-")
    coordinator.post(f"/assignments/{live_assignment(db, plan).id}/reassign", {"auditor": str(third.id)})

    # The third auditor comments on a section and submits; the coordinator reopens the audit with a reason.
    third_reader = Reader(app, third)
    third_reader.get("/my-audits")
    third_reader.post(f"/assignments/{live_assignment(db, plan).id}/audit", {}, "/my-audits")
    audit = db.exec(select(Audit).where(Audit.assignment_id == live_assignment(db, plan).id)).one()
    ticks = band_ticks(default_framework())
    save_all(db, audit, third, ticks)
    db.commit()
    section = f"/audits/{audit.id}/sections/A"
    third_reader.post(section, {"criteria": ticks["A"], "comment": markup("comment"), "save_for_later": "x"})
    db.rollback()
    submit_audit(db, db.get(Audit, audit.id), third)
    db.add(Alert(la_id=la.id, audience="coordinator", kind="blocked", message=markup("alert")))
    db.commit()
    coordinator.post(f"/audits/{audit.id}/reopen", {"reason": markup("reopen")})

    # Every page that shows any of it, to everyone who may read it.
    for path in ("/", "/plans", "/plans/import", "/cycles", f"/cycles/{cycle.id}", sample, pool, allocation,
                 f"/cycles/{cycle.id}/assignments", f"/cycles/{cycle.id}/calendar", f"/audits/{audit.id}/summary",
                 section, "/alerts"):
        coordinator.get(path)
    for path in ("/", "/my-audits", f"/assignments/{assignment.id}/decline"):
        first_reader.get(path)
    for path in ("/", "/my-audits", section, f"/audits/{audit.id}/summary"):
        third_reader.get(path)
    admin = Reader(app, world.user("admin"))
    for path in ("/outbox", "/alerts", "/admin/scheduler", "/dev/mailbox"):
        admin.get(path)
    for message in db.exec(select(OutboxMessage)).all():
        admin.get(f"/outbox/{message.id}")
    Reader(app, world.user("manager")).get("/")

    pages = coordinator.pages + first_reader.pages + third_reader.pages + admin.pages
    live = [path for path, html in pages if LIVE_MARKUP in html]
    assert live == [], f"text became markup on {live}"
    shown = {field for field in FIELDS if any(str(escape(markup(field))) in html for _, html in pages)}
    assert shown == set(FIELDS)
    banners = " ".join(banner for _, html in pages for banner in re.findall(r'govuk-notification-banner__content">(.*?)</div>', html, re.S))
    for field in ("file", "column", "cycle", "auditor"):  # in a success message, as text
        assert str(escape(markup(field))) in banners, field
    assert '<a class="govuk-notification-banner__link" href="/cycles/' in banners  # a link a message needs, from the layout


def cycle_plans(db, cycle) -> list[CyclePlan]:
    db.rollback()
    db.expire_all()
    return db.exec(select(CyclePlan).where(CyclePlan.cycle_id == cycle.id, CyclePlan.removed_at.is_(None))).all()


def live_assignment(db, plan) -> Assignment:
    db.rollback()
    db.expire_all()
    return db.exec(select(Assignment).where(Assignment.plan_id == plan.id, Assignment.status.in_(
        [AssignmentStatus.NOT_STARTED, AssignmentStatus.IN_PROGRESS]))).one()


def test_markup_in_a_refused_file_is_shown_escaped_where_its_problems_are_listed(app, db, world, fast_password_hashing):  # noqa: F811
    cycle = make_cycle(db, world.las["own"])
    db.commit()
    coordinator = app.test_client()
    sign_in(coordinator, world.user("coordinator"))
    register = as_csv([["SYS-1", markup("key_stage"), "Oak", "mainstream_maintained", "ASD", "annual_review", "SEN North"]])
    pool = f"email,capacity\n{markup('email')},5\n".encode()
    # An unknown key stage leads to the page where each unknown value is mapped; a bad pool row is refused.
    mapping = coordinator.post("/plans/import", data={"file": (io.BytesIO(register), "register.csv"),
                                                      "csrf_token": csrf_token(coordinator, "/plans/import")},
                               follow_redirects=True)
    refused = coordinator.post(f"/cycles/{cycle.id}/auditors/import", data={
        "import-file": (io.BytesIO(pool), "pool.csv"), "import-csrf_token": csrf_token(coordinator, f"/cycles/{cycle.id}/auditors")})
    for response, status in ((mapping, 200), (refused, 400)):  # the value is quoted (cut short if long)
        html = response.get_data(as_text=True)
        assert response.status_code == status and LIVE_MARKUP not in html
        assert str(escape(LIVE_MARKUP)) in html
