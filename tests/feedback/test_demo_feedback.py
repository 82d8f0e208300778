"""The demo's feedback: the closed cycle shows real response rates and answers, the open cycle's
invitations carry working links, and running the demo again changes nothing."""

import json
import re

import pytest
from sqlmodel import select

from audit_workflow.cycles.models import AuditCycle, CycleStatus
from audit_workflow.notifications.models import OutboxMessage
from tests.test_demo import table_row_counts

pytestmark = pytest.mark.slow


def test_the_demo_has_feedback_to_show_and_a_working_link(app, runner, client, db):
    app.config["DEMO_MODE"] = True
    assert runner.invoke(args=["demo"]).exit_code == 0

    closed = db.exec(select(AuditCycle).where(AuditCycle.status == CycleStatus.CLOSED)).first()
    status = json.loads(runner.invoke(args=["feedback", "status", str(closed.id), "--json"]).output)
    assert all(status["invited"][kind] > 0 and status["answered"][kind] >= 5 for kind in ("parent_carer", "setting"))
    assert 0 < status["rate"]["parent_carer"] < 1
    assert any(question["counts"] for question in status["questions"])

    open_cycle = db.exec(select(AuditCycle).where(AuditCycle.status == CycleStatus.OPEN)).first()
    invitation = db.exec(select(OutboxMessage).where(OutboxMessage.kind == "feedback_invitation",
                                                     OutboxMessage.idempotency_key.contains(str(open_cycle.id)))).first()
    link = re.search(r"Give your views: \S+(/feedback/start/\S+)", invitation.body_text).group(1)
    assert client.get(link).status_code == 302

    rows = table_row_counts(db)  # after the visit the link opened
    assert runner.invoke(args=["demo"]).exit_code == 0
    # Every table, feedback's invitations, links and outbox emails included, is as the first run left it.
    assert table_row_counts(db) == rows
