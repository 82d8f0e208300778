"""What a scheduled job reports: the one type every area's jobs return, so areas own their jobs
without importing the scheduler (the scheduler finds them through its job table)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobOutcome:
    summary: str
    warning: str | None = None  # for the admin page and /healthz, e.g. bank-holiday data running out
