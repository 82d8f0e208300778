"""The production shape on loopback: gunicorn with 3 workers (deploy/gunicorn.conf.py, as the web unit
runs it) and 2 `audit-workflow scheduler` processes against one PostgreSQL database. A coordinator
and an auditor sign in, allocate a cycle and save an audit section over HTTP, with the headers
nginx sets (TRUSTED_PROXIES=1); the assignment emails reach an SMTP relay on 127.0.0.1 exactly
once each, and only one scheduler holds the lease and runs jobs."""

from __future__ import annotations

import email
import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlmodel import select

from audit_workflow.audits.models import Audit, SectionJudgement
from audit_workflow.auth.service import create_user
from audit_workflow.cycles import auditor_pool, plan_sample
from audit_workflow.cycles.models import Assignment, CycleStatus
from audit_workflow.notifications.models import OutboxMessage
from audit_workflow.notifications.transports.smtp import message_id_for
from audit_workflow.scheduler.models import JobRun
from tests.conftest import POSTGRES_URL, TEST_PASSWORD, TEST_PASSWORD_HASH, free_port
from tests.cycles.conftest import add_register
from tests.factories import make_cycle
from tests.scheduler.test_processes import fresh_lease, wait_for

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKERS = 3
SCHEDULERS = 2
MAIL_FROM = "ehcp-audit@example.gov.uk"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CRITERION = re.compile(r'name="criteria" type="checkbox" value="([^"]+)"')

# Not skipped in CI: .ci/run's second pass sets AUDIT_WORKFLOW_TEST_DATABASE_URL, and runs it there.
pytestmark = [pytest.mark.slow, pytest.mark.postgres,
              pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set AUDIT_WORKFLOW_TEST_DATABASE_URL "
                                                          "(CI runs it in its PostgreSQL pass)")]


class Relay:
    """An SMTP relay that keeps the Message-ID of everything it accepts."""

    def __init__(self):
        self.message_ids: list[str] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.message_ids.append(email.message_from_bytes(envelope.content)["Message-ID"])
        return "250 Message accepted"

    def received(self) -> Counter:
        with self._lock:
            return Counter(self.message_ids)


@pytest.fixture
def relay():
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def allocatable_cycle(db, world):
    """A draft cycle with 6 sampled plans and 3 auditors with room for 2 each (one is world's auditor)."""
    la = world.las["own"]
    add_register(db, la, 30)
    cycle = make_cycle(db, la, status=CycleStatus.DRAFT)
    plan_sample.draw_sample(db, cycle, size=6, seed=5)
    auditors = [world.user("auditor")] + [
        create_user(db, la.id, f"auditor{number}@886.example.gov.uk", f"Auditor {number}", "auditor",
                    discipline="education", team="Quality Team")
        for number in (2, 3)
    ]
    for auditor in auditors:
        auditor.password_hash = TEST_PASSWORD_HASH
        auditor_pool.add_auditor(db, cycle, auditor, capacity=2)
    db.commit()
    return cycle


