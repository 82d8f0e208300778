"""Moderation's use cases: choose the sample and the second auditors, let coordinators add or remove
a plan, mark moderators, gather the pairs, adjudicate, and compute and export the statistics.

Every function works in the caller's transaction and flushes; views, commands and the scheduler job
commit. Settings that emails need (service name, address) are passed in as `config`.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..audits.models import Audit, AuditAction, AuditHistory, AuditStatus, SectionJudgement
from ..auth.models import Role, User
from ..auth.service import active_users_with_role
from ..authorities.models import LocalAuthority
from ..clock import utcnow
from ..cycles.allocating import due_date_for, email_plan, held_per_auditor
from ..cycles.models import HELD_STATUSES, Assignment, AssignmentKind, AssignmentStatus, AuditCycle, CycleAuditor, CycleStatus
from ..cycles.plan_sample import SEED_LIMIT
from ..cycles.transitions import move_assignment
from ..framework.model import GRADES_BEST_FIRST, Grade
from ..framework.versions import framework_for_audit
from ..notifications.catalogue import staff_context
from ..notifications.outbox import queue_message
from ..plans.models import Plan
from ..refusals import Refused
from ..typed_text import checked_text
from . import selection, statistics
from .models import Adjudication, AgreedGrade, ModerationCycle, ModerationPick, Moderator, PickSource
from .pair_grades import OVERALL, GradedSide, PairGrades, pair_grades, reference_grade
from .rules import flag_reasons

REASON_MAX_LENGTH = 500
RATIONALE_MAX_LENGTH = 2000


class ModerationError(Refused):
    """A change the moderation rules refuse (see refusals.Refused)."""


def _typed_text(text: str, field: str, limit: int, what: str) -> str:
    return checked_text(text, field, what, limit, ModerationError)


def _open(cycle: AuditCycle) -> None:
    if cycle.status != CycleStatus.OPEN:
        raise ModerationError(f"{cycle.name} is {cycle.status}, so its moderation cannot change now")


# --- The sample and the second auditors ------------------------------------------------------------


def moderation_seed(db: Session, cycle: AuditCycle, seed: int | None = None) -> int:
    """The cycle's recorded seed, recorded now (given, or random) if it has none yet."""
    row = db.exec(select(ModerationCycle).where(ModerationCycle.cycle_id == cycle.id)).first()
    if row is not None:
        if seed is not None and seed != row.seed:
            raise ModerationError(f"This cycle's moderation seed is already {row.seed}; it cannot change once recorded", "seed")
        return row.seed
    if seed is not None and not 0 <= seed < SEED_LIMIT:
        raise ModerationError(f"The seed must be a whole number from 0 to {SEED_LIMIT - 1}", "seed")
    row = ModerationCycle(la_id=cycle.la_id, cycle_id=cycle.id, seed=secrets.randbelow(SEED_LIMIT) if seed is None else seed)
    db.add(row)
    db.flush()
    return row.seed


def _submitted_primary(db: Session, cycle: AuditCycle) -> list[selection.SubmittedAudit]:
    rows = db.exec(
        select(Assignment.plan_id, Assignment.auditor_id, Audit.overall_grade)
        .join(Audit, Audit.assignment_id == Assignment.id)
        .where(Assignment.cycle_id == cycle.id, Assignment.kind == AssignmentKind.PRIMARY,
               Assignment.status == AssignmentStatus.SUBMITTED, Audit.status == AuditStatus.SUBMITTED)
    ).all()
    return [selection.SubmittedAudit(*row) for row in rows]


def picks(db: Session, cycle: AuditCycle, include_removed: bool = False) -> list[ModerationPick]:
    query = select(ModerationPick).where(ModerationPick.cycle_id == cycle.id)
    if not include_removed:
        query = query.where(col(ModerationPick.removed_at).is_(None))
    return list(db.exec(query.order_by(ModerationPick.picked_at)).all())


def removed_picks(db: Session, cycle: AuditCycle) -> list[tuple[str, str]]:
    """(System ID, why) of each plan a coordinator took out of the cycle's moderation sample."""
    return list(db.exec(
        select(Plan.system_id, ModerationPick.removed_reason).join(Plan, Plan.id == ModerationPick.plan_id)
        .where(ModerationPick.cycle_id == cycle.id, col(ModerationPick.removed_at).is_not(None)).order_by(Plan.system_id)
    ).all())


