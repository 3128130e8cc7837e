"""Reviewing a delivery with the keyboard in a real browser, then the agency reworking it over the API.

Headless Debian Chromium driven by Playwright against ``live_server`` with
local storage: staff accept one image with ``A``, reject another with ``R``
(a reason picked, Enter to confirm), the page moving on to the next image
awaiting review each time; the agency then sees the rejection in
``GET /campaigns/{id}/images`` and resubmits the image.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import requests
from django.conf import settings
from PIL import Image as PILImage

from accounts.models import User
from accounts.services import apikey_issue
from campaigns.models import Campaign, CampaignImage, Review
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory, CampaignLabelerFactory
from imagesets.tests.factories import ImageFactory
from integrations.storage import get_storage
from testing.browser import admin_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
PASSWORD = "browser-test-Password-1"
TIMEOUT_MS = 15_000


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def test_staff_review_with_the_keyboard_and_the_agency_reworks_the_rejected_image(live_server, browser, settings):
    from playwright.sync_api import expect

    settings.STORAGE_BACKEND = "local"
    User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    agency_user = User.objects.create_user(email="agency@example.com")
    key = apikey_issue(user=agency_user)
    campaign = CampaignFactory(title="keyboard-review", status=Campaign.Status.ACTIVE)
    CampaignLabelerFactory(campaign=campaign, user=agency_user)
    storage = get_storage()
    images = []
    for index, colour in enumerate([(200, 40, 40), (40, 160, 60), (40, 80, 200)]):
        image = ImageFactory(blobstorage_path=f"images/review/img-{index}.png", width=300, height=200)
        storage.write(image.blobstorage_path, [png(300, 200, colour)], content_type="image/png")
        CampaignImageFactory(campaign=campaign, image=image)
        images.append(image.pk)
    first, second, third = images

    api = f"{live_server.url}/api/v1"
    agency = {"Authentication-Key": key.apikey, "Authentication-Secret": key.secret, "Connection": "close"}
    body = [
        {
            "image_id": image_id,
            "objects": [
                {
                    "label": "bottle",
                    "confidence": 0.9,
                    "bounding_box": {"xmin": 20, "xmax": 120, "ymin": 30, "ymax": 150},
                }
            ],
        }
        for image_id in images
    ]
    assert (
        requests.put(f"{api}/campaigns/{campaign.pk}/objects", json=body, headers=agency, timeout=10).status_code == 200
    )

    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 1000})
    page, errors = admin_page(context, email="staff@example.com", password=PASSWORD, timeout_ms=TIMEOUT_MS)
    page.on("dialog", lambda dialog: dialog.accept())  # the campaign page asks before deciding a lot

    # From the campaign page's review panel to the images awaiting review.
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    expect(page.locator("#lh-review-summary")).to_contain_text("3 awaiting review")
    page.screenshot(path=str(ARTIFACTS / "campaign-review-panel.png"), full_page=True)
    page.click("#lh-review-pending")
    expect(page).to_have_url(re.compile(rf"/review/{first}/\?show=pending$"))
    expect(page.locator("#lh-captions .lh-caption")).to_have_text(["bottle 0.90"])
    caption_size = page.locator("#lh-captions .lh-caption").evaluate("el => getComputedStyle(el).fontSize")
    assert caption_size == "12px"  # the same screen size whatever the image's scale
    page.screenshot(path=str(ARTIFACTS / "review-keyboard.png"), full_page=True)

    # A accepts and moves on to the next image awaiting review.
    page.wait_for_load_state("load")  # review.js is deferred
    page.keyboard.press("a")
    expect(page).to_have_url(re.compile(rf"/review/{second}/\?show=pending$"))
    expect(page.locator("ul.messagelist")).to_contain_text(f"Image {first} accepted")

    # R opens the reason picker; Enter confirms the rejection.
    page.wait_for_load_state("load")
    page.keyboard.press("r")
    expect(page.locator("#lh-reject-form")).to_be_visible()
    expect(page.locator("#lh-reason-code")).to_be_focused()
    page.select_option("#lh-reason-code", "missing-object")
    page.fill("#lh-reason", "the second bottle has no box")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/review/{third}/\?show=pending$"))
    expect(page.locator("ul.messagelist")).to_contain_text(f"Image {second} rejected")

    # N goes to the next image awaiting review.
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/review/{second}/")
    expect(page.locator("#lh-review-state")).to_have_text("Rejected")
    expect(page.locator("#lh-last-review")).to_contain_text("the second bottle has no box")
    page.wait_for_load_state("load")
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(rf"/review/{third}/$"))
    assert not errors, errors

    decisions = {
        r.campaign_image.image_id: (r.decision, r.reason_code) for r in Review.objects.select_related("campaign_image")
    }
    assert decisions == {first: ("accepted", ""), second: ("rejected", "missing-object")}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE  # the rejection reopened the completed campaign

    # The agency sees the rejection and resubmits the image.
    listed = requests.get(
        f"{api}/campaigns/{campaign.pk}/images", params={"state": "rejected"}, headers=agency, timeout=10
    ).json()
    assert [(i["image_id"], i["labeled"], i["review"]["reason"]) for i in listed["images"]] == [
        (second, False, "the second bottle has no box")
    ]
    fixed = [
        {
            "image_id": second,
            "objects": [
                {"label": "bottle", "bounding_box": {"xmin": 20, "xmax": 120, "ymin": 30, "ymax": 150}},
                {"label": "bottle", "bounding_box": {"xmin": 160, "xmax": 260, "ymin": 30, "ymax": 150}},
            ],
        }
    ]
    assert (
        requests.put(f"{api}/campaigns/{campaign.pk}/objects", json=fixed, headers=agency, timeout=10).status_code
        == 200
    )
    row = CampaignImage.objects.get(campaign=campaign, image_id=second)
    assert (row.review_state, row.rework_round) == ("pending", 1)

    # Staff compare the new revision with the rejected one: one box added.
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/review/{second}/?compare=1")
    expect(page.locator("#lh-changes")).to_contain_text("1 added, 0 removed, 0 moved, 0 relabeled, 1 kept")
    page.screenshot(path=str(ARTIFACTS / "review-compare.png"), full_page=True)

    # An acceptance sample of the two images awaiting review, walked with the keyboard, then the lot accepted.
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    page.fill("#lh-sample-size", "2")
    page.fill("#lh-sample-seed", "7")
    page.click("#lh-sample-start")
    expect(page).to_have_url(re.compile(r"/review/\d+/\?show=pending&sample=\d+$"))
    expect(page.locator("#lh-sample-scope")).to_be_visible()
    for _ in range(2):
        page.wait_for_load_state("load")
        page.keyboard.press("a")
        expect(page.locator("ul.messagelist")).to_contain_text("accepted")
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    expect(page.locator("#lh-sample-verdict")).to_have_text("Accept the lot")
    page.click("#lh-lot-accept")
    expect(page.locator("#lh-lot-decision")).to_have_text("accepted")
    expect(page.locator("#lh-review-summary")).to_contain_text("0 awaiting review · 3 accepted")

    # The vendor statistics of the campaign, with the CSV link.
    page.click("#lh-stats-link")
    expect(page.locator("#lh-stats")).to_contain_text("keyboard-review")
    expect(page.locator("#lh-stats-csv")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "vendor-stats.png"), full_page=True)
    assert not errors, errors
    context.close()


def test_a_sample_whose_image_was_labeled_again_is_refused_then_discarded_in_the_admin(live_server, browser, settings):
    from playwright.sync_api import expect

    from campaigns.models import ReviewSampleImage

    settings.STORAGE_BACKEND = "local"
    User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    agency_user = User.objects.create_user(email="agency@example.com")
    key = apikey_issue(user=agency_user)
    campaign = CampaignFactory(title="stale-sample", status=Campaign.Status.ACTIVE, review_required=True)
    CampaignLabelerFactory(campaign=campaign, user=agency_user)
    storage = get_storage()
    images = []
    for index in range(3):  # one left unlabeled: the campaign stays active, open to the agency
        image = ImageFactory(blobstorage_path=f"images/stale/img-{index}.png", width=300, height=200)
        storage.write(image.blobstorage_path, [png(300, 200, (90, 90, 90))], content_type="image/png")
        CampaignImageFactory(campaign=campaign, image=image)
        images.append(image.pk)
    api = f"{live_server.url}/api/v1"
    agency = {"Authentication-Key": key.apikey, "Authentication-Secret": key.secret, "Connection": "close"}

    def deliver(image_ids, xmax):
        box = {"xmin": 20, "xmax": xmax, "ymin": 30, "ymax": 150}
        body = [
            {"image_id": i, "objects": [{"label": "bottle", "confidence": 0.9, "bounding_box": box}]} for i in image_ids
        ]
        response = requests.put(f"{api}/campaigns/{campaign.pk}/objects", json=body, headers=agency, timeout=10)
        assert response.status_code == 200

    deliver(images[:2], 120)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    page, errors = admin_page(context, email="staff@example.com", password=PASSWORD, timeout_ms=TIMEOUT_MS)
    page.on("dialog", lambda dialog: dialog.accept())  # the campaign page asks before deciding a lot

    # A sample of one image, accepted with the keyboard.
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    page.fill("#lh-sample-size", "1")
    page.click("#lh-sample-start")
    expect(page.locator("#lh-sample-scope")).to_be_visible()
    page.wait_for_load_state("load")
    page.keyboard.press("a")
    expect(page.locator("ul.messagelist")).to_contain_text("accepted")

    # The agency labels the sampled image again: accepting the lot is refused, saying why.
    sampled = ReviewSampleImage.objects.get(sample__campaign=campaign).campaign_image.image_id
    deliver([sampled], 60)
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    expect(page.locator("#lh-sample-verdict")).to_have_text("Accept the lot")
    page.click("#lh-lot-accept")
    expect(page.locator("ul.messagelist")).to_contain_text(f"labeled again after their review (image ids {sampled})")
    expect(page.locator("#lh-review-summary")).to_contain_text("2 awaiting review · 0 accepted")
    page.locator("#lh-review-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "sample-stale.png"))

    # Discarding closes the sample without deciding anything; a new one can be drawn.
    page.click("#lh-lot-discard")
    expect(page.locator("ul.messagelist")).to_contain_text("discarded, no image decided")
    expect(page.locator("#lh-lot-decision")).to_have_text("discarded")
    expect(page.locator("#lh-sample-start")).to_be_visible()
    expect(page.locator("#lh-review-summary")).to_contain_text("2 awaiting review · 0 accepted")
    page.locator("#lh-review-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "sample-discarded.png"))
    assert not errors, errors
    context.close()
