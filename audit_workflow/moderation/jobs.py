"""The scheduled moderation job: as primary audits are submitted, pick each open cycle's moderation
share of them and give each picked plan to a second auditor (service.select_and_assign).

Safe to run twice or at once in two processes: a cycle's run locks the cycle row, picks are unique
per cycle and plan, and each moderator's email has an idempotency key made of their new assignments.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..cycles.guards import CycleError
from ..cycles.models import AuditCycle, CycleStatus
from ..db import session_scope
from ..outcome import JobOutcome
from .service import ModerationError, select_and_assign


def moderation_sample_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    """Pick and assign moderation in every open cycle with a moderation share, one transaction each."""
    with Session(engine) as db:
        cycle_ids = db.exec(select(AuditCycle.id).where(AuditCycle.status == CycleStatus.OPEN,
                                                        AuditCycle.moderation_share > 0).order_by(AuditCycle.id)).all()
    counts: Counter = Counter()
    warnings = []
    for cycle_id in cycle_ids:
        try:
            with session_scope(engine, immediate=True) as db:
                outcome = select_and_assign(db, db.get(AuditCycle, cycle_id), config)
        except (ModerationError, CycleError) as error:  # closed meanwhile; a due date past the holiday data
            warnings.append(f"Cycle {cycle_id}: {error}")
            continue
        counts.update(picked=len(outcome.picked), assigned=len(outcome.assigned), waiting=len(outcome.unassigned))
    summary = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()) if count) or "Nothing to moderate"
    return JobOutcome(summary, "; ".join(warnings) or None)
