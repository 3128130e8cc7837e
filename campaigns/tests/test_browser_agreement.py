"""Two agencies on the same images, in a real browser: the campaign page's link, the walk through the
disagreements on the review page (arrow keys, a decision moving on along the walk), the statistics.

Headless Debian Chromium driven by Playwright against ``live_server`` with local storage, at 1366x768;
screenshots in ``artifacts/`` (``agreement-*.png``).
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
from campaigns.models import Campaign, Review
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


def bottle(xmin, xmax, label="bottle"):
    return {"label": label, "confidence": 0.9, "bounding_box": {"xmin": xmin, "xmax": xmax, "ymin": 30, "ymax": 150}}


def test_staff_walk_the_images_two_agencies_disagree_on(live_server, browser, settings):
    from playwright.sync_api import expect

    settings.STORAGE_BACKEND = "local"
    User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    agencies = [User.objects.create_user(email=f"agency-{n}@example.com") for n in (1, 2)]
    keys = [apikey_issue(user=agency) for agency in agencies]
    ours = CampaignFactory(title="beach-north-agency-one", status=Campaign.Status.ACTIVE)
    theirs = CampaignFactory(title="beach-north-agency-two", status=Campaign.Status.ACTIVE)
    for campaign, agency in zip((ours, theirs), agencies, strict=True):
        CampaignLabelerFactory(campaign=campaign, user=agency)
    storage = get_storage()
    images = []
    for index, colour in enumerate([(200, 40, 40), (40, 160, 60), (40, 80, 200), (160, 160, 40)]):
        image = ImageFactory(blobstorage_path=f"images/agree/img-{index}.png", width=300, height=200)
        storage.write(image.blobstorage_path, [png(300, 200, colour)], content_type="image/png")
        for campaign in (ours, theirs):
            CampaignImageFactory(campaign=campaign, image=image)
        images.append(image.pk)
    same, moved, relabeled, missing = images

    # Agency one names its workers; agency two does not.
    api = f"{live_server.url}/api/v1"
    ours_body = [
        {"image_id": same, "annotator": "w-ana", "objects": [bottle(20, 120)]},
        {"image_id": moved, "annotator": "w-ana", "objects": [bottle(20, 120)]},
        {"image_id": relabeled, "annotator": "w-ben", "objects": [bottle(20, 120)]},
        {"image_id": missing, "annotator": "w-ben", "objects": [bottle(20, 120), bottle(160, 260)]},
    ]
    theirs_body = [
        {"image_id": same, "objects": [bottle(20, 120)]},
        {"image_id": moved, "objects": [bottle(30, 130)]},  # IoU 90/110: the same box
        {"image_id": relabeled, "objects": [bottle(20, 120, "can")]},
        {"image_id": missing, "objects": [bottle(20, 120)]},
    ]
    for campaign, key, body in ((ours, keys[0], ours_body), (theirs, keys[1], theirs_body)):
        headers = {"Authentication-Key": key.apikey, "Authentication-Secret": key.secret, "Connection": "close"}
        response = requests.put(f"{api}/campaigns/{campaign.pk}/objects", json=body, headers=headers, timeout=10)
        assert response.status_code == 200, response.text

    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    page, errors = admin_page(context, email="staff@example.com", password=PASSWORD, timeout_ms=TIMEOUT_MS)

    # Staff compare the two campaigns on the first one's page.
    page.goto(f"/admin/campaigns/campaign/{ours.pk}/change/")
    page.select_option("#id_consensus_with", str(theirs.pk))
    page.click("input[name=_continue]")
    expect(page.locator("#lh-agreement-link")).to_contain_text("Compared with beach-north-agency-two")
    page.locator("#lh-review-panel").screenshot(path=str(ARTIFACTS / "agreement-campaign-panel.png"))

    # The walk: relabeled (F1 0) first, then the image with a missing box (F1 2/3); the others agree.
    page.click("#lh-agreement-link a")
    expect(page).to_have_url(re.compile(rf"/review/{relabeled}/\?disagree_with={theirs.pk}$"))
    expect(page.locator("#lh-position")).to_have_text("image 1 of 2")
    expect(page.locator("#lh-walk")).to_contain_text("this image F1 0.000")
    expect(page.locator("#lh-walk-theirs")).to_have_attribute(
        "href", f"/admin/campaigns/campaign/{theirs.pk}/review/{relabeled}/"
    )
    page.screenshot(path=str(ARTIFACTS / "agreement-review-walk.png"))
    page.wait_for_load_state("load")  # review.js is deferred
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(rf"/review/{missing}/\?disagree_with={theirs.pk}$"))
    expect(page.locator("#lh-walk")).to_contain_text("this image F1 0.667")
    page.wait_for_load_state("load")
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(rf"/review/{relabeled}/\?disagree_with={theirs.pk}$"))

    # A accepts and moves on along the walk, not to the next image awaiting review.
    page.wait_for_load_state("load")
    page.keyboard.press("a")
    expect(page).to_have_url(re.compile(rf"/review/{missing}/\?disagree_with={theirs.pk}$"))
    expect(page.locator("ul.messagelist")).to_contain_text(f"Image {relabeled} accepted")
    assert Review.objects.get().campaign_image.image_id == relabeled

    # The statistics: the agreement and the table by annotator.
    page.goto(f"/admin/campaigns/campaign/{ours.pk}/stats/")
    expect(page.locator("#lh-agreements")).to_contain_text("over 4 shared images")
    expect(page.locator("#lh-annotators tbody tr")).to_have_count(2)
    expect(page.locator("#lh-annotators tbody tr").first.locator("th")).to_have_text("w-ana")
    expect(page.locator("#lh-annotators .lh-annotator-agreement-f1").first).to_have_text("1.000")
    page.locator("#lh-agreement-title").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "agreement-stats.png"), full_page=True)
    assert not errors, errors
