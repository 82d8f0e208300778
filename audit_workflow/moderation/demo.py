"""Demo moderation: in each demo LA's summer cycle, a blind second audit of a share of the plans,
with realistic disagreement (mostly the same grade or one band apart, a few two apart), some pairs
flagged and most of the flagged ones adjudicated, so every moderation page has real numbers.

It runs while the cycle is open, through the real services (audit_workflow/demo.py calls it just
before closing the summer cycle), and does nothing for a cycle that already has moderation picks.
"""

from __future__ import annotations

import random
from typing import Any, Mapping

from sqlmodel import Session, select

from ..audits.service import save_section, start_audit, submit_audit
from ..auth.models import Role, User
from ..cycles.models import Assignment, AuditCycle
from ..framework import Band, Section
from ..framework.model import GRADES_BEST_FIRST
from ..framework.versions import framework_for_audit
from . import service
from .models import ModerationPick

# How far a demo moderator's section grade strays from the first auditor's, in bands, and how often.
DRIFT = {0: 70, 1: 22, -1: 6, 2: 2}
MODERATION_SHARE = 0.75  # a large share in the demo, so that the statistics have pairs enough to say something


def ticks_aiming_at(section: Section, band: Band) -> list[str]:
    """Criteria an auditor might tick for a section to grade it `band` (best effort: a section with
    too few Outstanding criteria comes out Good)."""
    good = [criterion.id for criterion in section.bands[Band.GOOD]]
    if band is Band.INADEQUATE:
        return [section.bands[Band.INADEQUATE][0].id]
    if band is Band.REQUIRES_IMPROVEMENT:
        return good[:2] + [section.bands[Band.REQUIRES_IMPROVEMENT][0].id]
    if band is Band.OUTSTANDING:
        return good + [criterion.id for criterion in section.bands[Band.OUTSTANDING][:2]]
    return good


def _drifted(grade: str | None, rng: random.Random) -> Band:
    bands = [Band(value.value) for value in GRADES_BEST_FIRST]
    if grade not in [band.value for band in bands]:
        return Band.GOOD
    position = [band.value for band in bands].index(grade) + rng.choices(list(DRIFT), weights=list(DRIFT.values()))[0]
    return bands[min(max(position, 0), len(bands) - 1)]


def _moderate(db: Session, assignment: Assignment, first_sections: dict[str, str | None], rng: random.Random) -> None:
    moderator = db.get(User, assignment.auditor_id)
    audit = start_audit(db, assignment, moderator)
    for section in framework_for_audit(db, audit).sections:
        ticks = ticks_aiming_at(section, _drifted(first_sections.get(section.code), rng))
        save_section(db, audit, section.code, ticks, "", moderator, moving_on=True)
    submit_audit(db, audit, moderator)


def moderate_demo_cycle(db: Session, cycle: AuditCycle, config: Mapping[str, Any], seed: int) -> None:
    if db.exec(select(ModerationPick.id).where(ModerationPick.cycle_id == cycle.id)).first():
        return
    rng = random.Random(f"demo-moderation-{seed}")
    auditors = db.exec(select(User).where(User.la_id == cycle.la_id)).all()
    for user in auditors:
        if user.has_role(Role.AUDITOR) and user.team == "Designated Clinical Officer team":
            service.set_moderator(db, user, True)
    cycle.moderation_share = MODERATION_SHARE
    service.select_and_assign(db, cycle, config, seed=seed)
    pairs = service.pairs_for(db, [cycle])
    for pair in pairs:
        if pair.second is not None:
            _moderate(db, pair.second.assignment, {code: pair.first.grade(code) for code in pair.section_codes}, rng)
    coordinator = next(user for user in auditors if user.has_role(Role.COORDINATOR))
    for number, pair in enumerate(service.pairs_for(db, [cycle])):
        if pair.flagged and number % 4 != 3:  # most flagged pairs adjudicated, a few left waiting
            side = pair.first if number % 2 else pair.second  # the meeting sides with either auditor
            agreed = {code: side.grade(code) or "not_applicable" for code in pair.section_codes}
            agreed[service.OVERALL] = side.overall
            service.adjudicate(db, pair, agreed, "Agreed at the moderation meeting after reading both audits.", coordinator)
    db.flush()
