"""Browser tests: the app served on loopback, driven by Playwright in Debian's Chromium.

Playwright's own browser download is not used (no network); Debian's chromium is. Cookies stay
Secure and __Host- prefixed: Chromium treats http://127.0.0.1 as a secure context.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator

import pytest
from werkzeug.serving import make_server

from tests.conftest import need_service

CHROMIUM = os.environ.get("AUDIT_WORKFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]


@contextmanager
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def browser():
    need_service(os.path.exists(CHROMIUM), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def server_url(app):
    with live_server(app) as url:
        yield url


def sign_in_page(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
