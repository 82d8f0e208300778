"""The benchmarks are not tests, but this keeps them working: one small run, one repetition."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = {"cycle_status", "dashboard_aggregations", "import", "mail_drain", "mail_rate_cap", "dashboard_web",
             "tick", "tick_10x_closed"}


@pytest.mark.slow
def test_a_small_run_reports_every_workload_with_a_ratio_or_a_reason():
    # Without the caller's settings: a PostgreSQL URL there would be emptied; SQLite in a temporary directory instead.
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AUDIT_WORKFLOW_")}
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--scale", "small", "--repeat", "1", "--json"],
                         cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    results = {result["workload"]: result for result in json.loads(run.stdout)}
    assert set(results) == WORKLOADS
    for name, result in results.items():
        measured = isinstance(result["ratio"], float) and result["ratio"] > 0 and isinstance(result["met"], bool)
        assert measured or result.get("skipped"), f"{name}: {result}"
