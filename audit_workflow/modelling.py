"""Shared column helpers for SQLModel tables: ids that cannot be guessed, aware UTC timestamps."""

import uuid
from datetime import datetime

from sqlmodel import Field

from .clock import utcnow


def id_field() -> uuid.UUID:
    # Random UUIDs in URLs: knowing one plan's address tells nothing about another's (ASVS 8.2.2).
    return Field(default_factory=uuid.uuid4, primary_key=True)


def la_field() -> uuid.UUID:
    return Field(foreign_key="local_authority.id", index=True, ondelete="CASCADE")


def created_field() -> datetime:
    return Field(default_factory=utcnow)
