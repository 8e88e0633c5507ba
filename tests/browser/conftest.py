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
    """Requests the live server is still answering, counted by Django's request signals.

    Closing the browser does not stop a request the server thread is already answering (an HTMX fragment, a
    poll). If the test's database flush (TRUNCATE) starts while such a request is reading, the two can deadlock
    (seen in CI). ``drain`` waits until the server has finished every request it began.
    """

    def __init__(self) -> None:
        self.count = 0
        self.cond = threading.Condition()

    @staticmethod
    def _live() -> bool:  # the live server answers in its own threads; the test client in the test's thread
        return threading.current_thread() is not threading.main_thread()

    def started(self, **_: Any) -> None:
        if not self._live():
            return
        with self.cond:
            self.count += 1

    def finished(self, **_: Any) -> None:
        if not self._live():
            return
        with self.cond:
            self.count = max(0, self.count - 1)
            self.cond.notify_all()

    def drain(self, timeout: float = 30.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.count == 0, timeout=timeout)


IN_FLIGHT = _InFlight()


@pytest.fixture(scope="session", autouse=True)
def _count_live_requests() -> Iterator[None]:
    from django.core.signals import request_finished, request_started

    request_started.connect(IN_FLIGHT.started, dispatch_uid="openkam-browser-in-flight-start")
    request_finished.connect(IN_FLIGHT.finished, dispatch_uid="openkam-browser-in-flight-finish")
    yield
    request_started.disconnect(dispatch_uid="openkam-browser-in-flight-start")
    request_finished.disconnect(dispatch_uid="openkam-browser-in-flight-finish")


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()
    # the database is flushed after this fixture: let the server finish what the browser had asked for first
    assert IN_FLIGHT.drain(), f"the live server is still answering {IN_FLIGHT.count} request(s) 30 s after the test"


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
