"""Failures end in the service's own error pages: a request that loses a race for a row is told to
reload (409), one the database was too busy for to try again (503), anything else gets the styled
500 page, and none puts typed values in the log."""

from __future__ import annotations

import logging
import re
import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from audit_workflow.access import public
from audit_workflow.authorities.models import LocalAuthority
from audit_workflow.db import ConcurrentChange, get_session
from audit_workflow.web.errors import database_race

CANARY = "Canary Council Typed Text 7731"


@pytest.fixture
def failing_app(app):
    """The test app with two extra routes: one that inserts a duplicate LA code (a unique violation,
    as when two requests add the same row at once) and one that fails after a database error."""

    @public
    def duplicate():
        db = get_session()
        db.add(LocalAuthority(code="886", name=CANARY, region="E12000008"))
        db.flush()
        return "not reached"

    @public
    def broken_then_bug():
        db = get_session()
        try:
            db.add(LocalAuthority(code="886", name=CANARY, region="E12000008"))
            db.flush()
        except Exception:
            pass  # the session now needs a rollback, which a careless view forgets
        raise RuntimeError("a bug")

    app.add_url_rule("/test/duplicate", "test_duplicate", duplicate, methods=["GET"])
    app.add_url_rule("/test/broken", "test_broken", broken_then_bug, methods=["GET"])
    return app


def test_losing_a_race_for_a_row_asks_to_reload_without_logging_what_was_typed(failing_app, sign_in_as, caplog):
    client = sign_in_as("coordinator")
    with caplog.at_level(logging.DEBUG):
        response = client.get("/test/duplicate")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this at the same time" in page and "Nothing you sent was saved" in page
    assert "govuk-template" in page  # the styled layout, menu and all
    assert CANARY not in caplog.text
    assert "concurrent change refused on test_duplicate" in caplog.text


def test_a_bug_after_a_database_error_still_gets_the_styled_500_page(failing_app, sign_in_as, caplog):
    client = sign_in_as("coordinator")  # a signed-in page reads the user's menu from the database
    with caplog.at_level(logging.DEBUG):
        response = client.get("/test/broken")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in page and "govuk-template" in page
    assert "PendingRollbackError" not in caplog.text  # the error page itself did not fail
    assert CANARY not in caplog.text


def test_a_database_error_is_logged_without_the_rows_values(failing_app, sign_in_as, caplog):
    """PostgreSQL puts the failing row in the error's DETAIL line; only the first line is logged."""

    @public
    def null_name():
        db = get_session()
        db.add(LocalAuthority(code="887", name=None, region=CANARY[:9]))
        db.flush()

    failing_app.add_url_rule("/test/null", "test_null", null_name, methods=["GET"])
    client = sign_in_as("coordinator")
    with caplog.at_level(logging.DEBUG):
        response = client.get("/test/null")
    assert response.status_code == 500
    assert re.search(r"unhandled error on test_null: \w+: (NOT NULL constraint|null value in column)", caplog.text)
    assert CANARY[:9] not in caplog.text


@pytest.mark.parametrize("orig, status", [
    (sqlite3.OperationalError("database is locked"), 503),
    (sqlite3.IntegrityError("UNIQUE constraint failed: cycle_auditor.cycle_id, cycle_auditor.user_id"), 409),
    (sqlite3.IntegrityError("NOT NULL constraint failed: plan.key_stage"), None),  # a bug, not a race: a 500
    (sqlite3.OperationalError("no such table: plan"), None),
])
def test_races_and_a_busy_database_are_told_apart_from_bugs(orig, status):
    error_class = OperationalError if isinstance(orig, sqlite3.OperationalError) else IntegrityError
    assert database_race(error_class("INSERT ...", None, orig)) == status
    assert database_race(ConcurrentChange("assignment moved on")) == 409
    assert database_race(ValueError("not a database error")) is None
