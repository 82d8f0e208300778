"""Figures loaded from outside the service for the reports to compare against.

An LA's own audits are never copied here: benchmarks across the LAs that opted in
(LocalAuthority.benchmark_opt_in) are computed from the audits themselves when a page asks.
"""

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from ..modelling import LaOwned, created_field, id_field


class BenchmarkFigure(SQLModel, table=True):
    """One published share, e.g. "Good: 45.6% of plans nationally" from a named source. la_id None:
    shown to every LA; otherwise loaded for that LA only (e.g. its own commercial tool's benchmark)."""

    __tablename__ = "benchmark_figure"
    __table_args__ = (UniqueConstraint("source", "section_code", "grade"),)

    id: uuid.UUID = id_field()
    la_id: uuid.UUID | None = Field(default=None, foreign_key="local_authority.id", index=True, ondelete="CASCADE")
    source: str = Field(max_length=300, description="who published it, where and when")
    section_code: str = Field(max_length=8, description='"overall" or a section code')
    grade: str = Field(max_length=24)
    percent: float
    plans: int | None = Field(default=None, description="how many plans the figure is based on, if published")
    loaded_at: datetime = created_field()


class StatisticalNeighbour(LaOwned, table=True):
    """One of an LA's statistical neighbours (DfE's table), by the neighbour's LA code."""

    __tablename__ = "statistical_neighbour"
    __table_args__ = (UniqueConstraint("la_id", "neighbour_code"),)

    neighbour_code: str = Field(max_length=3)
    rank: int


class ContextFigure(SQLModel, table=True):
    """A published context figure such as DfE SEN2's share of plans issued within 20 weeks;
    la_id None is England's."""

    __tablename__ = "context_figure"
    __table_args__ = (UniqueConstraint("la_id", "measure", "year"),)

    id: uuid.UUID = id_field()
    la_id: uuid.UUID | None = Field(default=None, foreign_key="local_authority.id", index=True, ondelete="CASCADE")
    measure: str = Field(max_length=200)
    year: str = Field(max_length=20)
    value: float
    unit: str = Field(default="%", max_length=20)
    source: str = Field(max_length=300)
    loaded_at: datetime = created_field()
