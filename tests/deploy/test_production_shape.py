"""The production shape on loopback: nginx with deploy/nginx/audit-workflow.conf (TLS, proxy headers,
upload limit, static files) in front of gunicorn with 3 workers (deploy/gunicorn.conf.py, as the web
unit runs it), and 2 `audit-workflow scheduler` processes, all on one PostgreSQL database. A
coordinator and an auditor sign in over https, allocate a cycle and save an audit section; the
assignment emails reach an SMTP relay on 127.0.0.1 exactly once each, and only one scheduler holds
the lease and runs jobs."""

from __future__ import annotations

import email
import os
import re
import shutil
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
from tests.conftest import POSTGRES_URL, TEST_PASSWORD, TEST_PASSWORD_HASH, free_port, need_service
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
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
MIB = 1024 * 1024

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


def nginx_site(folder: Path, https_port: int, http_port: int, web_port: int) -> Path:
    """deploy/nginx/audit-workflow.conf changed only where a loopback run must: ports, certificate,
    log and static paths; and Host with the port, because the test cannot listen on 443."""
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    site = (REPO / "deploy" / "nginx" / "audit-workflow.conf").read_text()
    for old, new in {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;", "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};", "listen [::]:80;": "",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{web_port};",
        "/etc/ssl/certs/ehcp-audit.example.gov.uk.pem": str(certificate),
        "/etc/ssl/private/ehcp-audit.example.gov.uk.key": str(key),
        "/var/log/nginx/": f"{folder}/",
        "/srv/audit-workflow/audit_workflow/web/static/": f"{REPO}/audit_workflow/web/static/",
        "X-Forwarded-Host $host;": "X-Forwarded-Host $http_host;", "proxy_set_header Host $host;": "proxy_set_header Host $http_host;",
    }.items():
        assert old in site, f"deploy/nginx/audit-workflow.conf no longer has {old!r}"
        site = site.replace(old, new)
    (folder / "site.conf").write_text(site)
    temporary = " ".join(f"{kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # its workers read the worktree and the test's folders
        + f"daemon off;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
        + f"http {{ include /etc/nginx/mime.types; {temporary} include {folder}/site.conf; }}\n")
    return certificate


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


def answers(url: str, certificate: Path) -> bool:
    try:
        return requests.get(url, timeout=10, verify=str(certificate)).status_code == 200
    except requests.RequestException:  # not listening yet, or its workers still starting
        return False


def csrf_from(response: requests.Response) -> str:
    assert response.status_code == 200, response.text[:500]
    return CSRF.search(response.text).group(1)


def browser(base_url: str, certificate: Path, user) -> requests.Session:
    """A signed-in session over https. It sends a Referer as browsers do: CSRF checks it on https."""
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE outranks session.verify; and no proxy for loopback
    session.verify = str(certificate)
    session.headers["Referer"] = f"{base_url}/"
    token = csrf_from(session.get(f"{base_url}/sign-in", timeout=30))
    signed_in = session.post(f"{base_url}/sign-in", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
                             allow_redirects=False, timeout=30)
    assert signed_in.status_code == 302, signed_in.text[:500]
    return session


def post_form(session: requests.Session, page_url: str, action_url: str, data: dict) -> requests.Response:
    token = csrf_from(session.get(page_url, timeout=30))
    return session.post(action_url, data={**data, "csrf_token": token}, allow_redirects=False, timeout=60)


def test_nginx_gunicorn_workers_and_two_schedulers_on_one_postgresql(db, world, allocatable_cycle, relay, tmp_path):
    need_service(NGINX is not None, "needs nginx (apt-get install nginx)")
    handler, smtp_port = relay
    port, https_port, http_port = free_port(), free_port(), free_port()
    certificate = nginx_site(tmp_path, https_port, http_port, port)
    base_url = f"https://127.0.0.1:{https_port}"
    settings = {
        "DATABASE_URL": POSTGRES_URL, "SECRET_KEY": "deploy-test", "BASE_URL": base_url, "SCHEDULER_EMBEDDED": "false",
        "TRUSTED_PROXIES": "1", "DEMO_MODE": "false", "MAIL_TRANSPORT": "smtp",
        "MAIL_FROM": MAIL_FROM, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SCHEDULER_LEASE_SECONDS": "3",
    }
    environment = {**os.environ, **{f"AUDIT_WORKFLOW_{name}": value for name, value in settings.items()},
                   "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    web_log = tmp_path / "gunicorn.log"
    web = start([str(BIN / "gunicorn"), "--config", str(REPO / "deploy" / "gunicorn.conf.py"), "--workers", str(WORKERS),
                 "--bind", f"127.0.0.1:{port}", "audit_workflow:create_app()"], environment, web_log)
    schedulers = [start([str(BIN / "audit-workflow"), "scheduler"], environment, tmp_path / f"scheduler-{number}.log")
                  for number in range(SCHEDULERS)]
    proxy = start([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], environment, tmp_path / "nginx.out")
    try:
        wait_for(lambda: answers(f"{base_url}/sign-in", certificate), 60,
                 f"nginx and gunicorn to answer:\n{web_log.read_text()}\n{(tmp_path / 'nginx.out').read_text()}")
        wait_for(lambda: len(set(re.findall(r"Booting worker with pid: (\d+)", web_log.read_text()))) >= WORKERS, 30,
                 "three workers")
        holder = wait_for(lambda: fresh_lease(db), 30, "a scheduler to take the lease").holder

        plain = requests.get(f"http://127.0.0.1:{http_port}/sign-in", allow_redirects=False, timeout=30)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        stylesheet = requests.get(f"{base_url}/static/app.css", verify=str(certificate), timeout=30)
        assert stylesheet.status_code == 200 and "public" in stylesheet.headers["Cache-Control"]  # nginx's, not Flask's

        coordinator = browser(base_url, certificate, world.user("coordinator"))
        assert coordinator.cookies.get("__Host-session"), "the secure session cookie, as in production"
        allocation = f"{base_url}/cycles/{allocatable_cycle.id}/allocation"
        assert post_form(coordinator, allocation, allocation, {}).status_code == 302
        assert "6 plans have been allocated." in coordinator.get(allocation, timeout=30).text

        auditor = browser(base_url, certificate, world.user("auditor"))
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

        # An upload just over the service's limit gets its own page; one over nginx's, nginx's refusal.
        just_over = coordinator.post(f"{base_url}/sign-in", files={"file": ("big.csv", b"x" * (20 * MIB + 128 * 1024))}, timeout=60)
        assert just_over.status_code == 413 and "The file is too large" in just_over.text
        far_over = coordinator.post(f"{base_url}/sign-in", files={"file": ("big.csv", b"x" * (22 * MIB))}, timeout=60)
        assert far_over.status_code == 413 and "The file is too large" not in far_over.text

        assert [p.poll() for p in [web, *schedulers, proxy]] == [None] * (2 + SCHEDULERS), "nothing crashed"
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
        for process in [proxy, web, *schedulers]:
            stop(process)


def fresh_job_run(db, job_id: str) -> JobRun | None:
    db.rollback()
    db.expire_all()
    return db.get(JobRun, job_id)
