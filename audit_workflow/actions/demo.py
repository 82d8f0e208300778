"""Demo actions, made with the real services: in the open cycle two plans are audited Inadequate,
and the service proposes an action for each. One is left proposed, for trying the flow; the other
is assigned, its plan marked amended, and its re-audit submitted, which closes it with the grade
change. Some other weak plans' actions are open, overdue or closed, a theme is raised for the whole
service, and four weekly reviews give the board its red/amber/green over time. Runs once per LA.
"""

from __future__ import annotations

from typing import Any, Mapping

from datetime import timedelta

from sqlmodel import Session, col, select

from ..audits.models import Audit, AuditStatus
from ..audits.service import save_section, start_audit, submit_audit
from ..auth.models import Role, User
from ..auth.service import active_users_with_role
from ..authorities.models import LocalAuthority
from ..clock import today
from ..cycles.models import Assignment, AssignmentKind, AssignmentStatus, AuditCycle, CycleStatus
from ..framework import Band
from ..framework.versions import framework_for_audit
from ..notifications.staff_mail import StaffMail
from . import service
from .jobs import record_reviews
from .kinds import ActionType
from .models import Action


def _grade(db: Session, assignment: Assignment, inadequate: bool) -> Audit:
    """The assignment's auditor completes and submits its audit: Inadequate in most sections, or Good."""
    auditor = db.get(User, assignment.auditor_id)
    audit = start_audit(db, assignment, auditor)
    for section in framework_for_audit(db, audit).sections:
        band = Band.INADEQUATE if inadequate and section.code in ("A", "B", "E", "F", "K") else Band.GOOD
        save_section(db, audit, section.code, [criterion.id for criterion in section.bands[band]][:4], "", auditor)
    return submit_audit(db, audit, auditor)


def ensure_actions(db: Session, config: Mapping[str, Any], la: LocalAuthority) -> None:
    if db.exec(select(Action.id).where(Action.la_id == la.id)).first() is not None:
        return
    coordinator = active_users_with_role(db, la.id, Role.COORDINATOR)[0]
    manager = active_users_with_role(db, la.id, Role.MANAGER)[0]
    autumn = db.exec(select(AuditCycle).where(AuditCycle.la_id == la.id, AuditCycle.status == CycleStatus.OPEN)).first()
    not_started = db.exec(select(Assignment).where(Assignment.cycle_id == autumn.id, Assignment.status == AssignmentStatus.NOT_STARTED,
                                                   Assignment.kind == AssignmentKind.PRIMARY).order_by(Assignment.id).limit(2)).all()
    inadequate = [_grade(db, assignment, inadequate=True) for assignment in not_started]
    weak = db.exec(select(Audit).where(Audit.la_id == la.id, Audit.status == AuditStatus.SUBMITTED,
                                       col(Audit.overall_grade).in_(("requires_improvement", "inadequate")))
                   .order_by(Audit.submitted_at, Audit.id)).all()
    proposals = {audit.id: service.propose_for_audit(db, audit) for audit in weak}
    reaudited = proposals[inadequate[1].id]
    others = [action for audit_id, action in proposals.items() if action and audit_id not in {audit.id for audit in inadequate}]

    # One re-audit done: assigned, the plan amended, the re-audit submitted Good, the action closed.
    service.assign_action(db, reaudited, coordinator, config, owner_id=manager.id, team=reaudited.owner_team or "")
    candidates = service.reaudit_candidates(db, reaudited)
    reaudit = service.mark_plan_amended(db, reaudited, coordinator, candidates[0].id, StaffMail(db, config))
    _grade(db, reaudit, inadequate=False)
    service.record_reaudit_result(db, reaudited)

    # Others open, overdue (as if assigned weeks ago) and closed.
    for number, action in enumerate(others[:6]):
        service.assign_action(db, action, coordinator, config, owner_id=(manager if number % 2 else coordinator).id,
                              team=action.owner_team or "")
        if number % 3 == 1:
            action.due_date = today() - timedelta(days=4 + number)
            db.add(action)
        elif number % 3 == 2:
            service.close_action(db, action, coordinator, "Plan amended with the writing team; outcomes made specific.")
    summer = db.exec(select(AuditCycle).where(AuditCycle.la_id == la.id, AuditCycle.status == CycleStatus.CLOSED)).first()
    themes = service.cycle_themes(db, summer) if summer else []
    if themes:
        service.raise_theme_action(db, summer, themes[0].criterion_id, ActionType.TRAINING, coordinator)
    monday = today() - timedelta(days=today().weekday())
    for weeks_ago in (3, 2, 1, 0):
        record_reviews(db, la.id, monday - timedelta(weeks=weeks_ago), [])
    db.flush()
