"""Workload 5: the coordinator's cycle dashboard under concurrent load, against its floor on the
same server (dashboard_floor.py: the same SQL hand-written, the same template rendered with plain
Jinja): gunicorn with two sync workers, and a load generator on loopback whose clients each send
one request after another for a fixed time. Each client is a coordinator signed in through /sign-in
(local password, CSRF token from the form); the page is the open cycle of the LA with the largest
register. A second, informational line compares the page with a Flask endpoint answering a
constant string: what the framework alone costs.
"""

from __future__ import annotations

import re

import requests

from .data import COORDINATOR_PASSWORD
from .harness import Bench, Check, Result, Skip, log
from .servers import BARE_DASHBOARD_PREFIX, BARE_PREFIX, LOOPBACK, gunicorn, load

GOAL_THROUGHPUT_SHARE = 0.7
GOAL_P99_SECONDS = 0.1
WORKERS = 2
CLIENTS = 4  # two per worker: a worker always has the next request waiting
CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Tokens and nonces differ from page to page: the sizes are compared without them.
ONE_TIME_VALUES = re.compile(r'(name="csrf_token" value|nonce)="[^"]*"')
PAGE_SIZE_TOLERANCE = 0.01


def _signed_in_cookie(base_url: str, email: str) -> str:
    with requests.Session() as session:
        form = session.get(f"{base_url}/sign-in")
        token = CSRF_TOKEN.search(form.text)
        if token is None:
            raise Skip("the sign-in page has no CSRF token")
        answer = session.post(f"{base_url}/sign-in", allow_redirects=False,
                              data={"email": email, "password": COORDINATOR_PASSWORD, "csrf_token": token[1]})
        if answer.status_code != 302:
            raise AssertionError(f"signing in answered {answer.status_code}")
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)


def measure(bench: Bench) -> list[Result]:
    largest = bench.dataset.largest
    dashboard = f"/cycles/{largest.open_cycle_id}"
    floor_page = f"{BARE_DASHBOARD_PREFIX}/{largest.open_cycle_id}?user={largest.coordinator_email}"
    seconds = bench.scale.web_seconds
    with gunicorn(bench.database_url, bench.workdir, WORKERS) as port:
        base_url = f"http://{LOOPBACK}:{port}"
        clients = [{"Cookie": _signed_in_cookie(base_url, largest.coordinator_email)} for _ in range(CLIENTS)]
        page = requests.get(base_url + dashboard, headers=clients[0])
        if page.status_code != 200:
            raise Skip(f"the dashboard page answered {page.status_code}")
        page_bytes, floor_bytes = (len(ONE_TIME_VALUES.sub("", text))
                                   for text in (page.text, requests.get(base_url + floor_page).text))
        if abs(floor_bytes - page_bytes) > PAGE_SIZE_TOLERANCE * page_bytes:
            raise AssertionError(f"the floor's page has {floor_bytes} characters, the dashboard {page_bytes}")
        # Warm both workers (templates compiled, connections opened) before timing.
        for path in (dashboard, floor_page, BARE_PREFIX + "/"):
            load(port, path, clients, seconds=1)
        log(f"    {seconds:g} s of load on each, {CLIENTS} clients, {WORKERS} workers")
        constant = load(port, BARE_PREFIX + "/", clients, seconds)
        floor = load(port, floor_page, clients, seconds)
        ours = load(port, dashboard, clients, seconds)
    if ours.failures or floor.failures or constant.failures:
        raise AssertionError(f"failed requests: dashboard {ours.failures}, floor {floor.failures}, "
                             f"constant {constant.failures}")
    share = ours.per_second / floor.per_second
    p99 = ours.percentile(0.99)
    result = Result("dashboard_web", 1 / ours.per_second, 1 / floor.per_second, extra={
        "rps": ours.per_second, "bare_rps": floor.per_second, "throughput_share": share, "p99_ms": p99 * 1000,
        "p50_ms": ours.percentile(0.5) * 1000, "bare_p99_ms": floor.percentile(0.99) * 1000,
        "page_chars": page_bytes, "bare_page_chars": floor_bytes, "requests": ours.requests,
        "clients": CLIENTS})
    result.checks += [Check(f"throughput >= {GOAL_THROUGHPUT_SHARE:.0%} of bare", share >= GOAL_THROUGHPUT_SHARE),
                      Check(f"p99 < {GOAL_P99_SECONDS * 1000:g} ms", p99 < GOAL_P99_SECONDS)]
    framework = Result("dashboard_web_vs_constant", 1 / ours.per_second, 1 / constant.per_second, extra={
        "rps": ours.per_second, "constant_rps": constant.per_second,
        "throughput_share": ours.per_second / constant.per_second, "constant_p99_ms": constant.percentile(0.99) * 1000})
    framework.checks.append(Check("informational: no goal", True))
    return [result, framework]
