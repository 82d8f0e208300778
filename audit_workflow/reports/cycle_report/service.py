"""The cycle report's use cases: gather a cycle's figures, build the report document, write it as
PPTX, PDF or XLSX, keep the coordinator's recommendations and context text, and queue big reports
for the scheduler's background job.

A part of the report is one function in PART_BUILDERS taking ReportInputs and returning a Part
(or None when it has nothing to say); an area that adds a summary (moderation, feedback, actions)
adds one function to the list.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from .. import aggregates
from .. import service as reports
from ...authorities.models import LocalAuthority
from ...clock import today, utcnow
from ...cycles import progress
from ...cycles.models import AssignmentStatus, AuditCycle
from ...db import session_scope
from ...framework import Framework
from ...framework.versions import framework_in_use
from ...notifications.privacy import personal_data_in
from ...refusals import Refused
from ..aggregates import OVERALL, Distribution
from ..filters import ReportFilter
from . import parts, summaries
from .document import CycleReport, Part
from .models import CycleReportJob, CycleReportText, ReportJobStatus
from .pdf_writer import write_pdf
from .pptx_writer import write_pptx
from .xlsx_writer import write_xlsx

TEXT_MAX_CHARS = 4000
# A cycle with at most this many plans in its sample is written while the coordinator waits; a
# bigger one goes to the scheduler's background job, which shows its progress.
DIRECT_GENERATION_MAX_PLANS = 60
ABANDONED_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class ReportFormat:
    extension: str
    media_type: str
    write: Callable[[CycleReport], bytes]
    label: str


FORMATS = {
    "pptx": ReportFormat("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", write_pptx,
                         "PowerPoint (PPTX)"),
    "pdf": ReportFormat("pdf", "application/pdf", write_pdf, "PDF"),
    "xlsx": ReportFormat("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", write_xlsx,
                         "Excel (XLSX)"),
}


class CycleReportError(Refused):
    """A cycle report request the service refuses (see refusals.Refused)."""


def report_format(name: str) -> ReportFormat:
    if name not in FORMATS:
        raise CycleReportError(f"Choose a format: {', '.join(FORMATS)}", "format")
    return FORMATS[name]


# --- The figures ----------------------------------------------------------------------------------


@dataclass
class ReportInputs:
    """What the part builders read: the cycle, and its figures (the reports pages' own, from
    reports.service) computed once on first use. shipped_framework_file: the FRAMEWORK_FILE setting
    (configured_framework_file), for an LA that has loaded no framework of its own."""

    db: Session
    cycle: AuditCycle
    shipped_framework_file: Path | None = None

    @cached_property
    def framework(self) -> Framework:
        return framework_in_use(self.db, self.cycle.la_id, self.shipped_framework_file)

    @cached_property
    def results(self) -> reports.Results:
        return reports.results(self.db, self.cycle.la_id, ReportFilter(cycle=self.cycle.id), self.framework)

    @property
    def distributions(self) -> dict[str, Distribution]:
        return self.results.distributions

    @cached_property
    def previous(self) -> AuditCycle | None:
        return reports.previous_cycle(self.db, self.cycle)

    @cached_property
    def previous_distributions(self) -> dict[str, Distribution] | None:
        if self.previous is None:
            return None
        return reports.results(self.db, self.cycle.la_id, ReportFilter(cycle=self.previous.id), self.framework).distributions

    @cached_property
    def texts(self) -> dict[str, str]:
        return report_texts(self.db, self.cycle)

    def recommendation(self, focus: parts.Focus) -> str:
        return self.texts.get(focus.key) or parts.suggested_recommendation(focus, self.distributions, self.framework)


def _summary(inputs: ReportInputs) -> Part:
    db, cycle = inputs.db, inputs.cycle
    overview = progress.sample_overview(db, cycle)
    counts = progress.cycle_progress(db, cycle)
    return parts.summary_part(parts.CycleFacts(
        name=cycle.name, status=cycle.status, register=overview.population, sampled=overview.sampled,
        auditors=len(progress.pool(db, cycle)), assignments_by_status=counts.by_status,
        audits_submitted=counts.by_status.get(AssignmentStatus.SUBMITTED, 0), graded=inputs.distributions[OVERALL].total,
    ))


def _comparison(inputs: ReportInputs) -> Part:
    if inputs.previous is None:
        return parts.comparison_part(None, None, inputs.distributions)
    comparison = aggregates.compare_distributions(inputs.previous_distributions, inputs.distributions,
                                                  inputs.previous.name, inputs.cycle.name)
    return parts.comparison_part(comparison, inputs.previous_distributions, inputs.distributions)


def _benchmark(inputs: ReportInputs) -> Part | None:
    """The benchmarks the reports page shows for this cycle: other opted-in LAs (from 5 or more,
    never named) over the cycle's period, and published figures."""
    authority = inputs.db.get(LocalAuthority, inputs.cycle.la_id)
    own = inputs.distributions[OVERALL]
    return parts.benchmark_part(own, reports.benchmarks(inputs.db, authority, ReportFilter(cycle=inputs.cycle.id), own))