@dataclass
class SelectionOutcome:
    picked: list[str] = field(default_factory=list)  # System IDs newly picked
    assigned: list[tuple[str, str]] = field(default_factory=list)  # (System ID, moderator's name)
    unassigned: list[tuple[str, str]] = field(default_factory=list)  # (System ID, why not)

    def summary(self) -> str:
        parts = [f"{len(self.picked)} picked", f"{len(self.assigned)} assigned"]
        if self.unassigned:
            parts.append(f"{len(self.unassigned)} waiting for a moderator")
        return ", ".join(parts)


def select_and_assign(db: Session, cycle: AuditCycle, config: Mapping[str, Any], actor: User | None = None,
                      seed: int | None = None) -> SelectionOutcome:
    """Pick the cycle's moderation share of its submitted audits (selection.py says how), then give
    every picked plan without a moderator to a second auditor, emailing each moderator once."""
    _open(cycle)
    # Serialise runs for the cycle (PostgreSQL; SQLite has a single writer anyway).
    db.exec(select(AuditCycle.id).where(AuditCycle.id == cycle.id).with_for_update()).one()
    seed = moderation_seed(db, cycle, seed)
    submitted = _submitted_primary(db, cycle)
    every_pick = picks(db, cycle, include_removed=True)
    live = {pick.plan_id for pick in every_pick if pick.removed_at is None}
    chosen = selection.choose(submitted, [audit for audit in submitted if audit.plan_id in live],
                              {pick.plan_id for pick in every_pick}, cycle.moderation_share, seed)
    system_ids = _system_ids(db, [pick.plan_id for pick in chosen] + list(live))
    outcome = SelectionOutcome()
    for pick in chosen:
        db.add(ModerationPick(la_id=cycle.la_id, cycle_id=cycle.id, plan_id=pick.plan_id, source=PickSource.SAMPLE,
                              reason=f"Chosen with seed {seed} so that {pick.reason}"))
        outcome.picked.append(system_ids[pick.plan_id])
    db.flush()
    _assign_moderators(db, cycle, config, actor, outcome)
    return outcome


def _system_ids(db: Session, plan_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not plan_ids:
        return {}
    return dict(db.exec(select(Plan.id, Plan.system_id).where(col(Plan.id).in_(plan_ids))).all())


def _held(db: Session, cycle: AuditCycle, kind: AssignmentKind) -> dict[uuid.UUID, Assignment]:
    rows = db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id, Assignment.kind == kind,
                                            col(Assignment.status).in_(HELD_STATUSES))).all()
    return {row.plan_id: row for row in rows}


def _pool(db: Session, cycle: AuditCycle) -> list[selection.Candidate]:
    load = held_per_auditor(cycle)
    rows = db.exec(
        select(User.id, User.discipline, User.team, CycleAuditor.capacity, func.coalesce(load.c.held, 0), Moderator.id)
        .join(CycleAuditor, CycleAuditor.user_id == User.id)
        .outerjoin(load, load.c.auditor_id == User.id)
        .outerjoin(Moderator, Moderator.user_id == User.id)
        .where(CycleAuditor.cycle_id == cycle.id, User.active)
    ).all()
    return [selection.Candidate(user_id, discipline, team, capacity, held, moderator_id is not None)
            for user_id, discipline, team, capacity, held, moderator_id in rows]


