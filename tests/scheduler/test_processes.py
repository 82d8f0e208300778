"""Real scheduler processes against one database (PostgreSQL when AUDIT_WORKFLOW_TEST_DATABASE_URL is
set, otherwise a shared SQLite file): two started at once, only one runs jobs; SIGKILL it and the
other takes over within a minute. `audit-workflow scheduler` and `audit-workflow serve` (embedded)
take the lease and hand it over on SIGTERM. A 3-second lease keeps this to seconds."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from audit_workflow.clock import utcnow
from audit_workflow.db import get_engine
from audit_workflow.scheduler.lease import current_lease
from audit_workflow.scheduler.models import JobRun
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3  # heartbeat every second
STOP_SECONDS = 60

# A scheduler process whose one job, every 0.2 s, records which process ran it.
HARNESS = """
import sys, time
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import text
from audit_workflow import create_app
from audit_workflow.outcome import JobOutcome
from audit_workflow.scheduler.jobs import ScheduledJob
from audit_workflow.scheduler.runner import SchedulerRunner, run_dedicated

app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "test", "SCHEDULER_LEASE_SECONDS": int(sys.argv[3])},
                 instance_path=sys.argv[2])

def probe(engine, config, now=None):
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO scheduler_probe (holder, ran_at) VALUES (:holder, :ran_at)"),
                           {"holder": runner.lease.holder, "ran_at": time.time()})
    return JobOutcome("probed")

runner = SchedulerRunner(app, BlockingScheduler,
                         timetable=[ScheduledJob("probe", "__main__:probe", "", "interval", {"seconds": 0.2})])
print(runner.lease.holder, flush=True)
run_dedicated(app, runner)
"""


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def probe_table(app):
    engine = get_engine(app)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE scheduler_probe (holder VARCHAR(200), ran_at FLOAT)"))
    yield engine
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE scheduler_probe"))


def fresh_lease(db):
    """The lease row as it is now: end the session's snapshot and forget what it loaded before."""
    db.commit()
    db.expire_all()
    return current_lease(db)


def probe_runs(engine) -> list[tuple[str, float]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text("SELECT holder, ran_at FROM scheduler_probe ORDER BY ran_at"))]


def test_two_schedulers_one_runs_jobs_and_the_other_takes_over_after_sigkill(app, database_url, probe_table, tmp_path, db):
    engine = probe_table
    processes = [
        subprocess.Popen([sys.executable, "-c", HARNESS, database_url, str(tmp_path / f"instance-{number}"), str(LEASE_SECONDS)],
                         cwd=REPO, stdout=subprocess.PIPE, text=True)
        for number in range(2)
    ]
    try:
        holders = [process.stdout.readline().strip() for process in processes]
        wait_for(lambda: len(probe_runs(engine)) >= 10, 20, "the first jobs to run")
        time.sleep(1)
        runs = probe_runs(engine)
        assert {holder for holder, _ in runs} == {fresh_lease(db).holder}, "only the lease holder runs jobs"
        active = holders.index(runs[0][0])
        standby = 1 - active

        processes[active].send_signal(signal.SIGKILL)
        processes[active].wait()
        killed_at = time.time()
        wait_for(lambda: any(holder == holders[standby] for holder, _ in probe_runs(engine)), 60,
                 "the standby to take over")
        took_over_after = min(ran_at for holder, ran_at in probe_runs(engine) if holder == holders[standby]) - killed_at
        assert took_over_after < 5 * LEASE_SECONDS  # lease + heartbeat, with room for a loaded machine

        runs = probe_runs(engine)
        last_of_active = max(ran_at for holder, ran_at in runs if holder == holders[active])
        first_of_standby = min(ran_at for holder, ran_at in runs if holder == holders[standby])
        assert last_of_active < first_of_standby, "the two never ran jobs at the same time"
        assert fresh_lease(db).holder == holders[standby]
        assert db.get(JobRun, "probe").ran_by == holders[standby]

        processes[standby].send_signal(signal.SIGTERM)
        assert processes[standby].wait(timeout=10) == 0
        assert fresh_lease(db).expires_at <= utcnow(), "a stopped scheduler releases its lease"
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()


@contextlib.contextmanager
def running_command(database_url: str, log: Path, *arguments: str) -> Iterator[subprocess.Popen]:
    """The command in a process of its own, killed at the end if it is still running. Its log goes to
    a file, which a failure shows, and which (unlike a pipe nobody reads) never makes it wait."""
    env = {**os.environ, "AUDIT_WORKFLOW_DATABASE_URL": database_url, "AUDIT_WORKFLOW_SECRET_KEY": "test",
           "AUDIT_WORKFLOW_SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS), "AUDIT_WORKFLOW_SCHEDULER_EMBEDDED": "true"}
    with log.open("w") as stderr:
        process = subprocess.Popen([str(Path(sys.executable).with_name("audit-workflow")), *arguments], cwd=REPO,
                                   env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def exit_status_after_sigterm(process: subprocess.Popen, log: Path) -> int:
    process.send_signal(signal.SIGTERM)
    # The stop waits for jobs under way: on taking the lease the catch-up runs every job that
    # never ran, which on a busy machine takes more than a few seconds. What counts is a clean exit.
    try:
        return process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_SECONDS} s after SIGTERM; the end of its log:\n{log.read_text()[-6000:]}")


def scheduler_health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return json.load(response)["scheduler"]
    except OSError:  # not listening yet (the scheduler starts before waitress does)
        return None


def test_serve_embeds_the_scheduler_and_hands_the_lease_over_on_sigterm(app, database_url, db, tmp_path):
    port, log = free_port(), tmp_path / "serve.log"
    with running_command(database_url, log, "serve", "--port", str(port)) as process:
        holder = wait_for(lambda: fresh_lease(db), 20, "the embedded scheduler to take the lease").holder
        assert holder.split(":")[1] == str(process.pid)
        assert wait_for(lambda: scheduler_health(port), 20, "the server to answer")["lease_holder"] == holder
        assert exit_status_after_sigterm(process, log) == 0, log.read_text()
        assert fresh_lease(db).expires_at <= utcnow()


def test_the_scheduler_command_takes_the_lease_and_releases_it_on_sigterm(app, database_url, db, tmp_path):
    log = tmp_path / "scheduler.log"
    with running_command(database_url, log, "scheduler") as process:
        holder = wait_for(lambda: fresh_lease(db), 20, "the scheduler to take the lease").holder
        assert holder.split(":")[1] == str(process.pid)
        assert exit_status_after_sigterm(process, log) == 0, log.read_text()
        assert fresh_lease(db).expires_at <= utcnow()
