"""On SQLite, a request that may write holds the write lock from its first statement, so two
overlapping read-then-write requests queue instead of one failing on a stale read snapshot."""

import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import select

from audit_workflow.auth.models import UserSession
from audit_workflow.clock import utcnow
from audit_workflow.db import get_engine, get_session
from tests.conftest import POSTGRES_URL, sign_in

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's locking; PostgreSQL locks rows instead")


def another_writer_can_start(app) -> bool:
    path = get_engine(app).url.database
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


@pytest.mark.parametrize("method, takes_the_lock", [("POST", True), ("GET", False)])
def test_a_request_that_may_write_takes_the_write_lock_at_its_first_read(app, method, takes_the_lock):
    with app.test_request_context("/", method=method):
        session = get_session()
        session.execute(text("SELECT 1"))  # a read: the transaction has begun
        assert another_writer_can_start(app) is not takes_the_lock
        session.rollback()
    assert another_writer_can_start(app)


@pytest.mark.parametrize("idle_minutes, answer", [(5, 200), (600, 401)])  # a visit recorded; a session ended
def test_a_page_view_that_writes_to_the_users_session_waits_for_a_busy_writer(app, client, world, db, idle_minutes,
                                                                               answer):
    """Recording the visit, or ending an idle session, is the request's only write; it must queue
    behind another writer (the scheduler, say), not fail because the request had already read."""
    user = world.user("coordinator")
    sign_in(client, user)
    db.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=idle_minutes)))
    db.commit()
    writer = sqlite3.connect(get_engine(app).url.database, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(0.5, lambda: writer.execute("COMMIT"))
    releaser.start()
    try:
        response = client.get("/")
    finally:
        releaser.join()
        writer.close()
    assert response.status_code == answer
    session_row = db.exec(select(UserSession)).one()
    if answer == 200:
        assert utcnow() - session_row.last_seen_at < timedelta(minutes=1)
    else:
        assert session_row.end_reason == "idle_timeout"
