"""Shared declarations for SQLModel tables: ids that cannot be guessed, the LA boundary, links to a
parent row and to the user who acted, append-only history rows, aware UTC timestamps."""

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from .clock import utcnow


def id_field() -> uuid.UUID:
    # Random UUIDs in URLs: knowing one plan's address tells nothing about another's (ASVS 8.2.2).
    return Field(default_factory=uuid.uuid4, primary_key=True)


def la_field() -> uuid.UUID:
    return Field(foreign_key="local_authority.id", index=True, ondelete="CASCADE")


class LaOwned(SQLModel):
    """The first columns of every table that holds one LA's data: its id, and the LA it belongs to.
    access.load_owned and in_my_la keep each LA to its own rows by la_id; deleting an LA deletes them."""

    id: uuid.UUID = id_field()
    la_id: uuid.UUID = la_field()


def parent_field(table: str, *, index: bool = True, unique: bool = False) -> uuid.UUID:
    """The row's parent, a row of `table`: the row is deleted with it. Indexed unless index=False;
    unique=True allows one row per parent, and its unique constraint is the index."""
    if unique:
        return Field(foreign_key=f"{table}.id", unique=True, ondelete="CASCADE")
    return Field(foreign_key=f"{table}.id", index=index, ondelete="CASCADE")


def actor_field() -> uuid.UUID | None:
    """The user who did what the row records (for an action, who owns it). Emptied when their account
    is deleted: the record outlives the account."""
    return Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")


def created_field() -> datetime:
    return Field(default_factory=utcnow)


class HistoryRow(LaOwned):
    """A row of an append-only history (written once, never changed): who acted, and when. Each
    table adds what it is a history of, as a parent_field, and what happened."""

    actor_id: uuid.UUID | None = actor_field()
    at: datetime = created_field()
