"""A lease in the database, so that of several scheduler processes exactly one runs the jobs.

Taking or renewing the lease is one conditional UPDATE: "make me the holder if I already am, or if
the current holder's lease has expired". The database applies it to the row atomically (PostgreSQL
re-checks the condition after waiting for a competing update; SQLite takes its write lock first),
so two processes can never both succeed. Only when there is no row yet does an INSERT run, and the
primary key lets just one such INSERT through.

The holder renews every few seconds (the heartbeat). A holder that stops (crash, SIGKILL, lost
network) stops renewing; once its lease has expired the next attempt by a waiting process takes
over. Times come from each host's clock, so hosts must keep time (NTP), as any lease needs.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..clock import utcnow
from ..db import dialect_insert, session_scope
from .models import SchedulerLease

SCHEDULER_LEASE = "scheduler"


def process_identity() -> str:
    """hostname:pid:random — unique even when a restarted process reuses a pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def current_lease(db: Session, name: str = SCHEDULER_LEASE) -> SchedulerLease | None:
    return db.get(SchedulerLease, name)


class Lease:
    """This process's claim on a named lease."""

    def __init__(self, engine: Engine, seconds: int, name: str = SCHEDULER_LEASE, holder: str | None = None):
        self.engine = engine
        self.duration = timedelta(seconds=seconds)
        self.name = name
        self.holder = holder or process_identity()
        # When, by this process's monotonic clock, the lease it last secured runs out.
        self._held_until = 0.0

    def acquire_or_renew(self, now: datetime | None = None) -> bool:
        """Take the lease if it is free or expired, or extend it if this process holds it."""
        now = now or utcnow()
        started = time.monotonic()
        with session_scope(self.engine, immediate=True) as db:
            held = self._update(db, now) or self._insert(db, now)
        self._held_until = started + self.duration.total_seconds() if held else 0.0
        return held

    def _update(self, db: Session, now: datetime) -> bool:
        table = SchedulerLease.__table__
        statement = (
            update(table)
            .where(table.c.name == self.name, or_(table.c.holder == self.holder, table.c.expires_at < now))
            .values(
                holder=self.holder,
                acquired_at=case((table.c.holder == self.holder, table.c.acquired_at), else_=now),
                heartbeat_at=now,
                expires_at=now + self.duration,
            )
        )
        return db.execute(statement).rowcount == 1

    def _insert(self, db: Session, now: datetime) -> bool:
        table = SchedulerLease.__table__
        statement = dialect_insert(db, SchedulerLease).values(
            name=self.name, holder=self.holder, acquired_at=now, heartbeat_at=now, expires_at=now + self.duration
        ).on_conflict_do_nothing(index_elements=["name"]).returning(table.c.name)
        # RETURNING, not rowcount: SQLAlchemy 2.1 reports -1 for this INSERT on PostgreSQL.
        return db.execute(statement).first() is not None

    def is_held(self) -> bool:
        """Whether the last acquire_or_renew() secured the lease and it has not run out since. Judged
        on the monotonic clock from before the renewal was sent, so it errs towards "not held"."""
        return time.monotonic() < self._held_until

    def release(self, now: datetime | None = None) -> None:
        """Let a waiting process take over at its next attempt instead of after the lease runs out."""
        now = now or utcnow()
        table = SchedulerLease.__table__
        with session_scope(self.engine, immediate=True) as db:
            db.execute(update(table).where(table.c.name == self.name, table.c.holder == self.holder).values(expires_at=now))
        self._held_until = 0.0
