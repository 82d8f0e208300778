"""The plan register: importing a file of plans (all of it, or none), and listing the register.

An import is upserted by System ID within the LA. It must stay fast for a county's whole register
(100,000 rows): existing plans are read in one query, new ones inserted and changed ones updated
in bulk (executemany, in chunks), and unchanged ones not touched at all.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterator, Sequence

from sqlalchemy import bindparam, delete, func, insert, update
from sqlmodel import Session, select

from ..clock import utcnow
from .models import ImportMapping, PendingUpload, Plan, PlanImport
from .parsing import ImportResult, RowProblem, parse_plan_file

# What an import may change on a plan it already holds (the System ID is the key).
UPDATABLE_FIELDS = ("key_stage", "setting_name", "setting_type", "primary_need", "plan_type", "writer_team", "flag")
CHUNK_ROWS = 5000
_UPDATE_BY_ID = (
    update(Plan.__table__)
    .where(Plan.__table__.c.id == bindparam("plan_id"))
    .values({name: bindparam(name) for name in (*UPDATABLE_FIELDS, "updated_at")})
)
PAGE_SIZE = 50
REGISTER_FILTERS = ("key_stage", "primary_need", "setting_type")


KEPT_UPLOAD_LIFETIME = timedelta(days=1)
COLUMN_MAPPING = "column"  # ImportMapping.kind for headings; values use their field's name


class PlanImportRefused(ValueError):
    """The file had problems, so nothing was imported; every problem is listed, and the reading
    (columns, unknown spellings) says what a mapping step could settle."""

    def __init__(self, problems: Sequence[RowProblem], result: ImportResult | None = None):
        super().__init__(f"The file has {len(problems)} problem{'s' if len(problems) != 1 else ''}, so no plans were imported")
        self.problems = list(problems)
        self.result = result

    @property
    def mappable(self) -> bool:
        """Whether the coordinator could settle it by saying what columns or values mean."""
        if self.result is None:
            return False
        spellings_only = bool(self.result.unknown_spellings) and len(self.problems) == len(self.result.unknown_spellings)
        return self.result.needs_mapping or spellings_only


@dataclass(frozen=True)
class ImportSummary:
    record: PlanImport
    unchanged: int
    flagged: int
    ignored_columns: tuple[str, ...]
    where_read: str = ""
    columns_read: tuple[tuple[str, str], ...] = ()  # (heading as the file spells it, field)

    @property
    def created(self) -> int:
        return self.record.rows_created

    @property
    def updated(self) -> int:
        return self.record.rows_updated

    def describe(self) -> str:
        sentences = [f"Imported {self.record.filename}: {self.created} new plans, {self.updated} updated, {self.unchanged} unchanged."]
        if self.flagged:
            sentences.append(f"{self.flagged} plans are flagged for a second look (shown in the register).")
        if self.where_read:
            sentences.append(f"{self.where_read}.")
        if self.columns_read and "writer_team" not in {field for _, field in self.columns_read}:
            sentences.append("The file has no writer team column, so allocation cannot keep plans from their own "
                             "team's auditors.")
        if self.ignored_columns:
            sentences.append(f"Columns not used: {', '.join(self.ignored_columns)}.")
        return " ".join(sentences)


def _chunks(rows: list[dict]) -> Iterator[list[dict]]:
    for start in range(0, len(rows), CHUNK_ROWS):
        yield rows[start:start + CHUNK_ROWS]


def remembered_mapping(db: Session, la_id: uuid.UUID) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The LA's remembered mapping: ({heading key: field}, {field: {value word key: code}})."""
    columns: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    for kind, key, target in db.exec(select(ImportMapping.kind, ImportMapping.key, ImportMapping.target)
                                     .where(ImportMapping.la_id == la_id)):
        if kind == COLUMN_MAPPING:
            columns[key] = target
        else:
            values.setdefault(kind, {})[key] = target
    return columns, values


def remember_mapping(db: Session, la_id: uuid.UUID, columns: dict[str, str] | None = None,
                     values: dict[str, dict[str, str]] | None = None) -> None:
    """Keep what the coordinator said headings and values mean, for the LA's next upload."""
    wanted = {(COLUMN_MAPPING, key): target for key, target in (columns or {}).items()}
    wanted |= {(kind, key): target for kind, spellings in (values or {}).items() for key, target in spellings.items()}
    existing = {(row.kind, row.key): row for row in db.exec(select(ImportMapping).where(ImportMapping.la_id == la_id))}
    for (kind, key), target in wanted.items():
        row = existing.get((kind, key)) or ImportMapping(la_id=la_id, kind=kind, key=key[:200], target=target)
        row.target, row.updated_at = target, utcnow()
        db.add(row)
    db.flush()


def read_file(filename: str, data: bytes, remembered: tuple[dict[str, str], dict[str, dict[str, str]]], *,
              columns: dict[str, str] | None = None, values: dict[str, dict[str, str]] | None = None,
              sheet: str | None = None) -> ImportResult:
    """The file as the import reads it: with the LA's remembered mapping (remembered_mapping) and,
    over it, the one given. No database work, so a view can parse after ending its read."""
    remembered_columns, remembered_values = remembered
    merged_values = {field: remembered_values.get(field, {}) | spellings for field, spellings in (values or {}).items()}
    return parse_plan_file(filename, data, columns=remembered_columns | (columns or {}),
                           values=remembered_values | merged_values, sheet=sheet)


