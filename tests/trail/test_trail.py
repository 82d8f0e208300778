"""The access trail: reads through load_owned, changes, sign-in and sign-out are recorded with who,
when and from where; refused requests are not; the DPO page and `trail` CLI answer "who accessed
System ID X"; rows are purged after the retention period and nothing else changes them."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

import audit_workflow
from audit_workflow.clock import utcnow
from audit_workflow.db import get_engine, session_scope
from audit_workflow.trail.jobs import trail_purge_job
from audit_workflow.trail.models import AccessEvent
from tests.conftest import POSTGRES_URL, csrf_token, sign_in


def switch_to(client, user):
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, user)


def events(db, **where):
    db.commit()
    query = select(AccessEvent).order_by(AccessEvent.at)
    for name, value in where.items():
        query = query.where(getattr(AccessEvent, name) == value)
    return db.exec(query).all()


def test_reading_an_audit_is_recorded_with_who_what_and_where(client, db, world, weak_audit):
    coordinator = world.user("coordinator")
    sign_in(client, coordinator)
    assert client.get(f"/audits/{weak_audit.id}/summary").status_code == 200
    [event] = events(db, action="read")
    assert (event.user_id, event.user_email, event.object_kind, event.object_id, event.system_id, event.la_id) == (
        coordinator.id, coordinator.email, "audit", weak_audit.id, "NM-100123", coordinator.la_id)
    assert event.client_ip == "127.0.0.1" and event.path == f"/audits/{weak_audit.id}/summary"


def test_sign_in_and_sign_out_are_recorded(client, db, world):
    user = world.user("manager")
    sign_in(client, user)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    assert [(event.action, event.user_id) for event in events(db)] == [("sign_in", user.id), ("sign_out", user.id)]


def test_refused_requests_are_not_recorded_as_reads(client, db, world, weak_audit):
    sign_in(client, world.user("coordinator", "other"))
    assert client.get(f"/audits/{weak_audit.id}/summary").status_code == 404  # another LA's audit
    switch_to(client, world.user("manager"))
    assert client.get(f"/audits/{weak_audit.id}/reopen").status_code == 403  # not a coordinator
    assert [event.action for event in events(db)] == ["sign_in", "sign_out", "sign_in"]


def test_a_change_is_recorded_as_a_change(app, client, db, world, weak_audit):
    sign_in(client, world.user("coordinator"))
    response = client.post(f"/audits/{weak_audit.id}/reopen", data={"reason": "Section F needs another look",
                                                                    "csrf_token": csrf_token(client, f"/audits/{weak_audit.id}/reopen")})
    assert response.status_code == 302
    assert [(event.action, event.object_kind) for event in events(db, system_id="NM-100123")] == [
        ("read", "audit"), ("change", "audit")]


def test_the_dpo_page_and_the_cli_list_every_access_to_a_plan(client, runner, db, world, weak_audit):
    sign_in(client, world.user("manager"))
    client.get(f"/audits/{weak_audit.id}/summary")
    client.get(f"/audits/{weak_audit.id}/sections/F")
    switch_to(client, world.user("admin"))
    page = client.get("/trail?system_id=NM-100123").get_data(as_text=True)
    assert "2 accesses to NM-100123" in page and world.user("manager").email in page
    result = runner.invoke(args=["trail", "--system-id", "NM-100123", "--la", "886", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["total"] == 2
    assert [event["path"] for event in answer["events"]] == [f"/audits/{weak_audit.id}/sections/F", f"/audits/{weak_audit.id}/summary"]
    assert runner.invoke(args=["trail", "--system-id", "NM-100123", "--la", "213", "--json"]).output.count('"path"') == 0
    refused = runner.invoke(args=["trail", "--system-id", "NM-100123", "--la", "999"])
    assert refused.exit_code == 1 and "No LA with code '999'" in refused.output


def test_the_trail_page_is_for_admins_of_the_la_only(client, db, world, weak_audit):
    sign_in(client, world.user("manager"))
    client.get(f"/audits/{weak_audit.id}/summary")
    switch_to(client, world.user("admin", "other"))
    assert "0 accesses to NM-100123" in client.get("/trail?system_id=NM-100123").get_data(as_text=True)
    switch_to(client, world.user("coordinator"))
    assert client.get("/trail?system_id=NM-100123").status_code == 403


def test_the_trail_page_shows_the_command_as_code_not_markdown(client, world):
    sign_in(client, world.user("admin"))
    page = client.get("/trail").get_data(as_text=True)
    assert "<code>audit-workflow trail --system-id X --la CODE --json</code>" in page and "`" not in page


def test_the_purge_deletes_only_what_is_past_retention(app, db, world):
    now = utcnow()
    db.add_all([AccessEvent(action="read", system_id="OLD", at=now - timedelta(days=731)),
                AccessEvent(action="read", system_id="KEPT", at=now - timedelta(days=729))])
    db.commit()
    assert app.config["TRAIL_RETENTION_DAYS"] == 730
    outcome = trail_purge_job(get_engine(app), app.config, now=now)
    assert outcome.summary == "Purged 1 access event"
    assert [event.system_id for event in events(db)] == ["KEPT"]


def test_no_route_can_change_the_trail(app):
    """The trail's only route reads; no code but the purge deletes from it, and none updates it."""
    assert {method for rule in app.url_map.iter_rules() if rule.endpoint.startswith("trail.")
            for method in rule.methods} <= {"GET", "HEAD", "OPTIONS"}
    package = Path(audit_workflow.__file__).parent
    writers = [str(path.relative_to(package)) for path in package.rglob("*.py")
               if re.search(r"(update|delete)\(AccessEvent|AccessEvent\.__table__\.(update|delete)", path.read_text())]
    assert writers == ["trail/service.py"]


@pytest.mark.skipif(not POSTGRES_URL, reason="the append-only trigger is PostgreSQL's")
def test_postgresql_refuses_to_update_or_delete_the_trail_except_for_the_purge(app, db):
    db.add(AccessEvent(action="read", system_id="X", at=datetime(2020, 1, 1, tzinfo=timezone.utc)))
    db.commit()
    engine = get_engine(app)
    for statement in ("UPDATE access_event SET system_id = 'Y'", "DELETE FROM access_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            with session_scope(engine) as other:
                other.execute(text(statement))
    assert trail_purge_job(engine, app.config).summary == "Purged 1 access event"
