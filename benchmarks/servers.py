"""Local servers for the benchmarks, all on loopback: a stand-in for Microsoft Graph and its sign-in
authority (workload 2), and gunicorn serving the application plus a load generator (workload 5).

The Graph stand-in speaks HTTPS with a throwaway self-signed certificate, because msal accepts only
an https authority; clients trust it through REQUESTS_CA_BUNDLE while it runs. It runs in a process
of its own, as Graph would: in the measured process its threads would compete with the dispatcher
for the interpreter lock and slow both sides by an amount that has nothing to do with either.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import http.client
import json
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import requests

LOOPBACK = "127.0.0.1"
RATE_WINDOW_SECONDS = 60.0  # Exchange Online counts messages per mailbox per minute


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


# --- Workload 2: Microsoft Graph, answering at once ---------------------------------------------------


@dataclass
class GraphLog:
    """What the fake Graph saw: every send's arrival time, and the 429s it answered."""

    rate_per_minute: int | None = None  # answer 429 to a send beyond this many in any 60 seconds
    send_times: list[float] = field(default_factory=list)
    drafts: int = 0
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def admit_send(self) -> bool:
        now = time.monotonic()
        with self.lock:
            if self.rate_per_minute is not None:
                in_window = len(self.send_times) - bisect.bisect_right(self.send_times, now - RATE_WINDOW_SECONDS)
                if in_window >= self.rate_per_minute:
                    self.refused += 1
                    return False
            self.send_times.append(now)
            return True

    def reset(self, rate_per_minute: int | None = None) -> None:
        with self.lock:
            self.rate_per_minute = rate_per_minute
            self.send_times.clear()
            self.drafts = self.refused = 0

    def as_json(self) -> dict:
        with self.lock:
            return {"send_times": list(self.send_times), "drafts": self.drafts, "refused": self.refused}

    def achieved_per_minute(self) -> float:
        """The sending rate the mailbox saw, from the first send to the last."""
        times = self.send_times
        return 60 * (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


_SEND = re.compile(r"^/v1\.0/users/[^/]+/messages/[^/]+/send$")
_DRAFTS = re.compile(r"^/v1\.0/users/[^/]+/mailFolders/Drafts/messages$")
_TOKEN = re.compile(r"^/[^/]+/oauth2/v2\.0/token$")
# The benchmark's own calls: read the log, or clear it and set the cap.
CONTROL_LOG, CONTROL_RESET = "/_benchmark/log", "/_benchmark/reset"
_OPENID = re.compile(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration$")


class _GraphHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Graph offers
    disable_nagle_algorithm = True  # headers and body go in two writes; Nagle would hold the second
    server: "_GraphServer"

    def log_message(self, *args) -> None:  # one line per request would swamp the benchmark's output
        pass

    def _answer(self, status: int, body: dict | None = None, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        if body is not None:
            self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        if self.path == CONTROL_LOG:
            return self._answer(200, self.server.graph_log.as_json())
        match = _OPENID.match(self.path.split("?")[0])
        if not match:
            return self._answer(404, {"error": {"code": "NotFound"}})
        base = f"https://{LOOPBACK}:{self.server.server_port}/{match[1]}"
        self._answer(200, {"issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
                           "authorization_endpoint": f"{base}/oauth2/v2.0/authorize"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path, log = self.path.split("?")[0], self.server.graph_log
        if path == CONTROL_RESET:
            log.reset(**json.loads(body))
            return self._answer(200, {})
        if _TOKEN.match(path):
            return self._answer(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": "benchmark-token"})
        if _DRAFTS.match(path):
            with log.lock:
                log.drafts += 1
                draft_id = f"draft-{log.drafts}"
            return self._answer(201, {"id": draft_id, "isDraft": True})
        if _SEND.match(path):
            if log.admit_send():
                return self._answer(202)
            return self._answer(429, {"error": {"code": "ApplicationThrottled"}}, {"Retry-After": "1"})
        self._answer(404, {"error": {"code": "NotFound"}})


class _GraphServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, graph_log: GraphLog, tls: ssl.SSLContext):
        super().__init__((LOOPBACK, 0), _GraphHandler)
        self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.graph_log = graph_log


class GraphControl:
    """The benchmark's side of the Graph stand-in: clear its log and set its cap, read its log."""

    def __init__(self, url: str, certificate_file: Path):
        self.url = url
        self.certificate_file = certificate_file

    def reset(self, rate_per_minute: int | None = None) -> None:
        requests.post(self.url + CONTROL_RESET, json={"rate_per_minute": rate_per_minute},
                      verify=self.certificate_file, timeout=10).raise_for_status()

    def log(self) -> GraphLog:
        answer = requests.get(self.url + CONTROL_LOG, verify=self.certificate_file, timeout=10)
        answer.raise_for_status()
        return GraphLog(**answer.json())


def _serve_graph(certificate_file: str, key_file: str) -> None:
    """The stand-in's process: print the port, then serve until terminated."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificate_file, key_file)
    server = _GraphServer(GraphLog(), tls)
    print(server.server_port, flush=True)
    server.serve_forever()


@contextmanager
def fake_graph(workdir: Path) -> Iterator[tuple[str, GraphControl]]:
    """A Graph endpoint and sign-in authority at one loopback address, in a process of its own:
    (base URL, its control)."""
    from tests.notifications.fake_graph import write_certificate  # here: the stand-in's own process needs none of it

    # The tests' certificate for the fake Graph, valid long enough for a national run.
    certificate_file, key_file = write_certificate(workdir, valid_for=datetime.timedelta(days=1))
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.servers", "graph", str(certificate_file), str(key_file)],
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    trusted_before = os.environ.get("REQUESTS_CA_BUNDLE")
    try:
        port = server.stdout.readline().strip()
        if not port:
            raise RuntimeError(f"the Graph stand-in exited with status {server.wait()}")
        url = f"https://{LOOPBACK}:{port}"
        os.environ["REQUESTS_CA_BUNDLE"] = str(certificate_file)
        yield url, GraphControl(url, certificate_file)
    finally:
        if trusted_before is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = trusted_before
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# --- Workload 5: gunicorn serving the application, and a load generator ---------------------------

INSTANCE_PATH_VARIABLE = "AUDIT_WORKFLOW_BENCH_INSTANCE"
BARE_PREFIX = "/bare"
BARE_DASHBOARD_PREFIX = "/bare-dashboard"
BARE_FORM_PREFIX = "/bare-form"
ANSWERS = ("strongly_agree", "agree", "neither", "disagree", "strongly_disagree", "dont_know")
BARE_FORM = """<!DOCTYPE html><title>Bare form</title><form method="post">
<input type="hidden" name="csrf_token" value="{{ token }}">
{% for value in answers %}<input type="radio" name="answer" value="{{ value }}">{{ value }}{% endfor %}
<button>Continue</button></form>"""


def benchmark_wsgi_app():
    """What gunicorn serves: the application, and beside it the floors of the same server: under
    /bare a Flask app that answers a fixed page with no session, database or template, and under
    /bare-dashboard the dashboard page's floor (dashboard_floor.py)."""
    from flask import Flask
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from audit_workflow import create_app

    from .dashboard_floor import bare_dashboard_app

    from audit_workflow.feedback import views as feedback_views

    bare = Flask("bare")
    bare.add_url_rule("/", "page", lambda: "<!DOCTYPE html><title>Bare</title><p>Bare Flask endpoint</p>")
    app = create_app(instance_path=os.environ[INSTANCE_PATH_VARIABLE])
    # Every benchmark client comes from loopback: lift the questionnaire's per-address limit.
    feedback_views.PER_ADDRESS = dataclasses.replace(feedback_views.PER_ADDRESS, requests=10**9)
    return DispatcherMiddleware(app, {
        BARE_PREFIX: bare, BARE_DASHBOARD_PREFIX: bare_dashboard_app(app, os.environ["AUDIT_WORKFLOW_DATABASE_URL"]),
        BARE_FORM_PREFIX: _bare_form_app()})


def _bare_form_app():
    """The questionnaire's floor: a form rendered with plain Jinja, read on POST, then a redirect."""
    from flask import Flask, redirect, render_template_string, request

    bare = Flask("bare_form")

    @bare.route("/", methods=["GET", "POST"])
    def form():
        if request.method == "POST":
            if request.form.get("answer") not in ANSWERS or not request.form.get("csrf_token"):
                return "Choose one of the answers", 400
            return redirect(BARE_FORM_PREFIX + "/")
        return render_template_string(BARE_FORM, token=secrets.token_urlsafe(32), answers=ANSWERS)

    return bare


@contextmanager
def gunicorn(database_url: str, workdir: Path, workers: int = 2) -> Iterator[int]:
    """gunicorn (sync workers) serving benchmark_wsgi_app on a loopback port; yields the port."""
    port = free_port()
    environment = {
        **os.environ, INSTANCE_PATH_VARIABLE: str(workdir / "instance"),
        "AUDIT_WORKFLOW_DATABASE_URL": database_url, "AUDIT_WORKFLOW_SECRET_KEY": "benchmark-secret-key",
        "AUDIT_WORKFLOW_COOKIE_SECURE": "false", "AUDIT_WORKFLOW_SCHEDULER_EMBEDDED": "false",
    }
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{LOOPBACK}:{port}",
               "--log-level", "warning", "--error-logfile", str(workdir / "gunicorn.log"),
               "benchmarks.servers:benchmark_wsgi_app()"]
    server = subprocess.Popen(command, env=environment, cwd=Path(__file__).resolve().parent.parent)
    try:
        _wait_until_serving(port, server)
        yield port
    finally:
        _stop(server)


def _wait_until_serving(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            if _get(port, "/healthz", {})[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start serving in time")


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    # A new connection per request: gunicorn's sync workers close each one after answering.
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass(frozen=True)
class LoadResult:
    requests: int
    failures: int  # answers other than 200
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def load(port: int, path: str, client_headers: list[dict[str, str]], seconds: float,
         max_requests: int = 200_000) -> LoadResult:
    """One thread per client, each sending GETs one after another for `seconds` (or until
    `max_requests` have been sent in all); every answer's latency is kept."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(headers: dict[str, str]) -> None:
        mine, failed = [], 0
        while time.perf_counter() < deadline and len(latencies) + len(mine) < max_requests:
            started = time.perf_counter()
            status, _ = _get(port, path, headers)
            mine.append(time.perf_counter() - started)
            failed += status != 200
        with lock:
            latencies.extend(mine)
            failures[0] += failed

    elapsed = in_threads(client, client_headers)
    return LoadResult(len(latencies), failures[0], elapsed, latencies)


def in_threads(target, arguments: list) -> float:
    """Call target(argument) for each argument, each in a thread of its own, all at once; the seconds taken."""
    started = time.perf_counter()
    threads = [threading.Thread(target=target, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


if __name__ == "__main__" and sys.argv[1:2] == ["graph"]:
    _serve_graph(*sys.argv[2:4])
