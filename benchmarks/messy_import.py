"""Workload 6: importing the messy shape of a real council export, 100,000 rows: two title rows
and a blank row above the headings, the case-management system's own headings (aliases such as
"Person ID", "NC Year", "Establishment Type"), and everyday spellings of the values ("Academy -
Mainstream", "Year 09", "Autistic Spectrum Disorder") that the import matches by words, as in
tests/plans/test_corpus.py's caseload report.

The floor is the least work that lands the same rows: the `csv` module, skipping to the known
heading row, the file's own headings and spellings looked up in dicts written for this file
(what a one-off script for one council would do), and a chunked executemany insert in one
transaction. Both land in a new LA each time; the floor's rows must equal the import's.
"""

from __future__ import annotations

import csv
import io
import uuid

from sqlalchemy import select

from audit_workflow.db import session_scope
from audit_workflow.plans.models import Plan
from audit_workflow.plans.service import import_plans

from .data import NOW, RowGenerator, insert_rows
from .harness import Bench, Result, paired_medians, ratio_at_most
from .plan_import import NewAuthorities

GOAL_RATIO = 2.0
FILENAME = "SEN caseload.csv"
TITLE_ROWS = (["SEN Caseload Report - all open EHCPs"], ["Run by the SEN team on 01/10/2026 at 07:02"], [])
HEADINGS = ("Person ID", "NC Year", "Establishment Name", "Establishment Type", "Primary SEN Type", "Plan Type",
            "Case Team", "Date Issued")
# The file's spellings and what they mean (tests/plans/test_corpus.py reads them so).
NC_YEARS = {"R": "EYFS", "3": "KS2", "Y8": "KS3", "Year 09": "KS3", "12": "KS5", "14": "KS5", "Key stage 5": "KS5"}
SETTING_TYPES = {"Academy - Mainstream": "mainstream_academy_free", "Early years provider": "early_years",
                 "Specialist post-16 institution": "post16_specialist", "LA maintained special": "special_maintained",
                 "FE college": "post16_fe_college", "Free School - Special": "special_academy_free",
                 "Alternative Provision / PRU": "ap_pru"}
NEEDS = {"Autistic Spectrum Disorder": "ASD", "Speech, Language and Communication Needs": "SLCN",
         "Profound & Multiple Learning Difficulty": "PMLD", "Social, Emotional and Mental Health": "SEMH",
         "Moderate learning difficulties": "MLD", "SEMH": "SEMH"}
PLAN_TYPES = {"Annual Review": "annual_review", "New EHCP": "new", "Amendment": "amended"}
COMPARED = (Plan.system_id, Plan.key_stage, Plan.setting_name, Plan.setting_type, Plan.primary_need, Plan.plan_type,
            Plan.writer_team)


def messy_export(rows: int, seed: int = 11) -> bytes:
    gen = RowGenerator(seed)
    pools = [list(spellings) for spellings in (NC_YEARS, SETTING_TYPES, NEEDS, PLAN_TYPES)]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerows([*TITLE_ROWS, HEADINGS])
    for index in range(rows):
        year, setting_type, need, kind = (gen.rng.choice(pool) for pool in pools)
        writer.writerow((f"{300000 + index}", year, f"Setting {index % 400} ", setting_type, need, kind,
                         f"SEN {('North', 'South', 'East')[index % 3]}", "12/03/2024"))
    return text.getvalue().encode("utf-8-sig")


def _bare_insert(engine, la_id: uuid.UUID, data: bytes) -> None:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    for _ in range(len(TITLE_ROWS) + 1):  # the title rows, then the headings
        next(reader)
    with engine.begin() as connection:
        insert_rows(connection, Plan.__table__, (
            {"id": uuid.uuid4(), "la_id": la_id, "system_id": system_id, "key_stage": NC_YEARS[year],
             "setting_name": setting.strip(), "setting_type": SETTING_TYPES[setting_type], "primary_need": NEEDS[need],
             "plan_type": PLAN_TYPES[kind], "writer_team": team.strip(), "created_at": NOW, "updated_at": NOW}
            for system_id, year, setting, setting_type, need, kind, team, _ in reader))


def _register(engine, la_id: uuid.UUID) -> set[tuple]:
    with engine.connect() as connection:
        return set(connection.execute(select(*COMPARED).where(Plan.la_id == la_id)).all())


def measure(bench: Bench) -> list[Result]:
    engine, rows = bench.engine, bench.scale.import_rows
    data = messy_export(rows)
    new_la = NewAuthorities(engine, prefix="M")

    def ours() -> None:
        with session_scope(engine) as db:
            summary = import_plans(db, new_la.id, FILENAME, data)
        assert summary.created == rows, summary.describe()

    new_la.create()
    ours()
    imported = _register(engine, new_la.id)
    new_la.create()
    _bare_insert(engine, new_la.id, data)
    if _register(engine, new_la.id) != imported:
        raise AssertionError("the messy import's floor did not land the same plans")
    ours_s, floor_s = paired_medians(ours, lambda: _bare_insert(engine, new_la.id, data), bench.repeat,
                                     prepare=new_la.create)
    return [ratio_at_most(Result("import_messy", ours_s, floor_s, extra={"rows": rows, "rows_per_s": rows / ours_s}),
                          GOAL_RATIO)]
