"""Building feedback objects for tests the way the service builds them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from audit_workflow.cycles.models import AssignmentStatus, CyclePlan
from audit_workflow.feedback.models import FeedbackInvitation, FeedbackLink, LinkPurpose
from audit_workflow.feedback.rules import FeedbackSettings, new_token, recipient_hash, token_hash
from tests.factories import make_assignment, make_cycle, make_plan

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def feedback_cycle(db, la, **fields):
    fields.setdefault("feedback_settings", FeedbackSettings(respondent_types=("parent_carer", "young_person", "setting")).to_json())
    return make_cycle(db, la, feedback_enabled=True, **fields)


def sampled_plan(db, cycle, la, system_id="FB-0001", auditor=None, submitted_at=None):
    plan = make_plan(db, la, system_id=system_id)
    db.add(CyclePlan(la_id=la.id, cycle_id=cycle.id, plan_id=plan.id))
    if auditor is not None:
        make_assignment(db, cycle, plan, auditor, status=AssignmentStatus.SUBMITTED if submitted_at else AssignmentStatus.NOT_STARTED,
                        submitted_at=submitted_at)
    db.flush()
    return plan


def invitation_with_link(db, cycle, plan, respondent_type="parent_carer", email="family@example.org",
                         invited_at=None, closes_at=None) -> tuple[FeedbackInvitation, str]:
    """An invitation and a working answer link; returns the link's token."""
    invited_at = invited_at or datetime.now(timezone.utc)
    invitation = FeedbackInvitation(la_id=cycle.la_id, cycle_id=cycle.id, plan_id=plan.id, respondent_type=respondent_type,
                                    recipient_hash=recipient_hash(cycle.id, email), invited_at=invited_at,
                                    closes_at=closes_at or invited_at + timedelta(days=28))
    db.add(invitation)
    db.flush()
    token = new_token()
    db.add(FeedbackLink(la_id=cycle.la_id, invitation_id=invitation.id, token_hash=token_hash(token),
                        purpose=LinkPurpose.ANSWER, expires_at=invitation.closes_at))
    db.flush()
    return invitation, token


