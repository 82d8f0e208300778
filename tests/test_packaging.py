"""A wheel built from the repository runs without it: installed into a fresh virtual environment
and started from another folder, it upgrades a database, loads the demo, renders every email and
serves pages. (config/, email_templates/ and migrations/ live at the top of the repository, and
setup.py copies them into the wheel; see audit_workflow/resources.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

RENDER_EVERY_EMAIL = """
import audit_workflow
from audit_workflow.notifications.catalogue import KINDS, render_message, sample_context
assert "_shipped" in audit_workflow.__file__ or "site-packages" in audit_workflow.__file__, audit_workflow.__file__
for kind in KINDS:
    message = render_message(kind, sample_context(kind))
    assert message.subject and message.text and message.html, kind
print(len(KINDS))
"""


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(arg) for arg in args], capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def _environment(tmp_path: Path) -> dict[str, str]:
    kept = {key: value for key, value in os.environ.items()
            if not key.startswith(("AUDIT_WORKFLOW_", "PYTHON", "VIRTUAL_ENV"))}
    return {**kept, "AUDIT_WORKFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'installed.db'}",
            "AUDIT_WORKFLOW_DEMO_MODE": "true"}


def test_a_wheel_installs_into_a_clean_venv_and_runs_without_the_repository(tmp_path):
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", tmp_path / "dist", REPO_ROOT)
    wheel = next((tmp_path / "dist").glob("audit_workflow-*.whl"))
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel)

    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    environment = _environment(tmp_path)
    command = venv / "bin" / "audit-workflow"
    assert "up to date" in _run(command, "db", "upgrade", cwd=workdir, env=environment).stdout
    assert "Demo data ready" in _run(command, "demo", cwd=workdir, env=environment).stdout
    rendered = _run(venv / "bin" / "python", "-c", RENDER_EVERY_EMAIL, cwd=workdir, env=environment)
    assert int(rendered.stdout.strip()) > 10

    port = free_port()
    server = subprocess.Popen([str(command), "serve", "--port", str(port)], cwd=workdir, env=environment,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/sign-in")
        assert "Sign in" in page and "Demo accounts" in page
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(url: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
