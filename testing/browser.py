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


def admin_page(context, *, email: str, password: str, timeout_ms: int = 15_000):
    """A new page of ``context``, logged in to the admin, and the list its JavaScript errors are collected in."""
    from playwright.sync_api import expect

    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    expect.set_options(timeout=timeout_ms)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    return page, errors
