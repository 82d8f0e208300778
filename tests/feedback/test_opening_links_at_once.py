"""Two families opening their links at the same moment on SQLite both get in. Opening a link is a
GET that reads (the link, its invitation, the rate-limit counts) and then writes (the counts and the
visit): in a deferred transaction, another family's write committed between those would leave the
read stale, and SQLite refuses the write with "database is locked" (a 503) instead of waiting."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event
from sqlmodel import select

from audit_workflow.db import get_engine
from audit_workflow.feedback import service
from audit_workflow.feedback.models import FeedbackVisit
from tests.conftest import POSTGRES_URL
from tests.feedback.helpers import feedback_cycle, invitation_with_link, sampled_plan

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's locking; PostgreSQL locks rows instead")


def test_a_family_opening_its_link_while_another_does_waits_its_turn(app, db, world):
    la = world.las["own"]
    cycle = feedback_cycle(db, la)
    _first, first_token = invitation_with_link(db, cycle, sampled_plan(db, cycle, la, "FB-0001"))
    _second, second_token = invitation_with_link(db, cycle, sampled_plan(db, cycle, la, "FB-0002"),
                                                 email="another@example.org")
    service.active_questionnaire(db, la.id, service.questionnaire_key("parent_carer"))  # stored, as after any earlier visit
    db.commit()
    first_family, second_family = app.test_client(), app.test_client()
    answers: dict[str, int] = {}
    started: list[bool] = []

    def second_family_opens() -> None:
        answers["second"] = second_family.get(f"/feedback/start/{second_token}").status_code

    other = threading.Thread(target=second_family_opens)
    engine = get_engine(app)

    @event.listens_for(engine, "before_cursor_execute")
    def after_the_first_familys_reads(_connection, _cursor, statement, *_args):
        # The second family's whole request runs between the first one's reads and its visit's
        # insert: it finishes at once if nothing holds the write lock, else waits (briefly) for it.
        if statement.startswith("INSERT INTO feedback_visit") and not started:
            started.append(True)
            other.start()
            other.join(timeout=1)

    try:
        answers["first"] = first_family.get(f"/feedback/start/{first_token}").status_code
        other.join(timeout=60)
    finally:
        event.remove(engine, "before_cursor_execute", after_the_first_familys_reads)

    assert answers == {"first": 302, "second": 302}
    db.expire_all()
    assert len(db.exec(select(FeedbackVisit)).all()) == 2
