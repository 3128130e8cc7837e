"""The admin tells staff the truth, in a real browser: live panels, errors where they happen, confirmations, names.

Headless Debian Chromium driven by Playwright against ``live_server`` with
local storage, at 1366×768 (screenshots in ``artifacts/``):

* a mistyped image filter keeps what was typed, says what is wrong and lists
  no image, so nothing can be selected and added to a campaign;
* finishing a campaign asks first; its export panel then follows the job the
  worker runs and turns to "Succeeded" with the files, without a reload;
* lot decisions and deleting an image set ask first;
* the site is called labelhub and ``/favicon.ico`` answers.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import User
from campaigns import tasks as campaign_tasks
from campaigns.inputs import NewSample, parse_review_items
from campaigns.models import Campaign, CampaignImage, CampaignJob
from campaigns.services import reviews_decide, sample_start
from campaigns.tests.conftest import image_ids
from campaigns.tests.export_data import make_exportable_campaign
from campaigns.tests.factories import (
    CampaignFactory,
    CampaignLabelerFactory,
    make_campaign,
    objects_body,
    replace_objects_from_body,
)
from imagesets.models import ImageSet, ImageSetJob
from imagesets.tests.factories import ImageFactory, ImageSetFactory
from testing.browser import admin_page
from webhooks.models import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
PASSWORD = "browser-test-Password-1"
TIMEOUT_MS = 15_000
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture
def staff_page(live_server, browser, settings):
    settings.STORAGE_BACKEND = "local"
    User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    page, errors = admin_page(context, email="staff@example.com", password=PASSWORD, timeout_ms=TIMEOUT_MS)
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    yield page, errors, missing
    context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_a_mistyped_image_filter_keeps_the_inputs_says_what_is_wrong_and_offers_no_image(staff_page):
    from playwright.sync_api import expect

    page, errors, _ = staff_page
    campaign = CampaignFactory(title="taking-images")
    for index in range(3):
        ImageFactory(blobstorage_path=f"images/uploads/beach/img-{index}.jpg", lat=52.1, lon=4.3)

    page.goto("/admin/imagesets/image/")
    expect(page.locator("input[name=_selected_action]")).to_have_count(3)
    page.fill("#lh-lat_min", "91")
    page.fill("#lh-date_taken_from", "15.03.2024")
    page.click("#lh-facts-filter input[type=submit]")

    error = page.locator("#lh-facts-filter-error")
    expect(error).to_contain_text("“taken from”: expected a date such as 2024-03-14")
    expect(error).to_contain_text("“latitude from”: expected decimal degrees between -90 and 90.")  # both at once
    expect(page.locator("ul.messagelist")).to_contain_text("is not valid, so no image is listed")
    assert "e=1" not in page.url
    expect(page.locator("#lh-lat_min")).to_have_value("91")  # what was typed, to be corrected
    expect(page.locator("#lh-date_taken_from")).to_have_value("15.03.2024")
    expect(page.locator("#lh-date_taken_from")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lh-lat_min")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lh-lon_min")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=_selected_action]")).to_have_count(0)  # nothing to select, nor "select all"
    shot(page, "admin-image-filter-error")

    # Correcting the date leaves the latitude to correct, still listing nothing; then the list is back.
    page.fill("#lh-date_taken_from", "2024-03-15")
    page.click("#lh-facts-filter input[type=submit]")
    expect(error).not_to_contain_text("taken from")
    expect(error).to_contain_text("“latitude from”: expected decimal degrees")
    expect(page.locator("#lh-lat_min")).to_have_value("91")
    expect(page.locator("input[name=_selected_action]")).to_have_count(0)
    page.fill("#lh-lat_min", "52")
    page.fill("#lh-date_taken_from", "")
    page.click("#lh-facts-filter input[type=submit]")
    expect(page.locator("#lh-facts-filter-error")).to_have_count(0)
    expect(page.locator("input[name=_selected_action]")).to_have_count(3)
    assert not CampaignImage.objects.filter(campaign=campaign).exists()
    assert not errors, errors


def test_finishing_asks_first_then_the_export_panel_turns_to_succeeded_by_itself(staff_page, monkeypatch):
    from django_q.conf import Conf
    from playwright.sync_api import expect

    from core.jobs import queue

    page, errors, missing = staff_page
    campaign, _ = make_exportable_campaign(status=Campaign.Status.COMPLETED)
    CampaignLabelerFactory(campaign=campaign, user=User.objects.create_user(email="vendor@agency.example"))
    # The broker takes the job; the worker (this test, below) runs it while the page is open.
    handed: list[tuple[str, int]] = []
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(queue, "async_task", lambda task, owner_id, **kw: handed.append((task, owner_id)) or "t-1")

    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    expect(page.locator("#lh-agency")).to_have_text("vendor@agency.example")
    page.wait_for_load_state("load")

    # Dismissed: nothing happens.
    asked: list[str] = []

    def answer(accept: bool):
        def on_dialog(dialog):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return on_dialog

    page.once("dialog", answer(False))
    page.click("#lh-step-finish")
    assert asked == [
        "Finish beach-2024 and export its labels (3 of 4 images labeled)? The agency can no longer submit, "
        "and a finished campaign cannot be reopened."
    ]
    expect(page.locator("#lh-campaign-status")).to_have_text("completed")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED and not handed

    # Accepted: finished, the export queued and the panel following it.
    page.once("dialog", answer(True))
    page.click("#lh-step-finish")
    expect(page.locator("ul.messagelist")).to_contain_text("Finished beach-2024")
    expect(page.locator("#lh-export-status")).to_have_text("Queued")
    expect(page.locator("#lh-export-live")).to_be_visible()
    assert handed == [("campaigns.tasks.campaign_export_run", campaign.pk)]
    shot(page, "admin-campaign-export-queued")
    page.evaluate("window.lhNotReloaded = true")

    started = time.monotonic()
    campaign_tasks.campaign_export_run(campaign.pk)  # the worker runs the job
    ran = time.monotonic() - started
    expect(page.locator("#lh-export-status")).to_have_text("Succeeded")
    seen = time.monotonic() - started - ran
    expect(page.locator("#lh-export-files li")).to_have_count(7)
    expect(page.locator("#lh-export-files")).to_contain_text("beach-2024_labels.csv")
    expect(page.locator("#lh-export-live")).to_have_count(0)
    expect(page.locator("#lh-export-done")).to_contain_text("took")
    assert page.evaluate("window.lhNotReloaded") is True  # the same page, changed by itself
    print(f"export panel: job ran {ran * 1000:.0f} ms, shown as succeeded {seen * 1000:.0f} ms after it ended")
    assert CampaignJob.objects.get(campaign=campaign).status == CampaignJob.Status.SUCCEEDED
    shot(page, "admin-campaign-export-succeeded")

    # Polling stopped: no request for the panel once it said so.
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if "/live/" in request.url else None)
    page.wait_for_timeout(2500)
    assert requests == []
    assert not errors, errors
    assert not missing, missing


def test_lot_decisions_ask_first(staff_page):
    from playwright.sync_api import expect

    page, errors, _ = staff_page
    campaign = make_campaign(images=6, status=Campaign.Status.ACTIVE, title="lot-check")
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=None)

    # A sample of 2, both accepted (the review page's own tests walk it with the keyboard).
    sample = sample_start(campaign_id=campaign.pk, new=NewSample(size=2, seed=5), actor=None)
    sampled = list(sample.sample_images.values_list("campaign_image__image_id", flat=True))
    items = [{"image_id": image_id, "decision": "accepted"} for image_id in sampled]
    reviews_decide(campaign_id=campaign.pk, reviews=parse_review_items(items), actor=None)
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    expect(page.locator("#lh-sample-verdict")).to_have_text("Accept the lot")
    page.wait_for_load_state("load")
    shot(page, "admin-campaign-lot-decision")

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#lh-lot-accept")
    assert len(asked) == 1 and asked[0].startswith("Accept the lot of sample")
    sample.refresh_from_db()
    assert sample.lot_decision == ""  # dismissed: not decided

    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#lh-lot-discard")
    assert asked[-1].startswith(f"Discard sample {sample.pk}?")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#lh-lot-accept")
    expect(page.locator("#lh-lot-decision")).to_have_text("accepted")
    sample.refresh_from_db()
    assert sample.lot_decision == "accept"
    assert not errors, errors


def test_deleting_an_image_set_asks_first(staff_page):
    from playwright.sync_api import expect

    page, errors, _ = staff_page
    finished = ImageSetFactory(title="beach-2024", status=ImageSet.Status.FINISHED)
    for index in range(3):
        ImageFactory(imageset=finished, blobstorage_path=f"images/uploads/beach-2024/img-{index}.jpg")
    ImageSetJob.objects.create(
        imageset=finished,
        status="succeeded",
        done=3,
        total=3,
        result={"images_with_date": 2, "images_with_location": 1},
    )
    page.goto(f"/admin/imagesets/imageset/{finished.pk}/change/")
    expect(page.locator("#lh-image-count")).to_have_text("3")
    expect(page.locator(".form-row.field-image_count")).to_have_count(0)  # no field says "Images 0" under the panel
    shot(page, "admin-imageset-finished")

    imageset = ImageSetFactory(title="to-delete")
    page.goto(f"/admin/imagesets/imageset/{imageset.pk}/change/")
    page.click("a.deletelink")
    expect(page.locator("#lh-delete-warning")).to_contain_text("Its dropbox goes with it")
    assert ImageSet.objects.filter(pk=imageset.pk).exists()
    shot(page, "admin-imageset-delete-confirm")
    page.click("input[type=submit][value='Yes, I’m sure']")
    expect(page.locator("ul.messagelist")).to_contain_text("deleted successfully")
    assert not ImageSet.objects.filter(pk=imageset.pk).exists()
    assert not errors, errors


def test_the_site_is_labelhub_with_a_favicon_and_webhook_deliveries_where_staff_look(staff_page):
    from playwright.sync_api import expect

    page, errors, missing = staff_page
    webhook = Webhook.objects.create(url="https://hooks.example.com/labelhub", events=["campaign.completed"])
    for index, (status, code, error) in enumerate(
        [
            (DeliveryStatus.SUCCEEDED, 200, ""),
            (DeliveryStatus.PENDING, 503, "HTTP 503"),
            (DeliveryStatus.FAILED, None, "timed out"),
        ]
    ):
        event = WebhookEvent.objects.create(uid=f"msg_{index}", type="campaign.completed", payload="{}")
        WebhookDelivery.objects.create(
            event=event, webhook=webhook, status=status, attempts=index + 1, last_status_code=code, last_error=error
        )

    page.goto("/admin/")
    expect(page.locator("#site-name")).to_have_text("labelhub")
    assert page.title() == "Staff administration | labelhub"
    expect(page.locator("#content-main")).not_to_contain_text("Django administration")
    shot(page, "admin-index")
    favicon = page.request.get("/favicon.ico")
    assert favicon.status == 200 and favicon.body()[:4] == b"\x00\x00\x01\x00"

    page.goto("/admin/webhooks/webhook/")
    expect(page.locator("#result_list")).to_contain_text("1 succeeded · 1 failed · 1 pending")
    page.goto(f"/admin/webhooks/webhook/{webhook.pk}/change/")
    rows = page.locator("#lh-webhook-deliveries tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("503")
    expect(rows.nth(1)).to_contain_text("HTTP 503")
    expect(rows.nth(0)).to_contain_text("timed out")
    page.locator("#lh-webhook-deliveries").scroll_into_view_if_needed()
    shot(page, "admin-webhook-deliveries")
    assert not errors, errors
    assert not [url for url in missing if "favicon" in url], missing


def test_the_statistics_page_and_the_finish_confirmation_page(staff_page):
    from playwright.sync_api import expect

    page, errors, _ = staff_page
    campaign = make_campaign(images=4, status=Campaign.Status.ACTIVE, title="stats-and-finish")
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=None)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED  # every image labeled

    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/stats/")
    expect(page.locator("#lh-stats")).to_contain_text("rejections made")
    shot(page, "admin-campaign-stats")

    page.goto("/admin/campaigns/campaign/")
    page.check(f"input[name=_selected_action][value='{campaign.pk}']")
    page.select_option("select[name=action]", "finish")
    page.click("button[name=index]")
    expect(page.locator("#lh-confirm-warning")).to_contain_text("cannot be reopened")
    shot(page, "admin-campaign-finish-confirm")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    page.click("input[name=apply]")
    expect(page.locator("ul.messagelist")).to_contain_text("Finished 1 campaign(s).")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FINISHED
    assert not errors, errors
