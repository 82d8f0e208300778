"""On SQLite, a request that may write holds the write lock from its first statement, so two
overlapping read-then-write requests queue instead of one failing on a stale read snapshot."""

import sqlite3

import pytest
from sqlalchemy import text

from audit_workflow.db import get_engine, get_session
from tests.conftest import POSTGRES_URL

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