def start(command: list[str], environment: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(command, cwd=REPO, env=environment, stdout=output, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=10).status_code == 200
    except requests.RequestException:  # not listening yet, or its workers still starting
        return False


def csrf_from(response: requests.Response) -> str:
    assert response.status_code == 200, response.text[:500]
    return CSRF.search(response.text).group(1)


def browser(base_url: str, user, client_address: str) -> requests.Session:
    """A signed-in session that arrives as nginx forwards it (deploy/nginx/audit-workflow.conf)."""
    session = requests.Session()
    session.headers.update({"X-Forwarded-For": client_address, "X-Forwarded-Proto": "http"})
    token = csrf_from(session.get(f"{base_url}/sign-in", timeout=30))
    signed_in = session.post(f"{base_url}/sign-in", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
                             allow_redirects=False, timeout=30)
    assert signed_in.status_code == 302, signed_in.text[:500]
    return session


def post_form(session: requests.Session, page_url: str, action_url: str, data: dict) -> requests.Response:
    token = csrf_from(session.get(page_url, timeout=30))
    return session.post(action_url, data={**data, "csrf_token": token}, allow_redirects=False, timeout=60)


def test_gunicorn_workers_and_two_schedulers_on_one_postgresql(db, world, allocatable_cycle, relay, tmp_path):
    handler, smtp_port = relay
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = {
        "DATABASE_URL": POSTGRES_URL, "SECRET_KEY": "deploy-test", "BASE_URL": base_url, "SCHEDULER_EMBEDDED": "false",
        "TRUSTED_PROXIES": "1", "COOKIE_SECURE": "false", "DEMO_MODE": "false", "MAIL_TRANSPORT": "smtp",
        "MAIL_FROM": MAIL_FROM, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SCHEDULER_LEASE_SECONDS": "3",
    }
    environment = {**os.environ, **{f"AUDIT_WORKFLOW_{name}": value for name, value in settings.items()},
                   "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    web_log = tmp_path / "gunicorn.log"
    web = start([str(BIN / "gunicorn"), "--config", str(REPO / "deploy" / "gunicorn.conf.py"), "--workers", str(WORKERS),
                 "--bind", f"127.0.0.1:{port}", "audit_workflow:create_app()"], environment, web_log)
    schedulers = [start([str(BIN / "audit-workflow"), "scheduler"], environment, tmp_path / f"scheduler-{number}.log")
                  for number in range(SCHEDULERS)]
    try:
        wait_for(lambda: answers(f"{base_url}/sign-in"), 60, f"gunicorn to answer:\n{web_log.read_text()}")
        wait_for(lambda: len(set(re.findall(r"Booting worker with pid: (\d+)", web_log.read_text()))) >= WORKERS, 30,
                 "three workers")
        holder = wait_for(lambda: fresh_lease(db), 30, "a scheduler to take the lease").holder

        coordinator = browser(base_url, world.user("coordinator"), "198.51.100.10")
        allocation = f"{base_url}/cycles/{allocatable_cycle.id}/allocation"
        assert post_form(coordinator, allocation, allocation, {}).status_code == 302
        assert "6 plans have been allocated." in coordinator.get(allocation, timeout=30).text

        auditor = browser(base_url, world.user("auditor"), "198.51.100.11")
        db.rollback()
        assignment = db.exec(select(Assignment).where(Assignment.auditor_id == world.user("auditor").id)).first()
        started = post_form(auditor, f"{base_url}/my-audits", f"{base_url}/assignments/{assignment.id}/audit", {})
        assert started.status_code == 302
        section_url = base_url + started.headers["Location"]
        section_page = auditor.get(section_url, timeout=30)
        first_criterion = CRITERION.search(section_page.text).group(1)
        saved = auditor.post(section_url, data={"criteria": [first_criterion], "comment": "", "save_for_later": "x",
                                                "csrf_token": csrf_from(section_page)}, allow_redirects=False, timeout=30)
        assert saved.status_code == 302, saved.text[:500]

        def settled() -> list[OutboxMessage] | None:
            db.rollback()
            messages = db.exec(select(OutboxMessage)).all()
            return messages if messages and all(m.status in ("sent", "failed") for m in messages) else None

        messages = wait_for(settled, 90, "the scheduler to send every email")
        # One more dispatch run after the last send: a message sent twice would show now.
        last_sent = max(m.sent_at for m in messages)
        wait_for(lambda: (run := fresh_job_run(db, "dispatch_outbox")) and run.finished_at and run.finished_at > last_sent,
                 60, "another dispatch run")

        assert [p.poll() for p in [web, *schedulers]] == [None] * (1 + SCHEDULERS), "nothing crashed"
        db.rollback()
        audit = db.exec(select(Audit).where(Audit.assignment_id == assignment.id)).one()
        judgement = db.exec(select(SectionJudgement).where(SectionJudgement.audit_id == audit.id)).one()
        assert first_criterion in judgement.ticked

        assert {m.kind for m in messages} == {"assignment"} and len(messages) == 3  # one per auditor
        assert {m.status for m in messages} == {"sent"}, "no email lost"
        expected = {message_id_for(m.idempotency_key, MAIL_FROM) for m in messages}
        assert handler.received() == Counter(expected), "each email reached the relay exactly once"

        assert fresh_lease(db).holder == holder, "one lease holder throughout"
        assert holder.split(":")[1] in {str(p.pid) for p in schedulers}
        assert {run.ran_by for run in db.exec(select(JobRun)).all()} == {holder}, "only the lease holder ran jobs"
    finally:
        for process in [web, *schedulers]:
            stop(process)


def fresh_job_run(db, job_id: str) -> JobRun | None:
    db.rollback()
    db.expire_all()
    return db.get(JobRun, job_id)
