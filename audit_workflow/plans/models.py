import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, UniqueConstraint

from ..modelling import LaOwned, actor_field, created_field


class PlanType(StrEnum):
    NEW = "new"
    ANNUAL_REVIEW = "annual_review"
    AMENDED = "amended"


class Plan(LaOwned, table=True):
    """A plan in the LA's register, by its pseudonymous System ID. Never the plan itself, nor the
    child's name, date of birth, address, UPN or NHS number: there are deliberately no such columns."""

    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("la_id", "system_id"),)

    system_id: str = Field(max_length=64)
    key_stage: str = Field(max_length=10)
    setting_name: str | None = Field(default=None, max_length=200)
    setting_type: str = Field(max_length=40)
    primary_need: str = Field(max_length=10, description="DfE SEN2 code")
    plan_type: str = Field(default=PlanType.ANNUAL_REVIEW, max_length=20)
    writer_team: str | None = Field(default=None, max_length=120)
    flag: str | None = Field(default=None, max_length=200, description="e.g. NSA need on an EHCP")
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class PlanImport(LaOwned, table=True):
    """A record of each file that landed, for the coordinator's history."""

    __tablename__ = "plan_import"

    filename: str = Field(max_length=255)
    imported_by_id: uuid.UUID | None = actor_field()
    imported_at: datetime = created_field()
    rows_created: int = 0
    rows_updated: int = 0


class ImportMapping(LaOwned, table=True):
    """What a coordinator said a heading or a value of their LA's exports means, remembered for the
    next upload. kind is "column" (key: the heading's match key, target: a field, "" for not used)
    or a field such as "setting_type" (key: the value's word key, target: the code)."""

    __tablename__ = "plan_import_mapping"
    __table_args__ = (UniqueConstraint("la_id", "kind", "key"),)

    kind: str = Field(max_length=20)
    key: str = Field(max_length=200)
    target: str = Field(max_length=40)
    updated_at: datetime = created_field()


class PendingUpload(LaOwned, table=True):
    """A register file kept while its coordinator maps its columns or values; deleted when it is
    imported, and replaced by their next upload. It has passed the personal-data checks on its
    headings and values before it is kept."""

    __tablename__ = "plan_upload"

    uploaded_by_id: uuid.UUID | None = Field(default=None, foreign_key="app_user.id", ondelete="CASCADE", index=True)
    filename: str = Field(max_length=255)
    sheet: str | None = Field(default=None, max_length=100)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = created_field()