def _assign_moderators(db: Session, cycle: AuditCycle, config: Mapping[str, Any], actor: User | None,
                       outcome: SelectionOutcome) -> None:
    primary = _held(db, cycle, AssignmentKind.PRIMARY)
    moderated = _held(db, cycle, AssignmentKind.MODERATION)
    waiting = [pick for pick in picks(db, cycle) if pick.plan_id not in moderated and pick.plan_id in primary]
    if not waiting:
        return
    pool = _pool(db, cycle)
    plans = {plan.id: plan for plan in db.exec(select(Plan).where(col(Plan.id).in_([p.plan_id for p in waiting]))).all()}
    # Anyone who declined a plan's moderation, or holds any audit of the plan, is not asked again.
    excluded: dict[uuid.UUID, set] = {}
    for plan_id, auditor_id in db.exec(select(Assignment.plan_id, Assignment.auditor_id).where(
            Assignment.cycle_id == cycle.id, col(Assignment.plan_id).in_(list(plans)),
            col(Assignment.status).in_((*HELD_STATUSES, AssignmentStatus.DECLINED)))).all():
        excluded.setdefault(plan_id, set()).add(auditor_id)
    due = due_date_for(db, cycle)
    created: list[Assignment] = []
    for pick in sorted(waiting, key=lambda pick: plans[pick.plan_id].system_id):
        plan = plans[pick.plan_id]
        first = db.get(User, primary[pick.plan_id].auditor_id)
        chosen, why = selection.second_auditor(
            selection.FirstAudit(first.id, first.discipline, first.team, plan.writer_team,
                                 frozenset(excluded.get(plan.id, ()))), pool)
        if chosen is None:
            outcome.unassigned.append((plan.system_id, why))
            continue
        assignment = Assignment(la_id=cycle.la_id, cycle_id=cycle.id, plan_id=plan.id, auditor_id=chosen,
                                kind=AssignmentKind.MODERATION, due_date=due)
        db.add(assignment)
        created.append(assignment)
        pool = [selection.Candidate(c.auditor_id, c.discipline, c.team, c.capacity, c.load + (c.auditor_id == chosen),
                                    c.moderator) for c in pool]
        outcome.assigned.append((plan.system_id, db.get(User, chosen).display_name))
    db.flush()
    _email_moderators(db, cycle, config, actor, created, plans)


def _email_moderators(db: Session, cycle: AuditCycle, config: Mapping[str, Any], actor: User | None,
                      created: list[Assignment], plans: dict[uuid.UUID, Plan]) -> None:
    """One email per moderator per run, listing their new plans by System ID (never the first audit)."""
    by_moderator: dict[uuid.UUID, list[Assignment]] = {}
    for assignment in created:
        by_moderator.setdefault(assignment.auditor_id, []).append(assignment)
    la = db.get(LocalAuthority, cycle.la_id)
    coordinator = actor.display_name if actor else f"The {la.name} SEND quality assurance team"
    for moderator_id, theirs in by_moderator.items():
        moderator = db.get(User, moderator_id)
        # Keyed by the assignments, so a retried run never emails twice about the same plans.
        key = f"moderation:{cycle.id}:{moderator_id}:{min(str(item.id) for item in theirs)}"
        queue_message(
            db, kind="moderation_assignment", to=[moderator.email], la_id=cycle.la_id, key=key,
            assignment_id=theirs[0].id if len(theirs) == 1 else None,
            context=staff_context(config, la, moderator.display_name, cycle={"name": cycle.name},
                                  coordinator={"display_name": coordinator},
                                  assignments=[email_plan(plans[item.plan_id], item.due_date) for item in theirs]),
        )


def add_pick(db: Session, cycle: AuditCycle, system_id: str, reason: str, actor: User,
             config: Mapping[str, Any]) -> SelectionOutcome:
    """A coordinator adds a plan to the moderation sample, with a reason; it is assigned at once."""
    _open(cycle)
    reason = _typed_text(reason, "reason", REASON_MAX_LENGTH, "a reason")
    plan = db.exec(select(Plan).where(Plan.la_id == cycle.la_id, Plan.system_id == (system_id or "").strip())).first()
    if plan is None:
        raise ModerationError(f"There is no plan with System ID {(system_id or '').strip()} in the register", "system_id")
    if plan.id not in _held(db, cycle, AssignmentKind.PRIMARY):
        raise ModerationError(f"{plan.system_id} has no audit in this cycle to moderate", "system_id")
    pick = db.exec(select(ModerationPick).where(ModerationPick.cycle_id == cycle.id, ModerationPick.plan_id == plan.id)).first()
    if pick is not None and pick.removed_at is None:
        raise ModerationError(f"{plan.system_id} is already in the moderation sample", "system_id")
    pick = pick or ModerationPick(la_id=cycle.la_id, cycle_id=cycle.id, plan_id=plan.id)
    pick.source, pick.reason, pick.picked_by_id, pick.picked_at = PickSource.MANUAL, reason, actor.id, utcnow()
    pick.removed_at = pick.removed_reason = pick.removed_by_id = None
    db.add(pick)
    db.flush()
    outcome = SelectionOutcome(picked=[plan.system_id])
    _assign_moderators(db, cycle, config, actor, outcome)
    return outcome


