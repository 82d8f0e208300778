"""The exports: each a name, a title, column headings and a function giving its rows for an LA and
a filter. Other areas add theirs with register_export() (moderation pairs, feedback answers), and
they appear on the reports page, as CSV and XLSX, filtered like the page.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlmodel import Session

from ..framework import SECTION_CODES, Grade
from ..plans.reference import KEY_STAGES, PLAN_TYPES, PRIMARY_NEEDS, SETTING_TYPES
from ..reference import DISCIPLINES
from . import queries
from .export_formats import CSV_MIME, XLSX_MIME, csv_bytes, xlsx_bytes
from .filters import ReportFilter

RowsFunction = Callable[[Session, uuid.UUID, ReportFilter], Iterable[Sequence[object]]]


@dataclass(frozen=True)
class Export:
    name: str  # in the URL: letters, digits and hyphens
    title: str
    headers: tuple[str, ...]
    rows: RowsFunction
    description: str = ""


EXPORTS: dict[str, Export] = {}
FORMATS = {"csv": CSV_MIME, "xlsx": XLSX_MIME}


def register_export(export: Export) -> None:
    """Add an export (once; importing a module twice changes nothing)."""
    EXPORTS.setdefault(export.name, export)


def render_export(db: Session, export: Export, la_id: uuid.UUID, report_filter: ReportFilter, file_format: str,
                  described_filter: list[tuple[str, str]]) -> bytes:
    preamble = [[export.title], *([label, value] for label, value in described_filter)]
    rows = export.rows(db, la_id, report_filter)
    if file_format == "xlsx":
        return xlsx_bytes(export.title, preamble, export.headers, rows)
    return csv_bytes(preamble, export.headers, rows)


GRADE_LABELS = {grade.value: grade.label for grade in Grade}
# Code -> label as plain dicts: an export looks up five per row.
KEY_STAGE, NEED, SETTING, PLAN_TYPE, DISCIPLINE = (dict(vocabulary) for vocabulary in (
    KEY_STAGES, PRIMARY_NEEDS, SETTING_TYPES, PLAN_TYPES, DISCIPLINES))


def _grade_label(grade: str | None) -> str:
    return GRADE_LABELS.get(grade, grade or "")


@lru_cache(maxsize=4096)
def _ticked(text: str | None) -> str:
    # The same lists of ticks recur across audits: each is read once.
    return "; ".join(json.loads(text)) if text else ""


AUDIT_HEADERS = (
    "Audit ID", "Cycle", "System ID", "Key stage", "Primary need", "Setting type", "Plan type", "Auditor discipline",
    "Submitted", "Agreed grade used", "Overall grade",
    *(heading for code in SECTION_CODES for heading in (f"{code} grade", f"{code} criteria ticked")),
)


def audit_export_rows(db: Session, la_id: uuid.UUID, report_filter: ReportFilter) -> Iterable[Sequence[object]]:
    for row in queries.audit_rows(db, la_id, report_filter):
        (audit_id, cycle, system_id, key_stage, need, setting, plan_type, discipline, submitted, agreed, overall,
         *sections) = row
        cells = [str(audit_id), cycle, system_id, KEY_STAGE.get(key_stage, key_stage), NEED.get(need, need),
                 SETTING.get(setting, setting), PLAN_TYPE.get(plan_type, plan_type),
                 DISCIPLINE.get(discipline, discipline), submitted,
                 "Yes" if agreed else "No", _grade_label(overall)]
        for grade, ticked in zip(sections[0::2], sections[1::2]):
            cells += [_grade_label(grade), _ticked(ticked)]
        yield cells


ASSIGNMENT_HEADERS = (
    "Cycle", "System ID", "Key stage", "Primary need", "Setting type", "Plan type", "Kind", "Status", "Auditor",
    "Auditor discipline", "Assigned", "Due", "Submitted", "Declined", "Reason for declining",
)


def assignment_export_rows(db: Session, la_id: uuid.UUID, report_filter: ReportFilter) -> Iterable[Sequence[object]]:
    for row in queries.assignment_rows(db, la_id, report_filter):
        (cycle, system_id, key_stage, need, setting, plan_type, kind, status, auditor, discipline, *rest) = row
        yield [cycle, system_id, KEY_STAGE.get(key_stage, key_stage), NEED.get(need, need), SETTING.get(setting, setting),
               PLAN_TYPE.get(plan_type, plan_type), kind.capitalize(), status.replace("_", " ").capitalize(), auditor,
               DISCIPLINE.get(discipline, discipline), *rest]


register_export(Export("audits", "Audits", AUDIT_HEADERS, audit_export_rows,
                       "One row per submitted audit: each section's grade and the criteria ticked."))
register_export(Export("assignments", "Assignments", ASSIGNMENT_HEADERS, assignment_export_rows,
                       "One row per assignment, primary and moderation, with its status and dates."))
