"""Workload 7: the public feedback questionnaire under load: families open their single-use link,
answer every question, leave a comment, and submit, one after another on each client, through
gunicorn with two sync workers; against a bare Flask form endpoint on the same server (a GET that
renders a form, a POST that reads it and redirects), driven the same way. Throughput is requests a
second; every request's latency counts towards the p99.

Each visit needs a link of its own: links are inserted beforehand for the largest LA's open cycle,
as the invitation job leaves them (only the token's hash is stored). The per-address rate limit is
lifted in the benchmark's server (servers.py), since every client comes from loopback.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import requests
from sqlalchemy import insert

from audit_workflow.feedback.models import FeedbackInvitation, FeedbackLink, LinkPurpose
from audit_workflow.feedback.rules import new_token, token_hash

from .harness import Bench, Check, Result, Skip, log
from .servers import BARE_FORM_PREFIX, LOOPBACK, LoadResult, gunicorn, in_threads

GOAL_THROUGHPUT_SHARE = 0.7
GOAL_P99_SECONDS = 0.1
WORKERS = 2
CLIENTS = 4
VISITS_PER_SECOND = 20  # links issued per second of load: more than two workers can answer
CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _issue_links(bench: Bench, count: int) -> list[str]:
    facts = bench.dataset.largest
    now = datetime.now(timezone.utc)  # the server runs on the real clock
    invitations, links, tokens = [], [], []
    for index in range(count):
        invitation_id, token = uuid.uuid4(), new_token()
        invitations.append({"id": invitation_id, "la_id": facts.la_id, "cycle_id": facts.open_cycle_id,
                            "plan_id": facts.plan_ids[index % len(facts.plan_ids)], "respondent_type": "parent_carer",
                            "recipient_hash": f"benchmark-{invitation_id.hex}", "invited_at": now,
                            "closes_at": now + timedelta(days=28)})
        links.append({"id": uuid.uuid4(), "la_id": facts.la_id, "invitation_id": invitation_id,
                      "token_hash": token_hash(token), "purpose": LinkPurpose.ANSWER,
                      "expires_at": now + timedelta(days=28), "created_at": now})
        tokens.append(token)
    with bench.engine.begin() as connection:
        connection.execute(insert(FeedbackInvitation.__table__), invitations)
        connection.execute(insert(FeedbackLink.__table__), links)
    return tokens


class _Refused(Exception):
    """An answer other than the page flow expects: the visit is abandoned and counted as failed."""


class _Client:
    """One browser: a session of its own; every request's latency kept, any unexpected answer raised."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.latencies: list[float] = []
        self.refused: list[str] = []

    def request(self, method: str, path: str, expected: int, **form) -> requests.Response:
        started = time.perf_counter()
        answer = self.session.request(method, self.base_url + path, data=form or None, allow_redirects=False)
        self.latencies.append(time.perf_counter() - started)
        if answer.status_code != expected:
            raise _Refused(f"{method} {path.split('?')[0]} answered {answer.status_code}, not {expected}")
        return answer

    def follow(self, answer: requests.Response) -> requests.Response:
        return self.request("GET", answer.headers["Location"].removeprefix(self.base_url), 200)

    def visit(self, token: str) -> None:
        """Open the link, answer every question, comment, submit."""
        self.follow(self.request("GET", f"/feedback/start/{token}", 302))
        page, path = self.request("GET", "/feedback/question/1", 200), "/feedback/question/1"
        while path.startswith("/feedback/question/"):
            sent = self.request("POST", path, 302, answer="agree", csrf_token=_csrf(page))
            path = sent.headers["Location"].removeprefix(self.base_url)
            page = self.follow(sent)
        sent = self.request("POST", "/feedback/comment", 302, comment="The plan was clear.", csrf_token=_csrf(page))
        page = self.follow(sent)
        self.follow(self.request("POST", "/feedback/check", 302, csrf_token=_csrf(page)))

    def bare_form(self) -> None:
        page = self.request("GET", BARE_FORM_PREFIX + "/", 200)
        self.follow(self.request("POST", BARE_FORM_PREFIX + "/", 302, answer="agree", csrf_token=_csrf(page)))


def _csrf(page: requests.Response) -> str:
    found = CSRF_TOKEN.search(page.text)
    if found is None:
        raise Skip(f"no CSRF token on {page.url}")
    return found[1]


def _load(base_url: str, seconds: float, step) -> LoadResult:
    """CLIENTS threads, each calling step(client) until the time is up."""
    clients = [_Client(base_url) for _ in range(CLIENTS)]
    deadline = time.perf_counter() + seconds
    errors: list[BaseException] = []

    def run(client: _Client) -> None:
        try:
            while time.perf_counter() < deadline:
                try:
                    if not step(client):
                        break
                except _Refused as refused:
                    client.refused.append(str(refused))
        except BaseException as error:  # reported below, in the measuring thread
            errors.append(error)

    elapsed = in_threads(run, clients)
    if errors:
        raise errors[0]
    latencies = [latency for client in clients for latency in client.latencies]
    refused = [reason for client in clients for reason in client.refused]
    if refused:
        log(f"    {len(refused)} refused, e.g. {refused[0]}")
    return LoadResult(len(latencies), len(refused), elapsed, latencies)


def measure(bench: Bench) -> list[Result]:
    seconds = bench.scale.web_seconds
    tokens = _issue_links(bench, round(VISITS_PER_SECOND * (seconds + 1)))
    lock = threading.Lock()

    def answer_one(client: _Client) -> bool:
        with lock:
            token = tokens.pop() if tokens else None
        if token is None:
            return False
        client.visit(token)
        return True

    def bare_one(client: _Client) -> bool:
        client.bare_form()
        return True

    with gunicorn(bench.database_url, bench.workdir, WORKERS) as port:
        base_url = f"http://{LOOPBACK}:{port}"
        _load(base_url, 1, answer_one)  # warm both workers
        _load(base_url, 1, bare_one)
        log(f"    {seconds:g} s of load on each, {CLIENTS} clients, {WORKERS} workers")
        bare = _load(base_url, seconds, bare_one)
        ours = _load(base_url, seconds, answer_one)
    if not tokens:
        log("    every issued link was used: the questionnaire's rate is a lower bound")
    share = ours.per_second / bare.per_second
    p99 = ours.percentile(0.99)
    result = Result("questionnaire_web", 1 / ours.per_second, 1 / bare.per_second, extra={
        "rps": ours.per_second, "bare_rps": bare.per_second, "throughput_share": share, "p99_ms": p99 * 1000,
        "p50_ms": ours.percentile(0.5) * 1000, "bare_p99_ms": bare.percentile(0.99) * 1000,
        "requests": ours.requests, "refused": ours.failures, "bare_refused": bare.failures, "clients": CLIENTS})
    result.checks += [Check(f"throughput >= {GOAL_THROUGHPUT_SHARE:.0%} of bare", share >= GOAL_THROUGHPUT_SHARE),
                      Check(f"p99 < {GOAL_P99_SECONDS * 1000:g} ms", p99 < GOAL_P99_SECONDS),
                      Check("no request refused", ours.failures == 0)]
    return [result]