def remove_pick(db: Session, pick: ModerationPick, reason: str, actor: User) -> None:
    """A coordinator takes a plan out of the moderation sample, with a reason. A moderation not yet
    started is withdrawn; one under way or done stays (its audit is never thrown away)."""
    cycle = db.get(AuditCycle, pick.cycle_id)
    _open(cycle)
    reason = _typed_text(reason, "reason", REASON_MAX_LENGTH, "a reason")
    if pick.removed_at is not None:
        raise ModerationError("That plan has already been removed from the moderation sample")
    moderation = _held(db, cycle, AssignmentKind.MODERATION).get(pick.plan_id)
    if moderation is not None and moderation.status != AssignmentStatus.NOT_STARTED:
        raise ModerationError("Its moderator has already started, so it stays in the sample")
    if moderation is not None:
        move_assignment(db, moderation, [AssignmentStatus.NOT_STARTED], AssignmentStatus.WITHDRAWN)
    pick.removed_at, pick.removed_reason, pick.removed_by_id = utcnow(), reason, actor.id
    db.add(pick)
    db.flush()


def set_moderator(db: Session, user: User, moderator: bool) -> None:
    """Mark an auditor as a moderator (preferred as second auditor, may adjudicate), or unmark them."""
    if not user.has_role(Role.AUDITOR):
        raise ModerationError(f"{user.email} is not an auditor, so cannot be a moderator")
    row = db.exec(select(Moderator).where(Moderator.user_id == user.id)).first()
    if moderator and row is None:
        db.add(Moderator(la_id=user.la_id, user_id=user.id))
    elif not moderator and row is not None:
        db.delete(row)
    db.flush()


def moderators_of(db: Session, la_id: uuid.UUID) -> tuple[list[User], set[uuid.UUID]]:
    """The LA's active auditors, and which of them are moderators."""
    auditors = active_users_with_role(db, la_id, Role.AUDITOR)
    marked = set(db.exec(select(Moderator.user_id).where(Moderator.la_id == la_id)).all())
    return auditors, marked


def set_moderators(db: Session, la_id: uuid.UUID, user_ids: set[uuid.UUID]) -> None:
    """Make exactly these of the LA's active auditors its moderators."""
    auditors, marked = moderators_of(db, la_id)
    known = {user.id for user in auditors}
    if user_ids - known:
        raise ModerationError("Choose moderators from the LA's active auditors", "moderators")
    for user in auditors:
        if (user.id in user_ids) != (user.id in marked):
            set_moderator(db, user, user.id in user_ids)


def is_moderator(db: Session, user: User) -> bool:
    return db.exec(select(Moderator.id).where(Moderator.user_id == user.id)).first() is not None


# --- Pairs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One auditor's audit of a picked plan: the first (primary) or the second (moderation)."""

    assignment: Assignment
    auditor: User
    audit: Audit | None
    sections: dict[str, SectionJudgement]

    @property
    def submitted(self) -> bool:
        return self.audit is not None and self.audit.status == AuditStatus.SUBMITTED

    @property
    def overall(self) -> str | None:
        return self.audit.overall_grade if self.submitted else None

    def grade(self, code: str) -> str | None:
        judgement = self.sections.get(code)
        return judgement.grade if judgement else None

    def ticked(self, code: str) -> set[str]:
        judgement = self.sections.get(code)
        return set(json.loads(judgement.ticked)) if judgement else set()


