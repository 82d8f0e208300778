"""Blind moderation (enforced by access.blind_to): no moderator reaches the first audit before
submitting their own, and the first auditor never reaches the second, on any route that shows an
audit, whatever other roles they hold."""

import pytest
from flask import url_for
from sqlmodel import select

from audit_workflow.audits.models import Audit
from audit_workflow.audits.service import start_audit
from audit_workflow.auth.models import User
from audit_workflow.cycles.models import HELD_STATUSES, Assignment, AssignmentKind
from audit_workflow.framework import Band
from audit_workflow.moderation import service
from tests.conftest import TEST_PASSWORD_HASH, sign_in
from tests.moderation.conftest import complete

# Every GET route that shows something of one audit, named by the parameter that picks it.
AUDIT_ROUTES = ("audits.show", "audits.summary", "audits.section")


def _pair(db, app, submitted):
    cycle, _, _ = submitted
    service.select_and_assign(db, cycle, app.config, seed=11)
    db.commit()
    moderation = db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id, Assignment.kind == AssignmentKind.MODERATION,
                                                  Assignment.status.in_(HELD_STATUSES))).first()
    primary = db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id, Assignment.plan_id == moderation.plan_id,
                                               Assignment.kind == AssignmentKind.PRIMARY)).one()
    first_audit = db.exec(select(Audit).where(Audit.assignment_id == primary.id)).one()
    return cycle, primary, moderation, first_audit


def _can_sign_in(db, user, roles="auditor"):
    user.password_hash, user.roles = TEST_PASSWORD_HASH, roles
    db.add(user)
    db.commit()


def _audit_urls(app, audit):
    with app.test_request_context():
        return [url_for(endpoint, audit_id=audit.id, **({"section": "A"} if endpoint == "audits.section" else {}))
                for endpoint in AUDIT_ROUTES]


# The reopen form (coordinators) names the plan but shows nothing of the audit's grades or comments.
SHOWS_NOTHING_OF_THE_AUDIT = {"audits.reopen"}


def _every_audit_route_is_covered(app):
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if "audit_id" in rule.arguments and "GET" in rule.methods} - SHOWS_NOTHING_OF_THE_AUDIT


def test_the_table_names_every_route_that_shows_an_audit(app):
    assert _every_audit_route_is_covered(app) == set(AUDIT_ROUTES)


@pytest.mark.parametrize("roles", ["auditor", "auditor,coordinator", "auditor,manager"])
def test_no_moderator_reaches_the_first_audit_before_submitting(db, app, client, submitted, roles):
    cycle, primary, moderation, first_audit = _pair(db, app, submitted)
    moderator = db.get(User, moderation.auditor_id)
    _can_sign_in(db, moderator, roles)
    sign_in(client, moderator)
    for url in _audit_urls(app, first_audit):
        assert client.get(url).status_code == 404, url
    if "auditor," in roles:  # an overseer who moderates: the comparison page hides it too
        page = client.get(f"/moderation/plans/{primary.plan_id}").get_data(as_text=True)
        assert "hidden until both audits of the pair are submitted" in page
        assert f"/audits/{first_audit.id}/summary" not in page

    second_audit = complete(db, moderation, Band.GOOD)
    db.commit()
    expected = 200 if "auditor," in roles else 404  # afterwards overseers may compare; a plain auditor never reads others' audits
    assert client.get(_audit_urls(app, first_audit)[1]).status_code == expected
    assert client.get(_audit_urls(app, second_audit)[1]).status_code == 200  # their own


@pytest.mark.parametrize("roles", ["auditor", "auditor,coordinator"])
def test_the_first_auditor_cannot_see_the_second(db, app, client, submitted, roles):
    cycle, primary, moderation, first_audit = _pair(db, app, submitted)
    moderator = db.get(User, moderation.auditor_id)
    second_audit = complete(db, moderation, Band.GOOD) if roles == "auditor" else None
    if second_audit is None:  # in progress: started, not submitted
        second_audit = start_audit(db, moderation, moderator)
    db.commit()
    first_auditor = db.get(User, primary.auditor_id)
    _can_sign_in(db, first_auditor, roles)
    sign_in(client, first_auditor)
    for url in _audit_urls(app, second_audit):
        assert client.get(url).status_code == 404, url
    assert client.get(_audit_urls(app, first_audit)[1]).status_code == 200  # their own


def test_an_overseer_who_audits_nothing_of_the_plan_sees_both(db, app, client, world, submitted):
    cycle, primary, moderation, first_audit = _pair(db, app, submitted)
    second_audit = complete(db, moderation, Band.INADEQUATE)
    db.commit()
    sign_in(client, world.user("manager"))
    page = client.get(f"/moderation/plans/{primary.plan_id}").get_data(as_text=True)
    assert "hidden until" not in page
    assert f"/audits/{first_audit.id}/summary" in page and f"/audits/{second_audit.id}/summary" in page
