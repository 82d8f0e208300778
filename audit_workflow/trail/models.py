"""The access trail: who signed in and out, and who read or changed which plan, assignment, audit,
action or export, when and from where. Append-only: the application has no way to change or delete
a row except the retention purge (on PostgreSQL a trigger refuses anything else).

No foreign keys on purpose: deleting a user or an LA must neither change nor delete the record of
what they did (a cascade would be an update or a delete). So the user's email is kept beside their id.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DDL, Index, event
from sqlmodel import Field, SQLModel

from ..modelling import created_field, id_field


class TrailAction(StrEnum):
    READ = "read"
    CHANGE = "change"
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    EXPORT = "export"


class AccessEvent(SQLModel, table=True):
    __tablename__ = "access_event"
    __table_args__ = (
        Index("ix_access_event_la_system_id", "la_id", "system_id"),
        Index("ix_access_event_at", "at"),
    )

    id: uuid.UUID = id_field()
    at: datetime = created_field()
    la_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    user_email: str | None = Field(default=None, max_length=254)
    action: str = Field(max_length=10)
    object_kind: str | None = Field(default=None, max_length=40, description="the table name, e.g. audit")
    object_id: uuid.UUID | None = None
    system_id: str | None = Field(default=None, max_length=64)
    path: str | None = Field(default=None, max_length=300)
    client_ip: str | None = Field(default=None, max_length=45)


# Setting this for one transaction (SET LOCAL) is how the retention purge, and only it, deletes rows.
PURGE_SETTING = "audit_workflow.trail_purge"

APPEND_ONLY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION access_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('{PURGE_SETTING}', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the access trail is append-only';
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER access_event_append_only BEFORE UPDATE OR DELETE ON access_event
FOR EACH ROW EXECUTE FUNCTION access_event_append_only()
"""

# The tests build the schema from the models, so the trigger comes with the table there too.
for _statement in (APPEND_ONLY_FUNCTION, APPEND_ONLY_TRIGGER):
    event.listen(AccessEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
