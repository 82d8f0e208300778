"""The stored framework versions: each framework exactly as audits were graded under it."""

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Field, Index, SQLModel, UniqueConstraint

from ..modelling import created_field, id_field


class FrameworkVersion(SQLModel, table=True):
    """A framework exactly as audits were graded under it; la_id None is the shipped default."""

    __tablename__ = "framework_version"
    __table_args__ = (
        UniqueConstraint("la_id", "version"),
        # NULLs are distinct in a unique constraint, so the shipped defaults need their own index:
        # two requests storing the same shipped version at once must not both succeed.
        Index(
            "uq_framework_version_shipped", "version", unique=True,
            sqlite_where=text("la_id IS NULL"), postgresql_where=text("la_id IS NULL"),
        ),
    )

    id: uuid.UUID = id_field()
    la_id: uuid.UUID | None = Field(default=None, foreign_key="local_authority.id", ondelete="CASCADE")
    version: str = Field(max_length=40)
    content: str = Field(description="the framework as JSON")
    active: bool = True
    loaded_at: datetime = created_field()
