"""What a scheduled job reports: the one type every area's jobs return, so areas own their jobs
without importing the scheduler (the scheduler finds them through its job table)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class JobOutcome:
    summary: str
    warning: str | None = None  # for the admin page and /healthz, e.g. bank-holiday data running out


def counted(counts: Counter, nothing: str) -> str:
    """A summary such as "overdue 3, reminder 12", or `nothing` when nothing was done."""
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())) if counts else nothing
