"""A person who mistypes the admin password too often sees, in the admin's look, why and for how long."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
EMAIL = "staff@example.com"
PASSWORD = "browser-test-Password-1"


def test_a_locked_out_admin_sign_in_explains_itself_and_refuses_the_right_password(live_server, browser, settings):
    from playwright.sync_api import expect

    settings.AXES_FAILURE_LIMIT = 3
    User.objects.create_superuser(email=EMAIL, password=PASSWORD)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15_000)

    def sign_in(password: str) -> None:
        page.goto("/admin/login/")
        page.fill("#id_username", EMAIL)
        page.fill("#id_password", password)
        page.click("input[type=submit]")

    for _ in range(2):
        sign_in("wrong-password")
        expect(page.locator(".errornote")).to_contain_text("Please enter the correct")
    sign_in("wrong-password")

    notice = page.locator("#lh-locked-out")
    expect(notice).to_contain_text("Too many failed sign-ins")
    expect(notice).to_contain_text("15 minutes")
    expect(page.locator("#content-main")).to_contain_text(EMAIL)
    expect(page.locator("#site-name")).to_be_visible()  # the admin's header, not a bare text answer
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-lockout.png"))

    page.click("#lh-back-to-sign-in")
    sign_in(PASSWORD)
    expect(page.locator("#lh-locked-out")).to_be_visible()
    context.close()
