"""Timing, goals and reporting shared by every workload.

A workload measures the service's own code ("ours") and its floor (the least work that gives the
same answer, on the same data, in the same run) and returns Results. Times are medians of several
repetitions; the ratio ours/floor is what the goals are about, so a slow or busy machine moves
both sides together.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

SKIPPED = "skipped"
ERROR = "error"


class Skip(Exception):
    """The workload cannot run against this server (a page did not answer as expected); the message says why."""


@dataclass(frozen=True)
class Check:
    """One part of a goal, e.g. "ratio <= 1.5", and whether this run met it."""

    text: str
    met: bool


@dataclass
class Result:
    workload: str
    ours_s: float | None = None
    floor_s: float | None = None
    checks: list[Check] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # rates, memory, row counts
    skipped: str | None = None
    error: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.ours_s is None or not self.floor_s:
            return None
        return self.ours_s / self.floor_s

    @property
    def goal(self) -> str:
        return "; ".join(check.text for check in self.checks)

    @property
    def met(self) -> bool | None:
        return None if self.ratio is None else all(check.met for check in self.checks)

    def as_json(self) -> dict[str, Any]:
        document = {"workload": self.workload, "ours_s": _round(self.ours_s), "floor_s": _round(self.floor_s),
                    "ratio": _round(self.ratio, 3), "goal": self.goal, "met": self.met}
        if self.skipped:
            document[SKIPPED] = self.skipped
        if self.error:
            document[ERROR] = self.error
        return {**document, **{name: _round(value) for name, value in self.extra.items()}}


def _round(value: Any, digits: int = 6) -> Any:
    return round(value, digits) if isinstance(value, float) else value


def ratio_at_most(result: Result, limit: float) -> Result:
    """Add the usual goal, ours <= limit x floor, to a measured result."""
    result.checks.append(Check(f"ratio <= {limit:g}", result.ratio is not None and result.ratio <= limit))
    return result


# A run of a few milliseconds is at the mercy of the scheduler and the caches: such runs are
# repeated until they add up to this long (at most MAX_REPEAT times), so their median is stable.
STEADY_SECONDS = 1.0
MAX_REPEAT = 51


def median_seconds(run: Callable[[], Any], repeat: int, prepare: Callable[[], Any] | None = None) -> float:
    """The median wall time of `run` over at least `repeat` runs (more for quick ones, see
    STEADY_SECONDS); `prepare` (untimed) resets state before each."""
    times: list[float] = []
    while len(times) < repeat or (sum(times) < STEADY_SECONDS and len(times) < MAX_REPEAT):
        if prepare is not None:
            prepare()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_medians(ours: Callable[[], Any], floor: Callable[[], Any], repeat: int,
                   prepare: Callable[[], Any]) -> tuple[float, float]:
    """The medians of `ours` and its floor over `repeat` runs each, taken in turns, so that a drift
    during the run (tables growing, autovacuum waking) weighs on both alike. For runs of seconds."""
    ours_times, floor_times = [], []
    for _ in range(repeat):
        for run, times in ((ours, ours_times), (floor, floor_times)):
            prepare()
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return statistics.median(ours_times), statistics.median(floor_times)


def log(message: str) -> None:
    """Progress goes to stderr, so `--json` output on stdout stays clean."""
    print(message, file=sys.stderr, flush=True)


def run_workload(names: Iterable[str], measure: Callable[[], list[Result]]) -> list[Result]:
    """Run one workload; one that cannot run, or fails, is reported under each of its names."""
    names = list(names)
    log(f"--- {', '.join(names)}")
    started = time.perf_counter()
    try:
        results = measure()
    except Skip as reason:
        log(f"    skipped: {reason}")
        return [Result(name, skipped=str(reason)) for name in names]
    except Exception as failure:  # report it and go on with the other workloads; the exit status says so
        traceback.print_exc()
        return [Result(name, error=f"{type(failure).__name__}: {failure}") for name in names]
    log(f"    done in {time.perf_counter() - started:.1f} s")
    return results


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _extra_text(extra: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
                     for name, value in extra.items())


def table(results: list[Result]) -> str:
    rows = [("workload", "ours", "floor", "ratio", "goal", "met", "notes")]
    for result in results:
        if result.skipped or result.error:
            rows.append((result.workload, "-", "-", "-", "-", SKIPPED if result.skipped else ERROR,
                         result.skipped or result.error))
            continue
        met = {True: "yes", False: "NO", None: "-"}[result.met]
        ratio = f"{result.ratio:.2f}x" if result.ratio is not None else "-"
        rows.append((result.workload, _seconds(result.ours_s), _seconds(result.floor_s), ratio, result.goal, met,
                     _extra_text(result.extra)))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def to_json(results: list[Result]) -> str:
    return json.dumps([result.as_json() for result in results], indent=2)


@dataclass
class Bench:
    """What every workload is given: the built data and where it lives."""

    scale: Any  # data.Scale
    repeat: int
    engine: Any  # sqlalchemy Engine
    database_url: str
    dataset: Any  # data.Dataset
    workdir: Any  # pathlib.Path, a private temporary directory
    config: dict[str, Any]  # the application's settings, as the jobs receive them