def import_plans(db: Session, la_id: uuid.UUID, filename: str, data: bytes,
                 imported_by_id: uuid.UUID | None = None, *, columns: dict[str, str] | None = None,
                 sheet: str | None = None) -> ImportSummary:
    """Parse the file with the LA's remembered mapping (and the columns given) and store its plans.

    Raises PlanImportRefused, before writing anything, if any row has a problem.
    """
    result = read_file(filename, data, remembered_mapping(db, la_id), columns=columns, sheet=sheet)
    return store_plans(db, la_id, filename, result, imported_by_id)


def store_plans(db: Session, la_id: uuid.UUID, filename: str, result: ImportResult,
                imported_by_id: uuid.UUID | None = None) -> ImportSummary:
    """Upsert a file's plans into the LA's register, in the caller's transaction; PlanImportRefused,
    before writing anything, if the reading has any problem."""
    if result.problems:
        raise PlanImportRefused(result.problems, result)
    flags = _flags_by_row(result.flagged)
    existing = {
        row[0]: row[1:]
        for row in db.execute(select(Plan.system_id, Plan.id, *(getattr(Plan, name) for name in UPDATABLE_FIELDS))
                              .where(Plan.la_id == la_id))
    }
    now = utcnow()
    to_insert: list[dict] = []
    to_update: list[dict] = []
    for row in result.rows:
        values = {name: getattr(row, name) for name in UPDATABLE_FIELDS if name != "flag"}
        values["flag"] = flags.get(row.row_number)
        current = existing.get(row.system_id)
        if current is None:
            to_insert.append({"id": uuid.uuid4(), "la_id": la_id, "system_id": row.system_id, **values,
                              "created_at": now, "updated_at": now})
        elif tuple(current[1:]) != tuple(values.values()):
            to_update.append({"plan_id": current[0], **values, "updated_at": now})
    # Core statements, not ORM bulk ones: the same executemany without the ORM's per-row bookkeeping.
    for chunk in _chunks(to_insert):
        db.execute(insert(Plan.__table__), chunk)
    for chunk in _chunks(to_update):
        db.execute(_UPDATE_BY_ID, chunk)
    record = PlanImport(la_id=la_id, filename=filename[:255], imported_by_id=imported_by_id,
                        rows_created=len(to_insert), rows_updated=len(to_update))
    db.add(record)
    db.flush()
    return ImportSummary(record, unchanged=len(result.rows) - len(to_insert) - len(to_update), flagged=len(flags),
                         ignored_columns=result.ignored_columns, where_read=result.where_read(),
                         columns_read=tuple((column.heading, column.field) for column in result.columns if column.field))


def keep_upload(db: Session, la_id: uuid.UUID, user_id: uuid.UUID, filename: str, data: bytes,
                sheet: str | None = None) -> PendingUpload:
    """Keep a file while its coordinator maps it; their earlier kept file goes, and so does any the
    LA's coordinators left unfinished for a day."""
    db.execute(delete(PendingUpload).where(
        (PendingUpload.uploaded_by_id == user_id)
        | ((PendingUpload.la_id == la_id) & (PendingUpload.created_at < utcnow() - KEPT_UPLOAD_LIFETIME))))
    upload = PendingUpload(la_id=la_id, uploaded_by_id=user_id, filename=filename[:255], sheet=(sheet or None) and sheet[:100],
                           data=data)
    db.add(upload)
    db.flush()
    return upload


def finish_upload(db: Session, upload: PendingUpload, result: ImportResult, user_id: uuid.UUID, *,
                  columns: dict[str, str] | None = None, values: dict[str, dict[str, str]] | None = None) -> ImportSummary:
    """Remember the mapping the coordinator gave and store the kept file's plans as read with it.
    The mapping is kept even when the file is refused (the caller commits either way); the file
    goes once it is imported, or refused for problems no mapping can settle."""
    remember_mapping(db, upload.la_id, columns, values)
    try:
        summary = store_plans(db, upload.la_id, upload.filename, result, user_id)
    except PlanImportRefused as refusal:
        if not refusal.mappable:
            db.delete(upload)
            db.flush()
        raise
    db.delete(upload)
    db.flush()
    return summary


def _flags_by_row(flagged: Sequence[RowProblem]) -> dict[int, str]:
    return {item.row: item.message for item in flagged}


def recent_imports(db: Session, la_id: uuid.UUID, limit: int = 10) -> list[PlanImport]:
    return list(db.exec(select(PlanImport).where(PlanImport.la_id == la_id)
                        .order_by(PlanImport.imported_at.desc()).limit(limit)).all())


@dataclass(frozen=True)
class RegisterPage:
    plans: list[Plan]
    total: int
    page: int
    pages: int


def register_page(db: Session, la_id: uuid.UUID, filters: dict[str, str], page: int = 1) -> RegisterPage:
    """One page of the LA's register, by System ID, narrowed by key stage, need and setting type."""
    conditions = [Plan.la_id == la_id]
    conditions += [getattr(Plan, name) == value for name, value in filters.items() if name in REGISTER_FILTERS and value]
    total = db.exec(select(func.count()).select_from(Plan).where(*conditions)).one()
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(page, 1), pages)
    plans = db.exec(select(Plan).where(*conditions).order_by(Plan.system_id)
                    .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return RegisterPage(list(plans), total, page, pages)
