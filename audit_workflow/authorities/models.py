import uuid
from datetime import date, datetime

from sqlalchemy import false
from sqlmodel import Field, SQLModel, UniqueConstraint

from ..modelling import LaOwned, created_field, id_field


class LocalAuthority(SQLModel, table=True):
    __tablename__ = "local_authority"

    id: uuid.UUID = id_field()
    code: str = Field(max_length=3, unique=True, description="DfE LA code, e.g. 886")
    name: str = Field(max_length=120)
    region: str = Field(max_length=9, description="ONS region code, E12000001-9")
    contact_email: str | None = Field(default=None, max_length=254)
    # Whether this LA's grades count towards the regional and national averages (never shown by name).
    benchmark_opt_in: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = created_field()


class ClosureDay(LaOwned, table=True):
    """A day the LA's SEND service is closed (e.g. between Christmas and New Year)."""

    __tablename__ = "closure_day"
    __table_args__ = (UniqueConstraint("la_id", "day"),)

    day: date
    reason: str = Field(default="", max_length=200)
