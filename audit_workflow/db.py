"""Engine, a session per request or job, and the SQLite settings that make it safe to share."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, create_engine

ENGINE_KEY = "audit_workflow.engine"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # they never write, unless their view is marked @writes
WRITES_ATTRIBUTE = "_writes"


class ConcurrentChange(Exception):
    """Someone else changed the row between our read and our write; the web answers 409."""


def describe_error(error: BaseException) -> str:
    """The exception's type and first line, for logs: database errors carry the row's values on
    later lines (PostgreSQL's DETAIL: "Failing row contains ..."), which must not be logged (docs/checks.md#check-9)."""
    first_line = next(iter(str(error).splitlines()), "")
    return f"{type(error).__name__}: {first_line}"[:1000]


def make_engine(url: str, **kwargs) -> Engine:
    # Error messages would otherwise carry the statement's values (typed text) into logs (docs/checks.md#check-9).
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # Room for the scheduler's ten job threads (a job and its run record may each hold a connection)
    # beside the heartbeat and the web's threads: with the default 5 + 10 a catch-up of every job at
    # once could wait for a connection.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Take over transaction control from pysqlite so BEGIN IMMEDIATE can be asked for.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # Writers that read-then-update (claims, leases) take the write lock up front: two deferred
        # transactions upgrading at once would otherwise fail with "database is locked".
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def init_app(app: Flask) -> None:
    app.extensions[ENGINE_KEY] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions[ENGINE_KEY]


def writes(view):
    """Marks a GET view that writes (opening a feedback link records it and starts a visit): its
    request takes SQLite's write lock at its first statement, as one that may write does."""
    setattr(view, WRITES_ATTRIBUTE, True)
    return view


def _may_write() -> bool:
    if request.method not in SAFE_METHODS:
        return True
    return getattr(current_app.view_functions.get(request.endpoint), WRITES_ATTRIBUTE, False)


def get_session() -> Session:
    """The request's (or CLI command's) session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        engine = get_engine()
        if is_sqlite(engine) and has_request_context() and _may_write():
            # A request that may write takes SQLite's write lock at its first statement: two
            # overlapping read-then-write requests then wait their turn instead of one failing
            # with "database is locked" when it upgrades a stale read snapshot.
            engine = engine.execution_options(sqlite_immediate=True)
        g.db_session = Session(engine, expire_on_commit=False)
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(engine: Engine, *, immediate: bool = False) -> Iterator[Session]:
    """One transaction for a job or command: committed on success, rolled back on any error."""
    bind = engine.execution_options(sqlite_immediate=True) if immediate and is_sqlite(engine) else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def dialect_insert(db: Session, model: type[SQLModel]):
    """An INSERT that can say ON CONFLICT, for whichever of PostgreSQL and SQLite is in use."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model.__table__)
