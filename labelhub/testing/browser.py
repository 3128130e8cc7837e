"""pytest plugin: a headless Debian Chromium driven by Playwright for the browser tests.

Never a downloaded browser: ``/usr/bin/chromium`` from Debian's ``chromium``
package (``.ci/run`` installs it). Without it a browser test is skipped,
except under ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the
    # test's own ORM calls (and the database teardown) are still synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
                _wait_for_live_server_requests()
                # The ORM calls made while Playwright's loop ran opened their own connection.
                connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _wait_for_live_server_requests(timeout: float = 10) -> None:
    """Let the live server's request threads see the browser's sockets close.

    Each thread closes its database connections when its connection ends;
    one still open would keep the test database from being dropped.
    """
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(timeout)
