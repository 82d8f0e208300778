"""Fixtures in the style of Flask's tutorial: app, client, runner, plus a real database.

SQLite (default): the schema is built once per test session into a template file, and each test
gets a fresh copy of it. PostgreSQL: set AUDIT_WORKFLOW_TEST_DATABASE_URL; the schema is built once
and every table is emptied after each test. The schema comes from the models; test_schema.py checks
that the Alembic migrations build exactly the same. Tests that need a service skip when it is missing, but fail when CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from audit_workflow import create_app
from audit_workflow.auth.passwords import hash_password
from audit_workflow.db import get_engine, make_engine
import audit_workflow.models  # noqa: F401  (every table on the metadata)

POSTGRES_URL = os.environ.get("AUDIT_WORKFLOW_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_PASSWORD = "correct horse battery staple"
# Hashed once: argon2 is deliberately slow, and every test builds several users.
TEST_PASSWORD_HASH = hash_password(TEST_PASSWORD)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def need_service(available: bool, reason: str) -> None:
    """Skip locally when a service is missing; in CI a missing service is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


def reset_postgres_schema(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    if POSTGRES_URL:
        engine = make_engine(POSTGRES_URL)
        reset_postgres_schema(engine)
        SQLModel.metadata.create_all(engine)
        engine.dispose()
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture
def database_url(database_template, tmp_path):
    if POSTGRES_URL:
        yield POSTGRES_URL
        engine = make_engine(POSTGRES_URL)
        tables = ", ".join(f'"{name}"' for name in SQLModel.metadata.tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} CASCADE"))
        engine.dispose()
        return
    path = tmp_path / "test.db"
    shutil.copy(database_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "BASE_URL": "http://localhost",
            "MAIL_TRANSPORT": "devmail",
            "SCHEDULER_EMBEDDED": False,
        },
        instance_path=str(tmp_path / "instance"),
    )
    yield app
    get_engine(app).dispose()


@pytest.fixture
def client(app):
    # The test client talks http; secure (__Host-) cookies are exercised in the browser tests.
    app.config.update(SESSION_COOKIE_SECURE=False, SESSION_COOKIE_NAME="session")
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    with Session(get_engine(app), expire_on_commit=False) as session:
        yield session


@dataclass
class World:
    """Two LAs in different regions with one user of each role in each."""

    las: dict
    users: dict

    def user(self, role: str, la: str = "own"):
        return self.users[(la, role)]


@pytest.fixture
def world(db):
    from audit_workflow.auth.service import create_user
    from audit_workflow.authorities.service import create_local_authority

    las = {
        "own": create_local_authority(db, "886", "Kent", "South East", "send.qa@kent.example.gov.uk"),
        "other": create_local_authority(db, "213", "Westminster", "London", "send.qa@westminster.example.gov.uk"),
    }
    users = {}
    for la_key, la in las.items():
        for role, discipline in (("auditor", "education"), ("coordinator", "education"), ("manager", "other"), ("admin", "other"),
                                 ("volunteer", "other")):
            user = create_user(
                db, la.id, f"{role}@{la.code}.example.gov.uk", f"{role.title()} {la.name}", role,
                discipline=discipline, team=f"Team {la.code}",
            )
            user.password_hash = TEST_PASSWORD_HASH
            users[(la_key, role)] = user
    db.commit()
    return World(las=las, users=users)


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, user, password: str = TEST_PASSWORD):
    response = client.post(
        "/sign-in", data={"email": user.email, "password": password, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def sign_in_as(client, world):
    def _sign_in(role: str, la: str = "own"):
        sign_in(client, world.user(role, la))
        return client

    return _sign_in


def random_id() -> uuid.UUID:
    return uuid.uuid4()