def _focus(focus: parts.Focus) -> Callable[[ReportInputs], Part]:
    def build(inputs: ReportInputs) -> Part:
        return parts.focus_part(focus, inputs.distributions, inputs.recommendation(focus))

    return build


PART_BUILDERS: list[Callable[[ReportInputs], Part | None]] = [
    _summary,
    lambda inputs: parts.overall_part(inputs.distributions[OVERALL], inputs.results.agreed_audits),
    _comparison,
    lambda inputs: parts.sections_part(inputs.distributions),
    lambda inputs: parts.missed_part(inputs.results.missed),
    *(_focus(focus) for focus in parts.FOCUS_AREAS),
    _benchmark,
    summaries.moderation_part,
    summaries.feedback_part,
    summaries.actions_part,
    lambda inputs: parts.context_part(inputs.texts),
]


def build_report(db: Session, cycle: AuditCycle, on: date | None = None,
                 each_part: Callable[[int, int], None] | None = None,
                 shipped_framework_file: Path | None = None) -> CycleReport:
    """The whole report; `each_part(done, of)` is told after each part (the background job's progress)."""
    inputs = ReportInputs(db, cycle, shipped_framework_file)
    built = []
    for number, builder in enumerate(PART_BUILDERS, 1):
        part = builder(inputs)
        if part is not None:
            built.append(part)
        if each_part is not None:
            each_part(number, len(PART_BUILDERS))
    authority = db.get(LocalAuthority, cycle.la_id)
    return CycleReport(
        title=f"{cycle.name}: EHC plan quality assurance report", authority=authority.name,
        period=f"{_date_text(cycle.period_start)} to {_date_text(cycle.period_end)}",
        generated_on=on or today(), parts=tuple(built),
    )


