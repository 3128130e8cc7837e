"""Swagger UI in a real browser: "Authorize" with key and secret, then "Try it out" answers 200.

The original service's UI could not send the two-part key. Here headless Chromium (Debian's
``chromium``, never a downloaded browser) drives /api/v1/ui on a live labelhub. Without
Chromium the test is skipped, except under CI=true where that is a failure.
"""

from __future__ import annotations

import re

import pytest

from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from imagesets.tests.factories import ImageSetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 30_000


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    # Offline machine: anything not served by labelhub itself is a bug (a CDN script, a font).
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith((live_server.url, "data:", "blob:")) else None
        ),
    )
    yield page
    context.close()
    assert outside == [], f"the page loaded from outside labelhub: {outside}"


def _open_operation(page, method: str, path: str):
    operation = page.locator(f".opblock-{method}").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{path}"]')
    )
    operation.locator(".opblock-summary").first.click()
    return operation


def test_authorize_with_key_and_secret_then_try_it_out_answers_200(page, live_server):
    admin = UserFactory(email="ui-admin@example.com", is_staff=True)
    issued = apikey_issue(user=admin)
    ImageSetFactory(title="shown-in-swagger", created_by=admin)

    page.goto("/api/v1/ui")
    page.locator(".swagger-ui .info .title").filter(has_text="labelhub API").wait_for()

    # Authorize: one form per header scheme; both are filled and authorized.
    page.locator(".auth-wrapper .authorize").click()
    dialog = page.locator(".modal-ux")
    for scheme, value in (("AuthenticationKey", issued.apikey), ("AuthenticationSecret", issued.secret)):
        form = dialog.locator(".auth-container").filter(has=page.locator("h4 code", has_text=re.compile(f"^{scheme}$")))
        form.locator("input").fill(value)
        form.locator("button.authorize").click()
        form.locator("button", has_text="Logout").wait_for()
    dialog.locator("button.btn-done").first.click()

    operation = _open_operation(page, "get", "/image_sets")
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()

    response = operation.locator(".live-responses-table .response").first
    response.locator(".response-col_status").filter(has_text=re.compile(r"^\s*200")).wait_for()
    assert "shown-in-swagger" in response.locator(".response-col_description").inner_text()
    # The call went to this server (the schema's server URL is relative), with both headers.
    assert operation.locator(".request-url pre").inner_text().strip() == f"{live_server.url}/api/v1/image_sets"
    curl = operation.locator(".curl-command").inner_text()
    assert f"Authentication-Key: {issued.apikey}" in curl
    assert f"Authentication-Secret: {issued.secret}" in curl
    # The key lives in the page only: nothing the browser keeps holds it (persistAuthorization is off).
    kept = page.evaluate("() => JSON.stringify([{...window.localStorage}, {...window.sessionStorage}])")
    assert issued.secret not in kept and issued.apikey not in kept


def test_try_it_out_without_authorizing_shows_the_401(page):
    page.goto("/api/v1/ui")
    page.locator(".swagger-ui .info .title").filter(has_text="labelhub API").wait_for()

    operation = _open_operation(page, "get", "/campaigns")
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()

    response = operation.locator(".live-responses-table .response").first
    response.locator(".response-col_status").filter(has_text=re.compile(r"^\s*401")).wait_for()
    assert "Authentication-Secret" in response.locator(".response-col_description").inner_text()
