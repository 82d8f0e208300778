"""docs/checks.md#check-8 with demo data: the demo's two LAs go through a term (allocation, a decline with a full
500-character reason, a reassignment, the chase job and the weekly digest) through the real services,
with canary values in every plan column that no email may show. Every email the services queue
passes the privacy guard, and none carries a canary."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
import time_machine
from sqlalchemy import update
from sqlmodel import Session, select

from audit_workflow.clock import ENGLAND
from audit_workflow.cycles.allocating import decline, eligible_auditors, reassign
from audit_workflow.cycles.chasing import chase_job
from audit_workflow.cycles.digest import weekly_digest_job
from audit_workflow.cycles.models import Assignment, AssignmentStatus, AuditCycle
from audit_workflow.db import get_engine, session_scope
from audit_workflow.demo import AUTUMN_CYCLE, load_demo
from audit_workflow.notifications.models import Alert, OutboxMessage
from audit_workflow.notifications.staff_mail import StaffMail
from audit_workflow.plans.models import Plan
from tests.notifications.test_privacy import _decline_reason

MONDAY_IN_TERM = date(2026, 11, 2)
# Plan columns no email may show: who wrote the plan, and the coordinator's flag on it.
CANARIES = {"writer_team": "Canary Writers 7f3a", "flag": "Canary flag 9c1e"}


@pytest.mark.slow
def test_every_email_of_a_demo_term_passes_the_guard_and_shows_no_plan_column_off_the_allow_list(app):
    engine = get_engine(app)
    with time_machine.travel(datetime.combine(MONDAY_IN_TERM, time(8, 0), tzinfo=ENGLAND), tick=False):
        with app.app_context():
            with session_scope(engine) as db:
                load_demo(db, app.config)
                db.execute(update(Plan).values(**CANARIES))
            with session_scope(engine) as db:
                declined, moved = _two_not_started(db)
                mail = StaffMail(db, app.config)
                decline(db, declined, _decline_reason(500), mail)
                reassign(db, moved, eligible_auditors(db, moved)[0].id, actor=None, mail=mail)
            chase_job(engine, app.config)
            weekly_digest_job(engine, app.config)

    with Session(engine) as db:
        messages = db.exec(select(OutboxMessage)).all()
        alerts = db.exec(select(Alert)).all()
    kinds = {message.kind for message in messages}
    assert {"assignment", "reassignment", "decline_receipt", "overdue", "coordinator_digest"} <= kinds
    assert [(message.kind, message.last_error) for message in messages if message.status != "queued"] == []
    assert alerts == []
    for message in messages:
        for canary in CANARIES.values():
            assert canary not in message.subject + message.body_html + message.body_text, message.kind


def _two_not_started(db) -> tuple[Assignment, Assignment]:
    autumn = db.exec(select(AuditCycle).where(AuditCycle.name == AUTUMN_CYCLE)).first()
    first, second = db.exec(
        select(Assignment).where(Assignment.cycle_id == autumn.id, Assignment.status == AssignmentStatus.NOT_STARTED)
        .order_by(Assignment.id)
    ).all()[:2]
    return first, second
