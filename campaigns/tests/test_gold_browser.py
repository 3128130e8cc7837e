"""Gold images in a real browser: staff give references over the API, the agency delivers, staff read the quality.

Headless Debian Chromium driven by Playwright against ``live_server``: the
campaign page's gold panel, the gold list (removing a reference) and the
agency's vendor statistics with their gold columns and weeks. Screenshots at
1366x768 go to ``artifacts/``; the pages' load times are printed, not asserted.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from accounts.models import User
from accounts.services import apikey_issue
from campaigns.models import Campaign, GoldImage
from campaigns.tests.conftest import image_ids
from campaigns.tests.factories import make_campaign
from testing.browser import admin_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
PASSWORD = "browser-test-Password-1"
TIMEOUT_MS = 15_000


def obj(label: str, xmin: int, ymin: int, xmax: int, ymax: int) -> dict:
    return {"label": label, "bounding_box": {"xmin": xmin, "xmax": xmax, "ymin": ymin, "ymax": ymax}}


def headers(key) -> dict:
    return {"Authentication-Key": key.apikey, "Authentication-Secret": key.secret, "Connection": "close"}


def test_staff_read_a_deliverys_quality_against_its_gold_images(live_server, browser):
    from playwright.sync_api import expect

    staff = User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    agency_user = User.objects.create_user(email="vendor@example.com")
    campaign = make_campaign(
        images=4, status=Campaign.Status.ACTIVE, labeler=agency_user, title="beach-litter", gold_min_f1="0.9"
    )
    first, second, third, _ = image_ids(campaign)
    api = f"{live_server.url}/api/v1"
    staff_key, agency_key = apikey_issue(user=staff), apikey_issue(user=agency_user)
    references = {
        "items": [
            {"image_id": first, "objects": [obj("bottle", 0, 0, 100, 100), obj("can", 100, 100, 150, 200)]},
            {"image_id": second, "objects": [obj("bottle", 0, 0, 50, 50)]},
        ]
    }
    given = requests.put(f"{api}/campaigns/{campaign.pk}/gold", json=references, headers=headers(staff_key), timeout=10)
    assert given.json() == {"given": 2, "images": 2}
    delivery = [
        {"image_id": first, "objects": [obj("bottle", 0, 0, 100, 50), obj("can", 100, 100, 150, 200)]},
        {"image_id": second, "objects": [obj("bottle", 0, 0, 50, 50), obj("cap", 60, 60, 70, 70)]},
        {"image_id": third, "objects": []},
    ]
    response = requests.put(
        f"{api}/campaigns/{campaign.pk}/objects", json=delivery, headers=headers(agency_key), timeout=10
    )
    assert response.status_code == 200
    # TP 3 (bottle at IoU 0.5, can, bottle), FP 1 (the cap): precision 0.75, recall 1, F1 6/7.
    quality = requests.get(f"{api}/campaigns/{campaign.pk}/quality", headers=headers(staff_key), timeout=10).json()
    assert quality["gold"]["f1"] == 0.857143

    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    page, errors = admin_page(context, email="staff@example.com", password=PASSWORD, timeout_ms=TIMEOUT_MS)
    page.on("dialog", lambda dialog: dialog.accept())
    timings = {}

    started = time.perf_counter()
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    timings["campaign page"] = time.perf_counter() - started
    expect(page.locator("#lh-gold-count")).to_have_text("2, 2 delivered and scored")
    expect(page.locator("#lh-gold-f1")).to_have_text("0.857")
    expect(page.locator("#lh-gold-gate")).to_have_text("Gate minimum F1 0.900: the campaign is below it")
    expect(page.locator("#lh-gold-labels tbody tr")).to_have_count(3)
    page.locator("#lh-gold-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "gold-campaign-panel.png"))

    started = time.perf_counter()
    page.click("#lh-gold-panel a")
    timings["gold list"] = time.perf_counter() - started
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("0.667")  # image 2: TP 1, FP 1
    page.screenshot(path=str(ARTIFACTS / "gold-list.png"))

    started = time.perf_counter()
    page.goto(f"/admin/campaigns/campaign/stats/agency/?agency={agency_user.email}")
    timings["agency statistics"] = time.perf_counter() - started
    expect(page.locator("#lh-gold .lh-gold-f1").first).to_have_text("0.857")
    expect(page.locator("#lh-gold-weeks tbody tr")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "gold-scorecard.png"), full_page=True)

    # Removing a reference from the list.
    page.goto(f"/admin/campaigns/goldimage/?campaign__id__exact={campaign.pk}")
    page.locator("#result_list tbody tr").first.locator("input.action-select").check()
    page.select_option("select[name=action]", "remove_gold")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Removed 1 gold image(s)")
    assert list(GoldImage.objects.filter(campaign=campaign).values_list("image_id", flat=True)) == [second]
    assert not errors, errors
    print("gold pages: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in timings.items()))
    context.close()
