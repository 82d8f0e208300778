"""The benchmarks are not tests, but this keeps them working: every workload at the tiny scale, once.

It checks that each workload ran and reported its numbers, not what the numbers are: timings on a
shared machine are no test. It always runs on SQLite in a temporary directory, because the
benchmark empties the database it is given.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# The results every run must have, and the extra numbers each must report beside ours/floor.
EXTRA_FIELDS = {
    "cycle_status": {"open_cycles"},
    "dashboard_aggregations": {"open_cycles"},
    "import": {"rows", "peak_mb", "rows_per_s"},
    "import_messy": {"rows", "rows_per_s"},
    "mail_drain": {"messages", "messages_per_s", "floor_commits_per_message"},
    "mail_rate_cap": {"cap_per_min", "achieved_per_min", "cap_share", "http_429"},
    "dashboard_web": {"rps", "bare_rps", "throughput_share", "p99_ms", "page_chars", "bare_page_chars"},
    "dashboard_web_vs_constant": {"rps", "constant_rps", "throughput_share"},
    "questionnaire_web": {"rps", "bare_rps", "throughput_share", "p99_ms", "refused"},
    "tick": {"candidate_rows", "queued", "closed_assignments"},
    "tick_10x_closed": {"candidate_rows", "queued", "closed_assignments"},
    "cycle_report_pptx": {"plans", "peak_mb", "bytes"},
    "cycle_report_pdf": {"plans", "peak_mb", "bytes"},
    "cycle_report_xlsx": {"plans", "peak_mb", "bytes"},
    "reports_page": {"audit_rows"},
    "reports_export_csv": {"rows"},
    "reports_export_xlsx": {"rows"},
    "moderation_stats": {"pairs", "resamples", "peak_mb", "floor_peak_mb"},
}


@pytest.mark.slow
def test_a_tiny_run_measures_every_workload_beside_its_floor():
    # Without the caller's settings: a PostgreSQL URL there would be emptied.
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AUDIT_WORKFLOW_")}
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--scale", "tiny", "--json"],
                         cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    results = {result["workload"]: result for result in json.loads(run.stdout)}
    # A workload added since (one module + one line in WORKLOADS) gets the checks that apply to all.
    assert set(EXTRA_FIELDS) <= set(results)
    for name, result in results.items():
        assert "skipped" not in result and "error" not in result, result
        assert result["ours_s"] > 0 and result["floor_s"] > 0, result
        assert result["ratio"] == pytest.approx(result["ours_s"] / result["floor_s"], rel=0.01), result
        assert result["goal"] and isinstance(result["met"], bool), result
        extra = EXTRA_FIELDS.get(name, set())
        assert extra <= set(result), f"{name} lacks {extra - set(result)}"
    # The tick found work to do, and the tenfold run really had ten times the closed assignments.
    assert results["tick"]["queued"] > 0
    assert results["tick_10x_closed"]["closed_assignments"] == 10 * results["tick"]["closed_assignments"]
    assert results["import"]["rows"] == 2_000
    assert results["moderation_stats"]["pairs"] == 100
