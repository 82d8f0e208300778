import uuid
from datetime import datetime

from sqlmodel import Field, Index, SQLModel

from ..modelling import id_field


class RateLimitEvent(SQLModel, table=True):
    """One counted event (a failed sign-in, a feedback link opened) under a hash of its key. Not an
    LA's data (an address or an unknown link belongs to no LA); deleted once it no longer counts."""

    __tablename__ = "rate_limit_event"
    __table_args__ = (Index("ix_rate_limit_event_key_expires", "key_hash", "expires_at"),)

    id: uuid.UUID = id_field()
    key_hash: str = Field(max_length=64)
    expires_at: datetime = Field(description="when the event stops counting: its time plus its limit's window")
