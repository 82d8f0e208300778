"""The schema itself keeps the privacy promise, and the migrations build exactly the models."""

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import audit_workflow.models  # noqa: F401
from audit_workflow.db import make_engine
from audit_workflow.migrate import upgrade
from tests.conftest import POSTGRES_URL, reset_postgres_schema

# Column names that would hold a child's identity or plan content. A column whose name matches is a
# privacy defect, whichever table it is in.
FORBIDDEN_COLUMN = re.compile(
    r"(^|_)(first_?name|fore_?name|surname|last_?name|full_?name|child_?name|cyp_?name|given_?name"
    r"|dob|date_?of_?birth|birth_?date|birthday|upn|unique_?pupil|nhs(_?number|_?no)?|address|postcode"
    r"|plan_?text|plan_?content|plan_?document|plan_?body)($|_)"
)


def test_no_table_has_a_column_for_child_identity_or_plan_text():
    offenders = [
        f"{table.name}.{column.name}"
        for table in SQLModel.metadata.tables.values()
        for column in table.columns
        if FORBIDDEN_COLUMN.search(column.name.lower())
    ]
    assert offenders == []


def test_the_privacy_pattern_catches_what_it_should():
    for name in ("child_name", "date_of_birth", "dob", "upn", "nhs_number", "home_address", "postcode", "plan_text"):
        assert FORBIDDEN_COLUMN.search(name), name
    for name in ("display_name", "setting_name", "system_id", "email", "filename"):
        assert not FORBIDDEN_COLUMN.search(name), name


def test_migrations_build_exactly_the_models(tmp_path):
    if POSTGRES_URL:
        engine = make_engine(POSTGRES_URL)
        reset_postgres_schema(engine)
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    upgrade(engine)
    upgrade(engine)  # a second run changes nothing
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    if POSTGRES_URL:
        reset_postgres_schema(engine)
        SQLModel.metadata.create_all(engine)  # leave the schema the other tests expect
    engine.dispose()
    assert differences == [], "run `audit-workflow db revision -m ...` for these model changes"


def test_every_la_owned_table_carries_the_la(app):
    shared_tables = {"local_authority", "framework_version", "app_user", "user_session", "rate_limit_event"}
    per_la = {name for name, table in SQLModel.metadata.tables.items() if "la_id" in table.columns}
    owned_elsewhere = {
        name for name in SQLModel.metadata.tables
        if name not in per_la and name not in shared_tables and not name.startswith(("scheduler_", "mail_", "oauth_"))
    }
    assert owned_elsewhere == set(), "tables that hold an LA's data need an la_id column"
