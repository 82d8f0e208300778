"""Assignment status changes that a race cannot undo.

Each change is one conditional UPDATE (`... WHERE status IN (what the caller saw)`): of two people
acting on one assignment at once (a coordinator reassigning while the auditor starts; a double
click), the second changes nothing and is refused, instead of leaving a plan with two live
assignments. Callers still check the status first, to give the usual reason in words; this is the
guard for the moment between that check and the write.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlmodel import Session, col

from ..db import ConcurrentChange
from .models import Assignment, AssignmentStatus


def move_assignment(db: Session, assignment: Assignment, expected: Iterable[AssignmentStatus],
                    to: AssignmentStatus, **values) -> None:
    """Set the assignment's status (and values) if it is still in one of the expected statuses."""
    expected = tuple(expected)
    db.flush()
    changed = db.execute(
        update(Assignment)
        .where(col(Assignment.id) == assignment.id, col(Assignment.status).in_(expected))
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.refresh(assignment)
    if changed != 1:
        raise ConcurrentChange(f"assignment {assignment.id} is {assignment.status}, no longer {'/'.join(expected)}")
