"""The switching rules and the gold gate on a campaign's page, in a real browser (screenshots in artifacts/).

Staff see the tightened inspection an open sample was drawn under and why,
its lot's gold figure below the minimum with the accept button disabled,
reject the lot, and later resume inspection the rules discontinued.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import User
from campaigns.models import ReviewSample
from campaigns.tests.test_switching_services import LOT, Delivery, campaign_of
from testing.browser import admin_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
PASSWORD = "browser-test-Password-1"
TIMEOUT_MS = 15_000


def test_staff_follow_the_switching_rules_and_the_gold_gate_on_the_campaign_page(live_server, browser):
    from playwright.sync_api import expect

    staff = User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    agency = User.objects.create_user(email="agency@example.com")
    campaign = campaign_of(agency, 9 * LOT + 1, aql=Decimal("10"), title="switching-in-a-browser")
    delivery = Delivery(campaign, agency, staff)
    delivery.lot(accept=False)
    delivery.lot(accept=False)
    delivery.deliver()
    sample = delivery.draw()
    # Drawn from a lot whose three gold images score F1 0.62 under the campaign's minimum of 0.8.
    ReviewSample.objects.filter(pk=sample.pk).update(gold_images=3, gold_f1=0.62, gold_min_f1=Decimal("0.8"))
    delivery.review_sampled(sample, accept=True)

    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    page, errors = admin_page(context, email="staff@example.com", password=PASSWORD, timeout_ms=TIMEOUT_MS)
    page.on("dialog", lambda dialog: dialog.accept())  # the campaign page asks before deciding a lot

    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    expect(page.locator("#lh-sample-inspection")).to_contain_text("(Table 2-B)")
    expect(page.locator("#lh-sample-inspection")).to_contain_text("2 of the last 2 lots were not accepted")
    expect(page.locator("#lh-sample-gold")).to_contain_text("3 gold images in the lot, F1 0.62")
    expect(page.locator("#lh-sample-gold")).to_contain_text("below the minimum")
    expect(page.locator("#lh-sample-verdict")).to_have_text("Reject the lot")
    expect(page.locator("#lh-lot-accept")).to_be_disabled()
    page.locator("#lh-review-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "switching-sample-panel.png"))

    page.click("#lh-lot-reject")
    expect(page.locator("ul.messagelist")).to_contain_text(f"Sample {sample.pk}: lot rejected")
    expect(page.locator("#lh-next-inspection")).to_contain_text(
        "Tightened inspection continues: 0 lots accepted in a row of the 5 that return to normal; 1 lot not accepted"
    )
    expect(page.locator("#lh-reduced-inspection")).to_contain_text("allowed once the switching score reaches 30")
    page.locator("#lh-review-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "switching-next-lot.png"))

    for _ in range(4):  # 5 lots not accepted on tightened inspection: discontinued
        delivery.lot(accept=False)
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    expect(page.locator("#lh-next-inspection")).to_contain_text("Inspection discontinued until staff resume it")
    expect(page.locator("#lh-sample-form")).to_have_count(0)
    page.locator("#lh-review-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "switching-discontinued.png"))

    page.click("#lh-resume-inspection")
    expect(page.locator("ul.messagelist")).to_contain_text("Inspection resumed")
    expect(page.locator("#lh-next-inspection")).to_contain_text("resumed by staff@example.com")
    expect(page.locator("#lh-sample-form")).to_be_visible()
    assert not errors, errors
    context.close()
