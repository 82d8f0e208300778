"""Demo feedback, through the real services: the closed cycle's families, young people and
schools were invited after its audits and many answered (some on the phone with a forum
volunteer), so the results page has real numbers; the open cycle's invitations wait in the
development mailbox with working links. Idempotent: every choice is seeded by the plan."""

from __future__ import annotations

import random
from typing import Any, Mapping
from datetime import datetime, timedelta

from sqlmodel import Session, select

from ..auth.models import Role, User
from ..auth.service import create_user
from ..authorities.models import LocalAuthority
from ..clock import utcnow
from ..cycles.models import Assignment, AssignmentKind, AssignmentStatus, AuditCycle
from ..audits.models import Audit
from ..plans.models import Plan
from . import service
from .models import FeedbackInvitation
from .questionnaire import ANSWERS
from .rules import FeedbackSettings

ALL_TYPES = ("parent_carer", "young_person", "setting")
# Who answers, by kind: national surveys see a few per cent; a demo needs enough to show.
ANSWER_SHARE = {"parent_carer": 0.5, "young_person": 0.6, "setting": 0.8}
# How a family tends to answer, by the plan's grade: better plans, warmer answers.
LEANING = {"outstanding": (5, 4, 1, 0, 0, 1), "good": (3, 5, 2, 1, 0, 1),
           "requires_improvement": (1, 3, 3, 3, 1, 1), "inadequate": (0, 1, 2, 4, 3, 1)}


def ensure_feedback_demo(db: Session, config: Mapping[str, Any], la: LocalAuthority, prefix: str, password: str,
                         closed_name: str, open_name: str) -> None:
    """Feedback for the demo's closed and open cycles, named (other demos add cycles of their own)."""
    volunteer = _volunteer(db, la, prefix, password)
    by_name = {cycle.name: cycle for cycle in db.exec(select(AuditCycle).where(AuditCycle.la_id == la.id)).all()}
    if closed_name not in by_name or open_name not in by_name:
        return
    closed, open_ = by_name[closed_name], by_name[open_name]
    mail = service.mail_settings(config)
    for cycle, invite_after in ((closed, 5), (open_, 0)):
        # Contacts are collected once, when feedback is turned on: the actions demo, which runs
        # later, submits more first audits in the open cycle, and contacts for those on a second
        # run would bring new invitations.
        if not cycle.feedback_enabled:
            cycle.feedback_enabled = True  # the cycle form's setting; the demo's cycles are made before it
            service.save_settings(db, cycle, FeedbackSettings(ALL_TYPES, invite_after_days=invite_after))
            _contacts(db, cycle, prefix)
    # The closed cycle's invitations went out in its term, a week after its audits were submitted.
    submitted = max(a.submitted_at for a in _submitted(db, closed))
    service.send_due_invitations(db, mail, submitted + timedelta(days=7))
    _answers(db, closed, volunteer, submitted + timedelta(days=10))
    service.send_due_invitations(db, mail, utcnow())


def _volunteer(db: Session, la: LocalAuthority, prefix: str, password: str) -> User:
    email = f"volunteer1@{prefix.lower()}.demo.example"
    return db.exec(select(User).where(User.email == email)).first() or create_user(
        db, la.id, email, "Demo forum volunteer 1", Role.VOLUNTEER.value, team="Parent carer forum", password=password)


def _submitted(db: Session, cycle: AuditCycle) -> list[Assignment]:
    """The cycle's submitted first audits, in a fixed order (re-audits that other demos add later
    must not change what a second run does)."""
    return db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id, Assignment.kind == AssignmentKind.PRIMARY,
                                            Assignment.status == AssignmentStatus.SUBMITTED).order_by(Assignment.id)).all()


def _contacts(db: Session, cycle: AuditCycle, prefix: str) -> None:
    domain = f"{prefix.lower()}.demo.example"
    for assignment in _submitted(db, cycle):
        plan = db.get(Plan, assignment.plan_id)
        rng = random.Random(plan.system_id)
        number = plan.system_id.split("-")[-1]
        service.add_contact(db, cycle, plan.system_id, "parent_carer", f"family-{number}@families.{domain}",
                            f"07700 9{number[-5:]}" if rng.random() < 0.5 else None, None)
        if plan.key_stage not in ("EY", "KS1") and rng.random() < 0.7:
            service.add_contact(db, cycle, plan.system_id, "young_person", f"yp-{number}@families.{domain}", None, None)
        if plan.setting_name:
            school = plan.setting_name.lower().replace(" ", "-")
            service.add_contact(db, cycle, plan.system_id, "setting", f"senco@{school}.{domain}", None, None)


def _answers(db: Session, cycle: AuditCycle, volunteer: User, at: datetime) -> None:
    grades = dict(db.exec(select(Assignment.plan_id, Audit.overall_grade).join(Audit, Audit.assignment_id == Assignment.id)
                          .where(Assignment.cycle_id == cycle.id)).all())
    invitations = db.exec(select(FeedbackInvitation).where(FeedbackInvitation.cycle_id == cycle.id,
                                                           FeedbackInvitation.answered_at.is_(None),
                                                           FeedbackInvitation.invited_at <= at)).all()
    for invitation in invitations:
        plan = db.get(Plan, invitation.plan_id)
        rng = random.Random(f"{plan.system_id}:{invitation.respondent_type}")
        if rng.random() >= ANSWER_SHARE[invitation.respondent_type]:
            continue
        helped = volunteer if invitation.respondent_type == "parent_carer" and rng.random() < 0.2 else None
        _token, visit = service.start_visit(db, invitation, "answer", at, helped_by=helped)
        leaning = LEANING.get(grades.get(invitation.plan_id) or "good", LEANING["good"])
        for question in service.describe_visit(db, visit).questionnaire.questions:
            service.save_answer(db, visit, question.id, rng.choices(ANSWERS, weights=leaning)[0].value)
        if rng.random() < 0.3:
            service.save_comment(db, visit, rng.choice(COMMENTS))
        service.submit(db, visit, at)


COMMENTS = (
    "The plan was clear about what school will do each week.",
    "We waited a long time for the speech and language sessions to start.",
    "It would help to know who to call when something in the plan is not happening.",
    "The outcomes are written in a way we can understand.",
    "The health section did not reflect the latest advice.",
)
