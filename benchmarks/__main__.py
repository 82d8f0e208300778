"""python -m benchmarks [--scale national|tenth|small|tiny] [--json] [--repeat N] [--only NAME ...]

Builds the synthetic data into a fresh database, then runs each workload beside its floor. SQLite
in a temporary directory by default; with AUDIT_WORKFLOW_DATABASE_URL set, that database is
EMPTIED and rebuilt. Progress goes to stderr; the table, or the JSON with --json, to stdout. Exits
1 if a workload failed (a workload whose code has not landed yet is skipped, which is not a failure).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from audit_workflow.auth.passwords import hash_password
from audit_workflow.config import load_settings
from audit_workflow.db import make_engine

from . import aggregations, cycle_report, mail, messy_import, moderation, plan_import, questionnaire, reports, tick, web
from .data import COORDINATOR_PASSWORD, SCALES, Builder
from .harness import Bench, log, run_workload, table, to_json

# A workload is a module with measure(bench) -> list[Result] and one line here (its result names).
# In this order: the tick runs last because its second half adds ten times the closed assignments.
WORKLOADS = {
    "aggregations": (aggregations.measure, ("cycle_status", "dashboard_aggregations")),
    "import": (plan_import.measure, ("import",)),
    "messy_import": (messy_import.measure, ("import_messy",)),
    "mail": (mail.measure, ("mail_drain", "mail_rate_cap")),
    "web": (web.measure, ("dashboard_web", "dashboard_web_vs_constant")),
    "questionnaire": (questionnaire.measure, ("questionnaire_web",)),
    "tick": (tick.measure, ("tick", "tick_10x_closed")),
    # After the tick, whose count of closed assignments its own LA (with a closed cycle) would change.
    "cycle_report": (cycle_report.measure, ("cycle_report_pptx", "cycle_report_pdf", "cycle_report_xlsx")),
    "reports": (reports.measure, ("reports_page", "reports_export_csv", "reports_export_xlsx")),
    "moderation": (moderation.measure, ("moderation_stats",)),  # last: its LA's audits would count in the reports
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[1])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--repeat", type=int, help="repetitions per measurement (the median is kept)")
    parser.add_argument("--only", nargs="+", choices=list(WORKLOADS), help="run only these workloads")
    return parser.parse_args(argv)


def _database_url(workdir: Path) -> str:
    url = os.environ.get("AUDIT_WORKFLOW_DATABASE_URL", "")
    if not url:
        return f"sqlite:///{workdir / 'benchmark.db'}"
    log("!" * 78)
    log(f"!! AUDIT_WORKFLOW_DATABASE_URL is set: EVERY TABLE in {url.rpartition('@')[2]}")
    log("!! is about to be DROPPED and rebuilt with synthetic benchmark data.")
    log("!" * 78)
    time.sleep(3)  # a last chance to press Ctrl-C
    return url


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    scale = SCALES[args.scale]
    workdir = Path(tempfile.mkdtemp(prefix="audit-workflow-bench-"))
    try:
        database_url = _database_url(workdir)
        config = load_settings(workdir / "instance", environ={})
        config.update(DATABASE_URL=database_url, BASE_URL="http://127.0.0.1")
        engine = make_engine(database_url)
        log(f"Building the {scale.name} data set in {engine.dialect.name} ...")
        started = time.perf_counter()
        dataset = Builder(engine, scale, hash_password(COORDINATOR_PASSWORD)).build()
        log(f"    built in {time.perf_counter() - started:.0f} s: "
            + ", ".join(f"{name} {count:,}" for name, count in dataset.row_counts.items() if count))
        bench = Bench(scale, args.repeat or scale.default_repeat, engine, database_url, dataset, workdir, config)
        results = []
        for name, (measure, result_names) in WORKLOADS.items():
            if not args.only or name in args.only:
                results.extend(run_workload(result_names, partial(measure, bench)))
        engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(to_json(results) if args.json else table(results))
    return 1 if any(result.error for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
