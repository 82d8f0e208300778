"""The cycle's auditor pool: who may be allocated plans, and how many each can take; by hand, or
from a CSV file. Every function works in the caller's transaction and flushes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

from sqlmodel import Session, select

from ..auth.models import Discipline, Role, User
from ..plans.parsing import RowProblem, Unreadable, csv_rows
from . import allocation
from .guards import CycleError, ensure_editable
from .models import AuditCycle, CycleAuditor

POOL_CSV_LIMIT = 5000
POOL_COLUMNS = ("email", "capacity", "discipline", "team")


def _auditor_in_la(db: Session, la_id: uuid.UUID, email: str) -> User:
    user = db.exec(select(User).where(User.email == email.strip().lower(), User.la_id == la_id)).first()
    if user is None or not user.active or not user.has_role(Role.AUDITOR):
        raise CycleError(f"{email.strip()} is not an active auditor in this LA", "email")
    return user


def _check_capacity(capacity: int) -> None:
    if not 1 <= capacity <= 500:
        raise CycleError("Capacity must be a whole number of plans from 1 to 500", "capacity")


def add_auditor(db: Session, cycle: AuditCycle, user: User, capacity: int) -> CycleAuditor:
    """Put an auditor in the pool, or change their capacity if they are in it already."""
    ensure_editable(cycle)
    _check_capacity(capacity)
    if user.la_id != cycle.la_id or not user.active or not user.has_role(Role.AUDITOR):
        raise CycleError(f"{user.email} is not an active auditor in this LA", "auditor")
    member = db.exec(select(CycleAuditor).where(CycleAuditor.cycle_id == cycle.id, CycleAuditor.user_id == user.id)).first()
    member = member or CycleAuditor(la_id=cycle.la_id, cycle_id=cycle.id, user_id=user.id)
    member.capacity = capacity
    db.add(member)
    db.flush()
    return member


def add_auditors_by_email(db: Session, cycle: AuditCycle, emails: list[str], capacity: int) -> list[CycleAuditor]:
    """For the CLI: the auditors named, or every active auditor in the LA when none are."""
    if emails:
        users = [_auditor_in_la(db, cycle.la_id, email) for email in emails]
    else:
        users = [user for user in db.exec(select(User).where(User.la_id == cycle.la_id, User.active)).all()
                 if user.has_role(Role.AUDITOR)]
        if not users:
            raise CycleError("There are no active auditors in this LA; add some with `audit-workflow create-user`")
    return [add_auditor(db, cycle, user, capacity) for user in users]


class PoolImportRefused(CycleError):
    def __init__(self, problems: list[RowProblem]):
        super().__init__(f"The file has {len(problems)} problem{'s' if len(problems) != 1 else ''}; nobody was added", "file")
        self.problems = problems


def _check_against_record(user: User, discipline: str, team: str) -> None:
    """A pool file may give each auditor's discipline and team, as coordinators' own lists do.
    Allocation uses the service's record of them (a wrong team could send a plan to its own
    writers), so a file that disagrees with the record is refused, never believed or ignored."""
    fix = "correct the file, or ask an administrator to change their record"
    if discipline:
        key = "_".join(discipline.casefold().replace("-", " ").split())
        if key not in {choice.value for choice in Discipline}:
            raise CycleError(f"discipline must be one of {', '.join(choice.replace('_', ' ') for choice in Discipline)}")
        if key != user.discipline:
            raise CycleError(f"the file gives {user.email}'s discipline as {discipline}, but the service has "
                             f"{user.discipline.replace('_', ' ')}; {fix}")
    if team and not allocation.same_team(team, user.team):
        held = f'"{user.team}"' if user.team else "no team"
        raise CycleError(f'the file gives {user.email}\'s team as "{team}", but the service has {held}; {fix}')


def import_pool(db: Session, cycle: AuditCycle, data: bytes) -> list[CycleAuditor]:
    """A pool from a CSV with the columns email and capacity, and optionally discipline and team
    (checked against each auditor's record); all rows land, or none. The file is read as a plan
    register is (plans.parsing: Excel's encodings and separators), and its problems are told alike."""
    ensure_editable(cycle)
    try:
        wanted = _read_pool(db, cycle, csv_rows(data))
    except Unreadable as refusal:
        raise PoolImportRefused([RowProblem(None, None, str(refusal))]) from None
    return [add_auditor(db, cycle, user, capacity) for user, capacity in wanted.values()]


def _read_pool(db: Session, cycle: AuditCycle, rows: Iterator[Sequence[str]]) -> dict[uuid.UUID, tuple[User, int]]:
    headings = [heading.strip().lower() for heading in next(rows, [])]
    columns = {name: headings.index(name) for name in POOL_COLUMNS if name in headings}
    missing = [name for name in ("email", "capacity") if name not in columns]
    if missing:
        needed = f"the column{'s' if len(missing) > 1 else ''} {' and '.join(missing)}"
        raise PoolImportRefused([RowProblem(1, None, f"the header row needs {needed}")])
    problems: list[RowProblem] = []
    wanted: dict[uuid.UUID, tuple[User, int]] = {}
    for number, record in enumerate(rows, start=2):
        if number > POOL_CSV_LIMIT:
            raise PoolImportRefused([RowProblem(number, None, f"the file has more than {POOL_CSV_LIMIT} rows")])
        email, capacity, discipline, team = (
            record[columns[name]].strip() if name in columns and columns[name] < len(record) else "" for name in POOL_COLUMNS)
        if not email and not capacity:
            continue
        try:
            if not capacity.isdigit():
                raise CycleError("capacity must be a whole number of plans")
            _check_capacity(int(capacity))
            user = _auditor_in_la(db, cycle.la_id, email)
            _check_against_record(user, discipline, team)
        except CycleError as error:
            problems.append(RowProblem(number, None, str(error)))
            continue
        wanted[user.id] = (user, int(capacity))
    if problems:
        raise PoolImportRefused(problems)
    if not wanted:
        raise PoolImportRefused([RowProblem(2, None, "the file has no auditors in it")])
    return wanted


def remove_auditor(db: Session, member: CycleAuditor) -> None:
    """Take an auditor out of the pool; plans they hold stay with them until reassigned."""
    ensure_editable(db.get(AuditCycle, member.cycle_id))
    db.delete(member)
    db.flush()
