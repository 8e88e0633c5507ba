"""Browser tests: real Debian Chromium driven by Playwright, against pytest-django's live server.

Skipped, with the command to fix it, when /usr/bin/chromium is absent (CI installs it in .ci/run).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("OPENKAM_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("OPENKAM_SCREENSHOTS", "var/screenshots"))

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install chromium` to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


class _InFlight:
    """Connections the live server is still serving (each in its own thread, one or more requests each).

    Closing the browser does not stop a request the server is already answering (an HTMX fragment, a poll). If the
    test's database flush (TRUNCATE) starts while such a request is reading, the two can deadlock (seen in CI).
    ``drain`` waits until every connection the server accepted is finished (Django closes the thread's database
    connection as it ends one).
    """

    def __init__(self) -> None:
        self.count = 0
        self.cond = threading.Condition()

    def started(self) -> None:
        with self.cond:
            self.count += 1

    def finished(self) -> None:
        with self.cond:
            self.count -= 1
            self.cond.notify_all()

    def drain(self, timeout: float = 30.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.count <= 0, timeout=timeout)


IN_FLIGHT = _InFlight()


@pytest.fixture(scope="session", autouse=True)
def _count_live_connections() -> Iterator[None]:
    from django.core.servers.basehttp import ThreadedWSGIServer

    accept, serve = ThreadedWSGIServer.process_request, ThreadedWSGIServer.process_request_thread

    def process_request(self: Any, request: Any, client_address: Any) -> None:  # the server's thread, on accept
        IN_FLIGHT.started()
        try:
            accept(self, request, client_address)  # starts the connection's thread
        except BaseException:
            IN_FLIGHT.finished()
            raise

    def process_request_thread(self: Any, request: Any, client_address: Any) -> None:  # the connection's thread
        try:
            serve(self, request, client_address)
        finally:
            IN_FLIGHT.finished()

    ThreadedWSGIServer.process_request = process_request  # type: ignore[method-assign]
    ThreadedWSGIServer.process_request_thread = process_request_thread  # type: ignore[method-assign]
    yield
    ThreadedWSGIServer.process_request, ThreadedWSGIServer.process_request_thread = accept, serve  # type: ignore[method-assign]


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()
    # the database is flushed after this fixture: let the server finish what the browser had asked for first
    assert IN_FLIGHT.drain(), f"the live server still serves {IN_FLIGHT.count} connection(s) 30 s after the test"


@pytest.fixture
def login(page: Any) -> Any:
    """``login("kam")``: sign in through the real login page (password ``demo``)."""

    def do(username: str, password: str = "demo") -> Any:
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return do


def shot(page: Any, name: str) -> None:
    """Save a screenshot under var/screenshots for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
