"""docs/checks.md#check-13: every route x every role x own LA / other LA, against a table written by hand.

A route that is not in ROUTES fails the test, so nobody can add a view without deciding who may
use it. The rule the test expects is the table's, not the code's: a rule changed by mistake in
the code shows up here as a failure.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from flask import url_for

import tests
from audit_workflow.access import rule_for
from tests.access import AUDITOR, EVERYONE, PUBLIC
from tests.conftest import csrf_token, sign_in
from tests.factories import make_assignment, make_cycle, make_plan


def _area_tables():
    for module_info in pkgutil.walk_packages(tests.__path__, "tests."):
        if module_info.name.endswith(".access_routes"):
            yield importlib.import_module(module_info.name)


ROUTES: dict[str, frozenset[str] | str] = {}
PARAM_BUILDERS: dict = {}
for _table in _area_tables():
    ROUTES.update(_table.ROUTES)
    PARAM_BUILDERS.update(getattr(_table, "PARAM_BUILDERS", {}))

# Values for URL parameters that are not object ids.
SAMPLE_VALUES = {"section": "A", "filename": "app.css"}


def build_objects(db, world, la_key: str) -> dict[str, object]:
    """One object of each kind in the given LA, keyed by the URL parameter that names it."""
    la = world.las[la_key]
    plan = make_plan(db, la, system_id=f"MATRIX-{la.code}")
    cycle = make_cycle(db, la)
    assignment = make_assignment(db, cycle, plan, world.user(AUDITOR, la_key))
    objects = {"plan_id": plan.id, "cycle_id": cycle.id, "assignment_id": assignment.id}
    for name, build in PARAM_BUILDERS.items():
        objects[name] = build(db, world, la_key, objects)
    db.commit()
    return objects


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_view_has_an_access_rule(app):
    missing = [endpoint for endpoint, view in app.view_functions.items() if endpoint != "static" and rule_for(view) is None]
    assert missing == []


def test_every_route_is_in_the_matrix_table(app):
    unlisted = sorted({rule.endpoint for rule, _ in _routes(app)} - set(ROUTES))
    assert unlisted == [], "add these endpoints to ROUTES in tests/<area>/access_routes.py"
    stale = sorted(set(ROUTES) - {rule.endpoint for rule, _ in _routes(app)})
    assert stale == [], "these ROUTES rows name endpoints that no longer exist"


def test_every_object_id_in_a_url_is_a_uuid(app):
    offenders = [
        f"{rule.rule} ({name})"
        for rule in app.url_map.iter_rules()
        for name, converter in rule._converters.items()
        if name.endswith("_id") and type(converter).__name__ != "UUIDConverter"
    ]
    assert offenders == []


def test_the_code_agrees_with_the_table(app):
    for endpoint, expected in ROUTES.items():
        if endpoint not in app.view_functions:
            continue
        rule = rule_for(app.view_functions[endpoint])
        actual = PUBLIC if rule.is_public else frozenset(role.value for role in rule.roles)
        assert actual == expected, endpoint


def _url(app, rule, objects):
    values = {}
    for name in rule.arguments:
        if name in objects:
            values[name] = objects[name]
        elif name in SAMPLE_VALUES:
            values[name] = SAMPLE_VALUES[name]
        else:
            pytest.fail(f"{rule.endpoint}: no sample value for URL parameter {name!r}; add it to build_objects or SAMPLE_VALUES")
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _request(client, method, url, token_page="/"):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": csrf_token(client, token_page)})


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_matrix_for_each_role(app, client, db, world, role):
    own = build_objects(db, world, "own")
    other = build_objects(db, world, "other")
    sign_in(client, world.user(role))
    failures = []
    for rule, method in _routes(app):
        if rule.endpoint == "auth.sign_out":
            continue  # signing out mid-matrix would end the session; covered in test_sign_in
        allowed = ROUTES[rule.endpoint]
        if allowed == PUBLIC:
            # Public pages may still refuse for their own reasons (a sign-in callback without a
            # started sign-in is 403); what matters is that they never crash or demand a session.
            status = _request(client, method, _url(app, rule, own)).status_code
            if status == 401 or status >= 500:
                failures.append(f"{method} {rule.rule}: public, got {status}")
            continue
        if role not in allowed:
            status = _request(client, method, _url(app, rule, own)).status_code
            if status != 403:
                failures.append(f"{method} {rule.rule}: {role} should get 403, got {status}")
            continue
        status = _request(client, method, _url(app, rule, own)).status_code
        if status in (401, 403, 404) or status >= 500:
            failures.append(f"{method} {rule.rule}: {role} (own LA) should be allowed, got {status}")
        if any(name in own for name in rule.arguments):
            status = _request(client, method, _url(app, rule, other)).status_code
            if status != 404:
                failures.append(f"{method} {rule.rule}: {role} with another LA's object should get 404, got {status}")
    assert failures == []


def test_signed_out_visitors_reach_only_public_routes(app, client, db, world):
    own = build_objects(db, world, "own")
    failures = []
    for rule, method in _routes(app):
        response = _request(client, method, _url(app, rule, own), token_page="/sign-in")
        if ROUTES[rule.endpoint] == PUBLIC:
            if response.status_code == 401 or response.status_code >= 500:
                failures.append(f"{method} {rule.rule}: public but got {response.status_code}")
        elif method == "GET":
            if response.status_code != 302 or "/sign-in" not in response.headers.get("Location", ""):
                failures.append(f"GET {rule.rule}: should redirect to sign-in, got {response.status_code}")
        elif response.status_code != 401:
            failures.append(f"{method} {rule.rule}: should get 401, got {response.status_code}")
    assert failures == []
