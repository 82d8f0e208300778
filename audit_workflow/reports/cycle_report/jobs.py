"""The scheduler's job that writes the cycle reports people asked for from the cycle page.

Each report is claimed (a conditional UPDATE, so two processes never write the same one), built
with its progress recorded after each part, written, and stored with its row for download. A
failure is kept on the row, with its first line, for the person who asked.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy.engine import Engine

from ...clock import utcnow
from ...cycles.models import AuditCycle
from ...db import describe_error, session_scope
from ...framework.versions import configured_framework_file
from ...outcome import JobOutcome
from . import service

logger = logging.getLogger(__name__)

# Reports written per run; the rest wait for the next run, so one run never holds the scheduler long.
REPORTS_PER_RUN = 5
# Building the parts is most of the work; writing the file is the rest.
BUILT_PERCENT = 80


def cycle_reports_job(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> JobOutcome:
    written = failed = 0
    for _ in range(REPORTS_PER_RUN):
        with session_scope(engine, immediate=True) as db:
            job = service.claim_next(db, now or utcnow())
            if job is None:
                break
            job_id, cycle_id, format_name = job.id, job.cycle_id, job.format
        if write_report(engine, job_id, cycle_id, format_name, configured_framework_file(config)):
            written += 1
        else:
            failed += 1
    summary = f"{written} cycle report{'s' if written != 1 else ''} written"
    return JobOutcome(summary + (f", {failed} failed" if failed else ""))


def write_report(engine: Engine, job_id: uuid.UUID, cycle_id: uuid.UUID, format_name: str,
                 shipped_framework_file: Path) -> bool:
    def each_part(done: int, of: int) -> None:
        with session_scope(engine) as progress_db:
            service.record_progress(progress_db, job_id, done * BUILT_PERCENT // of)

    try:
        with session_scope(engine) as db:
            cycle = db.get(AuditCycle, cycle_id)
            fmt = service.report_format(format_name)
            report = service.build_report(db, cycle, each_part=each_part, shipped_framework_file=shipped_framework_file)
            filename = service.report_filename(cycle, fmt)
        content = fmt.write(report)
    except Exception as error:  # kept on the row for the person who asked; the next report still runs
        logger.error("cycle report %s failed: %s", job_id, describe_error(error))
        with session_scope(engine) as db:
            service.finish(db, job_id, utcnow(), error=describe_error(error))
        return False
    with session_scope(engine) as db:
        service.finish(db, job_id, utcnow(), content=content, filename=filename)
    return True