@dataclass(frozen=True)
class Pair:
    pick: ModerationPick
    plan: Plan
    cycle: AuditCycle
    first: Side | None
    second: Side | None
    agreed: dict[str, str]  # section code or "overall" -> the adjudicated grade
    reasons: list[str]  # why it is flagged (once both audits are submitted)
    section_codes: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return self.first is not None and self.second is not None and self.first.submitted and self.second.submitted

    @property
    def flagged(self) -> bool:
        return self.complete and bool(self.reasons)

    @property
    def adjudicated(self) -> bool:
        return OVERALL in self.agreed

    @property
    def state(self) -> str:
        if not self.complete:
            return "waiting"
        if self.adjudicated:
            return "adjudicated"
        return "flagged" if self.flagged else "agreed"

    def reference(self) -> str | None:
        return reference_grade(self.agreed.get(OVERALL), self.complete, self.first and self.first.overall,
                               self.second and self.second.overall)


def pairs_for(db: Session, cycles: list[AuditCycle], pick_ids: list[uuid.UUID] | None = None) -> list[Pair]:
    """The live picks of these cycles with both sides, their grades, agreed grades and flags, in
    System ID order. A handful of queries, whatever the number of picks."""
    by_id = {cycle.id: cycle for cycle in cycles}
    query = (select(ModerationPick, Plan).join(Plan, Plan.id == ModerationPick.plan_id)
             .where(col(ModerationPick.cycle_id).in_(list(by_id)), col(ModerationPick.removed_at).is_(None)))
    if pick_ids is not None:
        query = query.where(col(ModerationPick.id).in_(pick_ids))
    rows = db.exec(query.order_by(Plan.system_id)).all()
    if not rows:
        return []
    sides: dict[tuple[uuid.UUID, uuid.UUID, str], tuple[Assignment, User, Audit | None]] = {}
    for assignment, user, audit in db.exec(
        select(Assignment, User, Audit).join(User, User.id == Assignment.auditor_id)
        .outerjoin(Audit, Audit.assignment_id == Assignment.id)
        .where(col(Assignment.cycle_id).in_(list(by_id)), col(Assignment.plan_id).in_([plan.id for _, plan in rows]),
               col(Assignment.status).in_(HELD_STATUSES))
    ).all():
        sides[(assignment.cycle_id, assignment.plan_id, assignment.kind)] = (assignment, user, audit)
    audit_ids = [audit.id for _, _, audit in sides.values() if audit is not None]
    judgements: dict[uuid.UUID, dict[str, SectionJudgement]] = {}
    agreed: dict[uuid.UUID, dict[str, str]] = {}
    if audit_ids:
        for judgement in db.exec(select(SectionJudgement).where(col(SectionJudgement.audit_id).in_(audit_ids))).all():
            judgements.setdefault(judgement.audit_id, {})[judgement.section_code] = judgement
        for row in db.exec(select(AgreedGrade).where(col(AgreedGrade.audit_id).in_(audit_ids))).all():
            agreed.setdefault(row.audit_id, {})[row.section_code] = row.grade

    def side(pick: ModerationPick, kind: AssignmentKind) -> Side | None:
        found = sides.get((pick.cycle_id, pick.plan_id, kind))
        if found is None:
            return None
        assignment, user, audit = found
        return Side(assignment, user, audit, judgements.get(audit.id, {}) if audit else {})

    pairs = []
    for pick, plan in rows:
        first, second = side(pick, AssignmentKind.PRIMARY), side(pick, AssignmentKind.MODERATION)
        codes: tuple[str, ...] = ()
        reasons: list[str] = []
        if first is not None and first.audit is not None:
            framework = framework_for_audit(db, first.audit)
            codes = tuple(section.code for section in framework.sections)
            if second is not None and first.submitted and second.submitted:
                reasons = flag_reasons(framework.discrepancy_rules, first.overall, second.overall,
                                       {code: first.grade(code) for code in codes},
                                       {code: second.grade(code) for code in codes})
        pairs.append(Pair(pick, plan, by_id[pick.cycle_id], first, second,
                          agreed.get(first.audit.id, {}) if first and first.audit else {}, reasons, codes))
    return pairs


def pair_for_pick(db: Session, pick: ModerationPick) -> Pair:
    found = pairs_for(db, [db.get(AuditCycle, pick.cycle_id)], [pick.id])
    if not found:
        raise ModerationError("That plan is no longer in the moderation sample")
    return found[0]


# --- Adjudication ----------------------------------------------------------------------------------