def _date_text(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def report_filename(cycle: AuditCycle, fmt: ReportFormat) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", cycle.name.lower()).strip("-") or "cycle"
    return f"cycle-report-{slug}.{fmt.extension}"


def generate(db: Session, cycle: AuditCycle, format_name: str, on: date | None = None,
             shipped_framework_file: Path | None = None) -> tuple[bytes, str]:
    """The report file and its name, written while the caller waits."""
    fmt = report_format(format_name)
    report = build_report(db, cycle, on, shipped_framework_file=shipped_framework_file)
    return fmt.write(report), report_filename(cycle, fmt)


def generate_reading_only(engine: Engine, cycle_id: uuid.UUID, format_name: str,
                          shipped_framework_file: Path | None = None) -> tuple[bytes, str]:
    """generate() in a transaction of its own, which only reads, so a request that would otherwise
    hold SQLite's write lock does not keep other writers waiting while the file is written."""
    with session_scope(engine) as db:
        return generate(db, db.get(AuditCycle, cycle_id), format_name, shipped_framework_file=shipped_framework_file)


# --- The coordinator's text ------------------------------------------------------------------------

TOPICS = {focus.key: focus.title for focus in parts.FOCUS_AREAS} | {topic.key: topic.title for topic in parts.CONTEXT_TOPICS}


def report_texts(db: Session, cycle: AuditCycle) -> dict[str, str]:
    return {row.topic: row.text for row in db.exec(select(CycleReportText).where(CycleReportText.cycle_id == cycle.id)).all()}


def suggestions(db: Session, cycle: AuditCycle, shipped_framework_file: Path | None = None) -> dict[str, str]:
    inputs = ReportInputs(db, cycle, shipped_framework_file)
    return {focus.key: parts.suggested_recommendation(focus, inputs.distributions, inputs.framework)
            for focus in parts.FOCUS_AREAS}


def save_texts(db: Session, cycle: AuditCycle, texts: Mapping[str, str], user_id: uuid.UUID | None,
               suggested: Mapping[str, str] | None = None) -> None:
    """Store the topics given (empty clears one). Each is checked for a child's personal details,
    except wording the service itself suggested from the framework and left unchanged."""
    cleaned = {}
    for topic, text in texts.items():
        if topic not in TOPICS:
            raise CycleReportError(f"There is no report topic {topic!r}")
        text = (text or "").replace("\r\n", "\n").strip()
        if len(text) > TEXT_MAX_CHARS:
            raise CycleReportError(f"{TOPICS[topic]} must be {TEXT_MAX_CHARS} characters or fewer", topic)
        found = [] if suggested and text == suggested.get(topic, "").strip() else personal_data_in(text)
        if found:
            raise CycleReportError(f"Remove {' and '.join(found)} from {TOPICS[topic].lower()}. This service must not "
                                   "hold a child's personal details.", topic)
        cleaned[topic] = text
    stored = {row.topic: row for row in db.exec(select(CycleReportText).where(CycleReportText.cycle_id == cycle.id)).all()}
    for topic, text in cleaned.items():
        row = stored.get(topic)
        if row is None:
            row = CycleReportText(la_id=cycle.la_id, cycle_id=cycle.id, topic=topic)
        elif row.text == text:
            continue
        row.text, row.updated_by_id, row.updated_at = text, user_id, utcnow()
        db.add(row)
    db.flush()


# --- Background generation -------------------------------------------------------------------------


def generates_directly(db: Session, cycle: AuditCycle) -> bool:
    return progress.sample_overview(db, cycle).sampled <= DIRECT_GENERATION_MAX_PLANS


def request_report(db: Session, cycle: AuditCycle, format_name: str, user_id: uuid.UUID | None) -> CycleReportJob:
    report_format(format_name)
    job = CycleReportJob(la_id=cycle.la_id, cycle_id=cycle.id, format=format_name, requested_by_id=user_id)
    db.add(job)
    db.flush()
    return job


def latest_jobs(db: Session, cycle: AuditCycle, limit: int = 5) -> list[CycleReportJob]:
    return list(db.exec(select(CycleReportJob).where(CycleReportJob.cycle_id == cycle.id)
                        .order_by(col(CycleReportJob.requested_at).desc()).limit(limit)).all())


def _claimable(now: datetime):
    # A report still "running" long after it started was being written by a process that died.
    return (CycleReportJob.status == ReportJobStatus.REQUESTED) | (
        (CycleReportJob.status == ReportJobStatus.RUNNING) & (CycleReportJob.started_at < now - ABANDONED_AFTER))


def claim_next(db: Session, now: datetime) -> CycleReportJob | None:
    """Take the oldest requested report: a conditional UPDATE, so two scheduler processes never
    both write the same report."""
    candidate = db.exec(select(CycleReportJob.id).where(_claimable(now))
                        .order_by(CycleReportJob.requested_at).limit(1)).first()
    if candidate is None:
        return None
    claimed = db.execute(update(CycleReportJob).where(CycleReportJob.id == candidate, _claimable(now))
                         .values(status=ReportJobStatus.RUNNING, started_at=now, progress=0))
    return db.get(CycleReportJob, candidate) if claimed.rowcount == 1 else None


def record_progress(db: Session, job_id: uuid.UUID, percent: int) -> None:
    db.execute(update(CycleReportJob).where(CycleReportJob.id == job_id).values(progress=percent))


def finish(db: Session, job_id: uuid.UUID, now: datetime, content: bytes | None = None, filename: str | None = None,
           error: str | None = None) -> None:
    db.execute(update(CycleReportJob).where(CycleReportJob.id == job_id).values(
        status=ReportJobStatus.FAILED if error else ReportJobStatus.DONE, progress=100, finished_at=now,
        content=content, filename=filename, error=error[:500] if error else None))


def load_job(db: Session, job_id: uuid.UUID) -> CycleReportJob | None:
    return db.get(CycleReportJob, job_id)
