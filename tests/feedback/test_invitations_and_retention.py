"""Contacts, invitations and the one reminder through the outbox, and deleting contacts at the
cycle's retention date. The database is inspected table by table: no token in clear anywhere
but the email itself (until the mail purge), and no contact after its retention date."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

from audit_workflow.clock import utcnow
from audit_workflow.cycles.models import AssignmentKind, AssignmentStatus
from audit_workflow.db import get_engine
from audit_workflow.feedback import service
from audit_workflow.feedback.jobs import feedback_invite_job, feedback_purge_job
from audit_workflow.feedback.models import FeedbackContact, FeedbackInvitation, FeedbackLink
from audit_workflow.feedback.rules import FeedbackSettings, parse_contacts
from audit_workflow.notifications.models import OutboxMessage
from audit_workflow.notifications.service import purge_expired
from audit_workflow.plans.models import Plan
from tests.factories import make_assignment
from tests.feedback.helpers import NOW, feedback_cycle, sampled_plan

CONFIG = {"BASE_URL": "https://audit.example", "SERVICE_NAME": "EHCP audit", "FEEDBACK_CONTACT_RETENTION_DAYS": 90}
TOKEN_IN_LINK = re.compile(r"/feedback/(?:start|stop)/([A-Za-z0-9_-]{43})")


@pytest.fixture
def cycle(db, world):
    la = world.las["own"]
    cycle = feedback_cycle(db, la)
    auditor = world.user("auditor")
    sampled_plan(db, cycle, la, "FB-0001", auditor=auditor, submitted_at=NOW - timedelta(days=6))
    sampled_plan(db, cycle, la, "FB-0002", auditor=auditor, submitted_at=NOW - timedelta(days=1))
    sampled_plan(db, cycle, la, "FB-0003", auditor=auditor)
    coordinator = world.user("coordinator")
    service.add_contact(db, cycle, "FB-0001", "parent_carer", "Family.One@example.org", "07700 900123", coordinator)
    service.add_contact(db, cycle, "FB-0001", "setting", "senco@school.example", None, coordinator)
    service.add_contact(db, cycle, "FB-0002", "parent_carer", "family.two@example.org", None, coordinator)
    service.add_contact(db, cycle, "FB-0003", "parent_carer", "family.three@example.org", None, coordinator)
    db.commit()
    return cycle


def _messages(db, kind=None):
    query = select(OutboxMessage).where(OutboxMessage.kind.startswith("feedback_"))
    return db.exec(query.where(OutboxMessage.kind == kind) if kind else query).all()


def test_invitations_go_only_after_the_audit_is_submitted_long_enough_and_only_once(db, cycle):
    sent = service.send_due_invitations(db, service.mail_settings(CONFIG), NOW)
    again = service.send_due_invitations(db, service.mail_settings(CONFIG), NOW)

    assert sent == {"invitations": 2, "reminders": 0} and again == {"invitations": 0, "reminders": 0}
    invitations = _messages(db, "feedback_invitation")
    assert sorted(json.loads(m.recipients)[0] for m in invitations) == ["family.one@example.org", "senco@school.example"]
    body = invitations[0].body_text
    assert "/feedback/start/" in body and "/feedback/stop/" in body  # the opt-out link
    assert "FB-0001" not in body


def test_one_address_is_invited_once_per_cycle_even_for_two_plans(db, world, cycle):
    sampled_plan(db, cycle, world.las["own"], "FB-0004", auditor=world.user("auditor"), submitted_at=NOW - timedelta(days=9))
    service.add_contact(db, cycle, "FB-0004", "parent_carer", "family.one@example.org", None, None)

    service.send_due_invitations(db, service.mail_settings(CONFIG), NOW)

    to = [json.loads(m.recipients)[0] for m in _messages(db, "feedback_invitation")]
    assert to.count("family.one@example.org") == 1


def test_a_re_audit_neither_invites_a_family_again_nor_invites_before_the_first_audit(db, world, cycle):
    """Only a plan's first audit counts: a re-audit submitted later (an action's, as in the demo)
    sends nothing more, and one alone does not start the invitations."""
    service.send_due_invitations(db, service.mail_settings(CONFIG), NOW)
    plans = {plan.system_id: plan for plan in db.exec(select(Plan).where(Plan.system_id.in_(("FB-0001", "FB-0003")))).all()}
    for system_id in plans:
        make_assignment(db, cycle, plans[system_id], world.user("auditor"), kind=AssignmentKind.REAUDIT,
                        status=AssignmentStatus.SUBMITTED, submitted_at=NOW - timedelta(days=8))

    again = service.send_due_invitations(db, service.mail_settings(CONFIG), NOW + timedelta(days=1))

    assert again["invitations"] == 0
    assert sorted(json.loads(m.recipients)[0] for m in _messages(db, "feedback_invitation")) == [
        "family.one@example.org", "senco@school.example"]


def test_one_reminder_goes_to_those_who_have_not_answered(db, cycle):
    service.send_due_invitations(db, service.mail_settings(CONFIG), NOW)
    answered = db.exec(select(FeedbackInvitation).where(FeedbackInvitation.respondent_type == "setting")).one()
    answered.answered_at = NOW + timedelta(days=1)
    db.add(answered)

    later = NOW + timedelta(days=FeedbackSettings().remind_after_days)
    first = service.send_due_invitations(db, service.mail_settings(CONFIG), later)
    second = service.send_due_invitations(db, service.mail_settings(CONFIG), later + timedelta(days=3))

    assert first["reminders"] == 1 and second["reminders"] == 0
    reminders = _messages(db, "feedback_reminder")
    assert [json.loads(m.recipients) for m in reminders] == [["family.one@example.org"]]


def test_the_invite_job_reports_what_it_queued(app, db, cycle):
    outcome = feedback_invite_job(get_engine(app), {**app.config, **CONFIG}, now=NOW)
    assert outcome.summary == "Feedback invitations 2, reminders 0"


def test_contacts_refuse_plans_outside_the_sample_and_bad_addresses(db, cycle):
    with pytest.raises(service.FeedbackError, match="in this cycle's sample"):
        service.add_contact(db, cycle, "NOT-SAMPLED", "parent_carer", "a@example.org", None, None)
    with pytest.raises(service.FeedbackError, match="email address"):
        service.add_contact(db, cycle, "FB-0001", "parent_carer", "not an address", None, None)
    with pytest.raises(service.FeedbackError, match="mobile"):
        service.add_contact(db, cycle, "FB-0001", "parent_carer", "a@example.org", "12345", None)


def test_a_contact_file_with_names_is_refused_and_problems_name_their_line():
    assert parse_contacts("system_id,respondent_type,email,child_name\nX,parent_carer,a@b.org,Jo\n")[1] == [
        "The file has a name column. Remove it: the service never holds names."]
    rows, problems = parse_contacts("system_id,respondent_type,email,mobile\nFB-1,parent_carer,a@b.org,\nFB-2,aunt,nope,\n")
    assert len(rows) == 2
    assert problems == ["Line 3: who to ask must be one of parent_carer, young_person, setting",
                        "Line 3: enter an email address like name@example.com"]


def test_an_upload_is_all_or_nothing(db, cycle):
    rows, _ = parse_contacts("system_id,respondent_type,email\nFB-0002,young_person,yp@example.org\nMISSING,parent_carer,x@example.org\n")
    with pytest.raises(service.FeedbackError, match="Line 3"):
        service.import_contacts(db, cycle, rows, None)
    db.rollback()
    assert db.exec(select(FeedbackContact).where(FeedbackContact.email == "yp@example.org")).first() is None


def _every_text_value(db) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text column of every row of every table."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        columns = list(table.columns)
        for row in db.execute(sa_select(*columns)).all():
            found += [(table.name, column.name, value) for column, value in zip(columns, row) if isinstance(value, str)]
    return found


def test_no_table_holds_a_token_in_clear_except_the_email_until_the_mail_purge(db, cycle):
    service.send_due_invitations(db, service.mail_settings(CONFIG), NOW)
    tokens = {token for m in _messages(db) for token in TOKEN_IN_LINK.findall(m.body_text)}
    assert len(tokens) == 4  # an answer link and an opt-out link per invitation
    assert len(db.exec(select(FeedbackLink)).all()) == 4

    holders = {(table, column) for table, column, value in _every_text_value(db) for token in tokens if token in value}
    assert holders == {("outbox_message", "body_text"), ("outbox_message", "body_html")}

    db.execute(OutboxMessage.__table__.update().values(status="sent"))
    purge_expired(db, utcnow() + timedelta(days=8), retention_days=7)  # the outbox stamps its rows with the real clock
    assert not [value for _table, _column, value in _every_text_value(db) for token in tokens if token in value]


def test_no_contact_is_left_after_the_cycles_retention_date(app, db, cycle):
    service.send_due_invitations(db, service.mail_settings(CONFIG), NOW)
    cycle.status, cycle.closed_at = "closed", NOW
    db.add(cycle)
    db.commit()
    addresses = ["family.one@example.org", "senco@school.example", "family.two@example.org", "family.three@example.org",
                 "07700900123"]
    engine, config = get_engine(app), {**app.config, **CONFIG}

    before = feedback_purge_job(engine, config, now=NOW + timedelta(days=89))
    assert before.summary == "Deleted 0 feedback contacts and 0 links"

    after = feedback_purge_job(engine, config, now=NOW + timedelta(days=90))
    assert after.summary == "Deleted 4 feedback contacts and 4 links"
    assert feedback_purge_job(engine, config, now=NOW + timedelta(days=91)).summary == "Deleted 0 feedback contacts and 0 links"

    db.expire_all()
    feedback_tables = [(t, c, v) for t, c, v in _every_text_value(db) if t != "outbox_message"]
    assert not [v for _t, _c, v in feedback_tables for address in addresses if address in v]
    invitations = db.exec(select(FeedbackInvitation)).all()
    assert len(invitations) == 2 and all(i.recipient_hash is None and i.contact_id is None for i in invitations)


def test_a_token_the_privacy_guard_would_read_as_personal_data_is_drawn_again(monkeypatch):
    from audit_workflow.feedback import rules

    drawn = iter(["Kq3Vt7mJ0xWc9Lr2bN5s-aged12-8yFp1aGe4uZo6iTn0vX", "Zr8pQ2wNc5Hx1Ld7Kf3Vb9Tm4Ya6Gj0sUe2Ri5Wo8qE"])
    monkeypatch.setattr(rules.secrets, "token_urlsafe", lambda size: next(drawn))

    assert rules.new_token() == "Zr8pQ2wNc5Hx1Ld7Kf3Vb9Tm4Ya6Gj0sUe2Ri5Wo8qE"