def may_adjudicate(db: Session, user: User, pair: Pair) -> bool:
    """A coordinator of the LA, or a moderator who audited neither side of the pair."""
    if user.la_id != pair.plan.la_id:
        return False
    if user.has_role(Role.COORDINATOR):
        return True
    auditors = {side.auditor.id for side in (pair.first, pair.second) if side is not None}
    return user.has_role(Role.AUDITOR) and is_moderator(db, user) and user.id not in auditors


def adjudicate(db: Session, pair: Pair, agreed: Mapping[str, str], rationale: str, actor: User) -> None:
    """Record the agreed section and overall grades of a pair, with the rationale; the original
    audits are untouched. Adjudicating again replaces the agreed grades, and both are logged."""
    if not may_adjudicate(db, actor, pair):
        raise ModerationError("Only a coordinator, or a moderator who audited neither side, can adjudicate this pair")
    if pair.cycle.status == CycleStatus.CLOSED:
        raise ModerationError(f"{pair.cycle.name} is closed, so its grades can no longer change")
    if not pair.complete:
        raise ModerationError("Both audits must be submitted before the pair can be adjudicated")
    allowed_overall = {grade.value for grade in GRADES_BEST_FIRST}
    allowed_section = {grade.value for grade in Grade}
    chosen: dict[str, str] = {}
    for code in (*pair.section_codes, OVERALL):
        grade = (agreed.get(code) or "").strip()
        if grade not in (allowed_overall if code == OVERALL else allowed_section):
            where = "the overall grade" if code == OVERALL else f"section {code}"
            raise ModerationError(f"Choose the agreed grade for {where}", f"grade_{code}")
        chosen[code] = grade
    rationale = _typed_text(rationale, "rationale", RATIONALE_MAX_LENGTH, "the reasons for the agreed grades")
    now = utcnow()
    existing = {row.section_code: row for row in db.exec(
        select(AgreedGrade).where(AgreedGrade.audit_id == pair.first.audit.id)).all()}
    for code, grade in chosen.items():
        row = existing.get(code) or AgreedGrade(la_id=pair.plan.la_id, audit_id=pair.first.audit.id, section_code=code, grade=grade)
        row.grade, row.decided_at, row.decided_by_id = grade, now, actor.id
        db.add(row)
    db.add(Adjudication(la_id=pair.plan.la_id, audit_id=pair.first.audit.id, moderation_audit_id=pair.second.audit.id,
                        decided_by_id=actor.id, decided_at=now, rationale=rationale, agreed=json.dumps(chosen)))
    db.flush()


def adjudications(db: Session, pair: Pair) -> list[tuple[Adjudication, User | None]]:
    if pair.first is None or pair.first.audit is None:
        return []
    return list(db.exec(
        select(Adjudication, User).outerjoin(User, User.id == Adjudication.decided_by_id)
        .where(Adjudication.audit_id == pair.first.audit.id).order_by(col(Adjudication.decided_at).desc())
    ).all())


# --- Statistics and export --------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditorLeniency:
    email: str
    name: str
    leniency: statistics.Leniency


@dataclass(frozen=True)
class CriterionDisagreement:
    section_code: str
    criterion_id: str
    text: str
    times: int


@dataclass(frozen=True)
class StatisticsReport:
    pairs: list[PairGrades]
    overall: statistics.Agreement
    sections: dict[str, statistics.Agreement]
    auditors: list[AuditorLeniency]
    criteria: list[CriterionDisagreement]

    @property
    def flagged(self) -> int:
        return sum(pair.flagged for pair in self.pairs)

    @property
    def adjudicated(self) -> int:
        return sum(pair.adjudicated for pair in self.pairs)

    def sections_by_disagreement(self) -> list[tuple[str, statistics.Agreement]]:
        """Sections with pairs, the least exact agreement first."""
        graded = [(code, result) for code, result in self.sections.items() if result.pairs]
        return sorted(graded, key=lambda item: item[1].exact_agreement.value)

    def as_json(self) -> dict:
        return {
            **self.overall.as_json(),
            "sections": {code: result.as_json() for code, result in self.sections.items()},
            "auditors": [
                {"auditor": entry.email, "moderated": entry.leniency.moderated,
                 "mean_difference": None if entry.leniency.mean_difference is None else round(entry.leniency.mean_difference, 6),
                 "ci": [round(bound, 6) for bound in entry.leniency.ci] if entry.leniency.ci else None}
                for entry in self.auditors
            ],
            "flagged": self.flagged,
            "adjudicated": self.adjudicated,
        }


