"""docs/checks.md#check-1: a real dispatcher (`audit-workflow mail dispatch --until-empty`, a subprocess) sending 100
messages through Graph (a fake on https://127.0.0.1) is killed with SIGKILL twice, at the two
dangerous moments, and restarted; every message is sent exactly once.

1. After Graph accepted a /send but before the dispatcher heard back and committed `sent`: the
   restarted dispatcher finds the recorded draft already sent and only records it.
2. After Graph created a draft but before the dispatcher committed its id: the restarted
   dispatcher makes a new draft and sends that; the orphan draft is never sent.

Nobody tidies up between the runs: each killed dispatcher leaves its claimed rows `sending`, and
the last run (`--until-empty`) must wait for their claims (one send long) to expire, take them over,
and return only when every message is sent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tests.notifications.fake_graph import MAILBOX, TENANT, serve_https
from tests.notifications.test_dispatcher import add_messages, engine, message, statuses  # noqa: F401  (fixtures)

COMMAND = [str(Path(sys.executable).with_name("audit-workflow")), "mail", "dispatch", "--until-empty"]
MESSAGES = 100


class CrashPoint:
    """Holds the reply to the nth successful request of a kind, so the dispatcher can be killed
    while it waits for it."""

    def __init__(self, is_kind, nth: int):
        self.is_kind, self.nth, self.seen = is_kind, nth, 0
        self.reached, self.release = threading.Event(), threading.Event()
        self.request = None

    def __call__(self, request, reply):
        if self.is_kind(request) and reply.status < 300:
            self.seen += 1
            if self.seen == self.nth:
                self.request = request
                self.reached.set()
                self.release.wait(timeout=60)


def dispatcher_environment(database_url: str, graph_url: str, certificate: Path) -> dict[str, str]:
    settings = {
        "DATABASE_URL": database_url, "SECRET_KEY": "crash-test", "MAIL_TRANSPORT": "graph",
        "GRAPH_TENANT_ID": TENANT, "GRAPH_CLIENT_ID": "client-id", "GRAPH_CLIENT_SECRET": "client-secret",
        "GRAPH_SENDER": MAILBOX, "GRAPH_ENDPOINT": graph_url, "GRAPH_AUTHORITY_HOST": graph_url,
        # A claim lasts 5 s + 8 timeouts: 29 s here, which the last run waits out.
        "GRAPH_TIMEOUT_SECONDS": "3", "MAIL_RATE_PER_MINUTE": "600000",
    }
    return {
        **os.environ, **{f"AUDIT_WORKFLOW_{name}": value for name, value in settings.items()},
        "REQUESTS_CA_BUNDLE": str(certificate), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
    }


def run_until(crash: CrashPoint | None, fake, environment, log: Path) -> subprocess.CompletedProcess | None:
    """Run the dispatcher; with a crash point, SIGKILL it there. The finished run, or None if killed."""
    fake.after = crash or (lambda request, reply: None)
    with log.open("w") as output:
        process = subprocess.Popen(COMMAND, env=environment, stdout=output, stderr=subprocess.STDOUT)
        if crash is None:
            process.wait(timeout=120)
            return subprocess.CompletedProcess(COMMAND, process.returncode, log.read_text())
        reached = crash.reached.wait(timeout=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        crash.release.set()
    assert reached, f"the dispatcher never reached the crash point:\n{log.read_text()}"
    return None


@pytest.mark.slow
def test_a_dispatcher_killed_mid_batch_sends_every_message_exactly_once(engine, database_url, world, tmp_path):
    keys = add_messages(engine, MESSAGES, la_id=world.las["own"].id)
    with serve_https(tmp_path) as (fake, certificate):
        environment = dispatcher_environment(database_url, fake.base_url, certificate)

        accepted_unanswered = CrashPoint(lambda request: request.is_send, nth=30)
        run_until(accepted_unanswered, fake, environment, tmp_path / "run-1.log")
        hung_draft = accepted_unanswered.request.path.split("/")[-2]
        [hung] = [m for m in map(lambda key: message(engine, key), keys) if m.draft_id == hung_draft]
        assert hung.status == "sending"  # Graph sent it; the dispatcher never recorded that

        drafted_unrecorded = CrashPoint(lambda request: request.is_draft, nth=20)
        run_until(drafted_unrecorded, fake, environment, tmp_path / "run-2.log")
        assert statuses(engine)["sending"] > 1  # the hung message and the second run's stranded batch

        finished = run_until(None, fake, environment, tmp_path / "run-3.log")

    assert finished.returncode == 0, finished.stdout
    assert "Nothing is left to send." in finished.stdout
    assert statuses(engine) == {"sent": MESSAGES}
    assert fake.sent_keys() == {key: 1 for key in keys}  # 0 duplicates, none lost
    assert message(engine, hung.idempotency_key).provider_id == hung_draft
    assert any(request.path.endswith(f"/messages/{hung_draft}") and request.method == "GET" for request in fake.requests())
    unsent_drafts = [draft for draft in fake.drafts.values() if not draft.sent]
    assert len(unsent_drafts) == 1  # the orphan of the second crash, never sent
