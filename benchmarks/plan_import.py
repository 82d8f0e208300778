"""Workload 3: importing a county's register (a CSV) through the real import, validation included,
into a new LA (an empty register), against the least work that lands the same rows: the `csv`
module reading the file and one executemany insert of the rows, in chunks, in one transaction.
Also the import's peak Python memory (tracemalloc), which must stay well under a small server's RAM.
"""

from __future__ import annotations

import csv
import io
import tracemalloc
import uuid
from datetime import timedelta

from sqlalchemy import insert

from audit_workflow.authorities.models import LocalAuthority
from audit_workflow.db import session_scope
from audit_workflow.plans.models import Plan
from audit_workflow.plans.service import import_plans

from .data import KEY_STAGE_MIX, NEED_MIX, NOW, PLAN_TYPE_MIX, SETTING_TYPE_MIX, RowGenerator, insert_rows
from .harness import Bench, Check, Result, paired_medians, ratio_at_most

GOAL_RATIO = 2.0
GOAL_PEAK_MB = 500
HEADINGS = ("System ID", "Key stage", "Setting name", "Setting type", "Primary need", "Plan type", "Writer team")
FILENAME = "register.csv"


def register_csv(rows: int, seed: int = 7) -> bytes:
    """A register export as an LA's case management system would write it (UTF-8 with a BOM)."""
    gen = RowGenerator(seed)
    columns = zip(gen.weighted(KEY_STAGE_MIX, rows), gen.weighted(SETTING_TYPE_MIX, rows),
                  gen.weighted(NEED_MIX, rows), gen.weighted(PLAN_TYPE_MIX, rows))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    writer.writerows((f"IMP-{index:07d}", stage, f"Setting {index % 400}", setting, need, kind, f"Team {index % 6}")
                     for index, (stage, setting, need, kind) in enumerate(columns))
    return text.getvalue().encode("utf-8-sig")


def _bare_insert(engine, la_id: uuid.UUID, data: bytes) -> None:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    next(reader)
    with engine.begin() as connection:
        insert_rows(connection, Plan.__table__, (
            {"id": uuid.uuid4(), "la_id": la_id, "system_id": system_id, "key_stage": stage, "setting_name": setting,
             "setting_type": setting_type, "primary_need": need, "plan_type": kind, "writer_team": team,
             "created_at": NOW, "updated_at": NOW}
            for system_id, stage, setting, setting_type, need, kind, team in reader))


class NewAuthorities:
    """Each repetition imports into a new, empty LA. Emptying one instead would mean deleting its
    plans, which is slow for a reason of its own (see docs/performance.md: unindexed foreign keys)."""

    def __init__(self, engine, prefix: str = "I"):
        self.engine = engine
        self.prefix = prefix  # of the LAs' codes, which are unique
        self.created = 0
        self.id: uuid.UUID | None = None

    def create(self) -> None:
        self.id = uuid.uuid4()
        self.created += 1
        with self.engine.begin() as connection:
            connection.execute(insert(LocalAuthority.__table__), [{
                "id": self.id, "code": f"{self.prefix}{self.created:02d}",
                "name": f"Import LA {self.prefix}{self.created}",
                "region": "E12000008", "created_at": NOW - timedelta(days=1)}])


def measure(bench: Bench) -> list[Result]:
    engine = bench.engine
    data = register_csv(bench.scale.import_rows)
    new_la = NewAuthorities(engine)

    def ours() -> None:
        with session_scope(engine) as db:
            summary = import_plans(db, new_la.id, FILENAME, data)
        assert summary.created == bench.scale.import_rows, summary.describe()

    ours_s, floor_s = paired_medians(ours, lambda: _bare_insert(engine, new_la.id, data), bench.repeat,
                                     prepare=new_la.create)
    new_la.create()
    tracemalloc.start()
    ours()
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    result = Result("import", ours_s, floor_s, extra={"rows": bench.scale.import_rows, "peak_mb": peak_mb,
                                                      "rows_per_s": bench.scale.import_rows / ours_s})
    ratio_at_most(result, GOAL_RATIO)
    result.checks.append(Check(f"peak < {GOAL_PEAK_MB} MB", peak_mb < GOAL_PEAK_MB))
    return [result]