def _scored_pairs(pairs: list[PairGrades], grade_of) -> list[tuple[int, int]]:
    scored = []
    for pair in pairs:
        first, second = statistics.score(grade_of(pair.first)), statistics.score(grade_of(pair.second))
        if first is not None and second is not None:
            scored.append((first, second))
    return scored


def statistics_report(db: Session, cycles: list[AuditCycle]) -> StatisticsReport:
    """Agreement over the complete pairs of these cycles (one cycle, or several across time)."""
    pairs = pair_grades(db, [cycle.id for cycle in cycles])
    complete = [pair for pair in pairs if pair.complete]
    seeds = db.exec(select(ModerationCycle.seed).where(col(ModerationCycle.cycle_id).in_([c.id for c in cycles]))
                    .order_by(ModerationCycle.seed)).all()
    seed = seeds[0] if seeds else 0
    codes = next((pair.section_codes for pair in complete), ())
    overall = statistics.agreement(_scored_pairs(complete, lambda side: side.overall), seed)
    sections = {code: statistics.agreement(_scored_pairs(complete, lambda side, code=code: side.grades.get(code)), seed)
                for code in codes}
    return StatisticsReport(pairs, overall, sections, _leniencies(complete, seed), _criteria_ticked_differently(complete))


def _leniencies(complete: list[PairGrades], seed: int) -> list[AuditorLeniency]:
    differences: dict[uuid.UUID, list[int]] = {}
    people: dict[uuid.UUID, GradedSide] = {}
    for pair in complete:
        reference = statistics.score(pair.reference())
        for side in (pair.first, pair.second):
            people[side.auditor_id] = side
            own = statistics.score(side.overall)
            differences.setdefault(side.auditor_id, [])
            if reference is not None and own is not None:
                differences[side.auditor_id].append(own - reference)
    return sorted((AuditorLeniency(people[key].email, people[key].name, statistics.leniency(values, seed))
                   for key, values in differences.items()), key=lambda entry: entry.email)


def _criteria_ticked_differently(complete: list[PairGrades], limit: int = 10) -> list[CriterionDisagreement]:
    """The criteria one auditor ticked and the other did not, most often first: a hint for wording."""
    counts: dict[tuple[str, str], int] = {}
    for pair in complete:
        for code in pair.section_codes:
            # Identical stored lists cannot differ: only the lists that differ are parsed.
            if pair.first.ticks.get(code) != pair.second.ticks.get(code):
                for criterion_id in pair.first.ticked(code) ^ pair.second.ticked(code):
                    counts[(code, criterion_id)] = counts.get((code, criterion_id), 0) + 1
    # Where framework versions word a criterion differently: the wording of the last pair's version that has it.
    texts: dict[str, str] = {}
    latest_first = {id(pair.framework): pair.framework for pair in reversed(complete)}
    for framework in reversed(latest_first.values()):
        texts.update({criterion.id: criterion.text for section in framework.sections for criterion in section.criteria})
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [CriterionDisagreement(code, criterion_id, texts.get(criterion_id, ""), times)
            for (code, criterion_id), times in ranked]


EXPORT_COLUMNS = ("system_id", "section", "first_grade", "second_grade", "agreed_grade", "first_auditor", "second_auditor")


def export_rows(db: Session, cycle: AuditCycle) -> list[dict[str, str]]:
    """One row per complete pair and section (and "overall"): the grades both auditors gave and the
    adjudicated one, from which anyone can recompute the statistics (docs/moderation.md)."""
    rows = []
    for pair in pairs_for(db, [cycle]):
        if not pair.complete:
            continue
        for code in (OVERALL, *pair.section_codes):
            grade_of = (lambda side: side.overall) if code == OVERALL else (lambda side, code=code: side.grade(code))
            rows.append({
                "system_id": pair.plan.system_id, "section": code,
                "first_grade": grade_of(pair.first) or "", "second_grade": grade_of(pair.second) or "",
                "agreed_grade": pair.agreed.get(code, ""),
                "first_auditor": pair.first.auditor.email, "second_auditor": pair.second.auditor.email,
            })
    return rows


