"""apply_change answers any area's refusal the same way: every area's refusal is a refusals.Refused,
which apply_change catches unless the view names what it refuses; the change is rolled back and
the person reads why, never a 500."""

from __future__ import annotations

import pytest
from sqlmodel import select

from audit_workflow.access import public
from audit_workflow.actions.service import ActionError
from audit_workflow.audits.service import AuditError, AuditStateError
from audit_workflow.auth.service import UserError
from audit_workflow.authorities.models import LocalAuthority
from audit_workflow.authorities.service import AuthorityError
from audit_workflow.cycles.auditor_pool import PoolImportRefused
from audit_workflow.cycles.guards import CycleError
from audit_workflow.feedback.service import FeedbackError
from audit_workflow.moderation.service import ModerationError
from audit_workflow.notifications.service import OutboxActionRefused
from audit_workflow.reports.cycle_report.service import CycleReportError
from audit_workflow.trail.service import TrailError
from audit_workflow.web.changes import Done, apply_change

REFUSAL = "Wedgwood Council cannot be added now"


def _route(app, refusal: Exception):
    """A route that stores an LA, then has the service refuse, through apply_change's defaults."""

    @public
    def refused_change():
        def change(db) -> Done:
            db.add(LocalAuthority(code="885", name="Wedgwood Council", region="E12000005"))
            db.flush()
            raise refusal

        return apply_change(change)

    app.add_url_rule("/test/refused", "test_refused", refused_change, methods=["GET"])


@pytest.mark.parametrize("refusal", [
    ActionError(REFUSAL), AuditError(REFUSAL, "comment"), AuditStateError(REFUSAL), UserError(REFUSAL),
    AuthorityError(REFUSAL), CycleError(REFUSAL, "name"), PoolImportRefused([]), FeedbackError(REFUSAL),
    ModerationError(REFUSAL, "reason"), OutboxActionRefused(REFUSAL), CycleReportError(REFUSAL, "format"),
    TrailError(REFUSAL),
], ids=lambda refusal: type(refusal).__name__)
def test_any_areas_refusal_is_rolled_back_and_shown_without_naming_it(app, client, db, refusal):
    _route(app, refusal)
    response = client.get("/test/refused")
    assert response.status_code == 409
    assert str(refusal).replace("'", "&#39;") in response.get_data(as_text=True)
    assert db.exec(select(LocalAuthority).where(LocalAuthority.code == "885")).first() is None


def test_an_error_that_is_no_refusal_is_not_mistaken_for_one(app, client):
    _route(app, ValueError("a bug"))
    assert client.get("/test/refused").status_code == 500