# --- Every audit of a plan, for the comparison page ------------------------------------------------


@dataclass(frozen=True)
class PlanAudit:
    """One audit of a plan in some cycle, for comparing side by side."""

    audit: Audit
    assignment: Assignment
    cycle: AuditCycle
    auditor: User
    judgements: dict[str, SectionJudgement]
    reopened: bool  # reopened at least once after a submission

    @property
    def label(self) -> str:
        kind = "Moderation" if self.assignment.kind == AssignmentKind.MODERATION else "Audit"
        return f"{kind} by {self.auditor.display_name} ({self.cycle.name})"

    def ticked(self, code: str) -> set[str]:
        judgement = self.judgements.get(code)
        return set(json.loads(judgement.ticked)) if judgement else set()


@dataclass(frozen=True)
class SectionComparison:
    section: Any  # framework.Section
    differing: list  # the criteria some but not all of the audits ticked, in the framework's order
    ticked: list[set[str]]  # each audit's ticks, in the audits' order


def compare_sections(db: Session, audits: list[PlanAudit]) -> list[SectionComparison]:
    """Section by section, what the audits ticked and the criteria they ticked differently."""
    if not audits:
        return []
    rows = []
    for section in framework_for_audit(db, audits[0].audit).sections:
        ticked = [entry.ticked(section.code) for entry in audits]
        differing = set().union(*ticked) - set.intersection(*ticked)
        rows.append(SectionComparison(section, [criterion for criterion in section.criteria if criterion.id in differing], ticked))
    return rows


def find_plan(db: Session, la_id: uuid.UUID, system_id: str) -> Plan:
    cleaned = (system_id or "").strip()
    if not cleaned:
        raise ModerationError("Enter a System ID", "system_id")
    plan = db.exec(select(Plan).where(Plan.la_id == la_id, Plan.system_id == cleaned)).first()
    if plan is None:
        raise ModerationError(f"There is no plan with System ID {cleaned} in the register", "system_id")
    return plan


def audits_of_plan(db: Session, plan: Plan) -> list[PlanAudit]:
    """Every started audit of the plan, in every cycle: primary, moderation, and reopened ones."""
    rows = db.exec(
        select(Audit, Assignment, AuditCycle, User)
        .join(Assignment, Assignment.id == Audit.assignment_id)
        .join(AuditCycle, AuditCycle.id == Assignment.cycle_id)
        .join(User, User.id == Assignment.auditor_id)
        .where(Assignment.plan_id == plan.id)
        .order_by(AuditCycle.period_start, Assignment.kind.desc(), Audit.started_at)
    ).all()
    audit_ids = [row[0].id for row in rows]
    judgements: dict[uuid.UUID, dict[str, SectionJudgement]] = {}
    reopened: set[uuid.UUID] = set()
    if audit_ids:
        for judgement in db.exec(select(SectionJudgement).where(col(SectionJudgement.audit_id).in_(audit_ids))).all():
            judgements.setdefault(judgement.audit_id, {})[judgement.section_code] = judgement
        reopened = set(db.exec(select(AuditHistory.audit_id).where(
            col(AuditHistory.audit_id).in_(audit_ids), AuditHistory.action == AuditAction.REOPENED)).all())
    return [PlanAudit(audit, assignment, cycle, user, judgements.get(audit.id, {}), audit.id in reopened)
            for audit, assignment, cycle, user in rows]


def moderated_cycles(db: Session, la_id: uuid.UUID) -> list[tuple[AuditCycle, int]]:
    """The LA's cycles with moderation picks, newest first, with how many plans each has picked."""
    return list(db.exec(
        select(AuditCycle, func.count(ModerationPick.id))
        .join(ModerationPick, ModerationPick.cycle_id == AuditCycle.id)
        .where(AuditCycle.la_id == la_id, col(ModerationPick.removed_at).is_(None))
        .group_by(AuditCycle.id).order_by(col(AuditCycle.period_start).desc())
    ).all())


def la_cycles(db: Session, la_id: uuid.UUID) -> list[AuditCycle]:
    return [cycle for cycle, _count in moderated_cycles(db, la_id)]
