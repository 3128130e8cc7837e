"""The staff flow of ``full-flow-example.txt`` in a real browser, through the admin only.

Headless Debian Chromium (never a downloaded browser) driven by Playwright
against ``live_server`` with local storage; the background jobs run inline
(``DJANGO_Q_SYNC=1``), so finishing a set or a campaign runs its job inside
the request that finishes it, exactly as a worker would run it afterwards.
Screenshots of the pages each step shows go to ``artifacts/``.

One test, one step function per thing the flow shows: each step starts where
the one before left the data, and ``live_server`` (a transactional test)
empties the database after every test, so the steps cannot be tests of their
own. A failure names its step in the traceback.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image as PILImage
from PIL import ImageDraw

from accounts.models import User
from campaigns.export.services import STEPS as EXPORT_STEPS
from campaigns.models import BoundingBox, Campaign, CampaignImage
from imagesets.models import Image, ImageSet, ImageSetJob
from testing.api import NoKeepAliveSession
from testing.browser import admin_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
PASSWORD = "browser-test-Password-1"
TIMEOUT_MS = 15_000
FILES = {
    "beach.png": ((240, 160), (30, 120, 200)),
    "park.png": ((200, 200), (40, 160, 60)),
    "street.png": ((160, 120), (200, 90, 40)),
}


@pytest.fixture
def http():
    """The agency's HTTP client: a new connection per call (why: ``NoKeepAliveSession``)."""
    with NoKeepAliveSession() as session:
        yield session


def picture(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    im = PILImage.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(im)
    for x in range(0, width, 20):
        draw.line([(x, 0), (x, height)], fill=(255, 255, 255), width=1)
    draw.ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4], outline=(0, 0, 0), width=3)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def messages_text(page) -> str:
    return page.locator("ul.messagelist").inner_text()


def test_staff_run_the_whole_flow_in_the_admin(live_server, browser, http, settings):
    from playwright.sync_api import expect

    settings.STORAGE_BACKEND = "local"
    User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(
        base_url=live_server.url, accept_downloads=True, viewport={"width": 1400, "height": 1000}
    )
    page, errors = admin_page(context, email="staff@example.com", password=PASSWORD, timeout_ms=TIMEOUT_MS)
    expect(page).to_have_url(re.compile(r"/admin/$"))

    imageset = a_new_image_set_shows_its_dropbox_url_and_expiry(page, live_server.url)
    the_set_page_uploads_with_the_file_picker_and_by_dropping(page, imageset)
    finishing_the_set_registers_every_image_and_the_page_shows_the_job(page, imageset)
    the_job_panel_follows_a_running_job_and_offers_a_retry_once_its_worker_dies(page, imageset)
    campaign, agency = a_new_campaign_shows_its_agency_key_and_secret_once(page)
    the_image_list_adds_the_sets_images_to_the_campaign(page, imageset, campaign)
    activating_the_campaign_shows_it_active(page)
    beach, park, street = the_agency_submits_objects_over_the_api_and_completes_the_campaign(
        http, f"{live_server.url}/api/v1", agency, imageset, campaign
    )
    the_review_page_draws_each_images_current_boxes_and_moves_with_the_keys(page, campaign, beach, park, street)
    finishing_the_campaign_from_the_list_runs_the_export_and_shows_it(page, campaign)
    the_campaign_page_links_the_exported_files_and_downloads_labels_csv(page, http, live_server.url, campaign)

    assert errors == [], f"JavaScript errors: {errors}"
    context.close()


# --- the steps, in the order the test runs them ---------------------------------------------------


def a_new_image_set_shows_its_dropbox_url_and_expiry(page, server_url: str) -> ImageSet:
    """Create an image set: its page shows the dropbox URL and its expiry."""
    from playwright.sync_api import expect

    page.goto("/admin/imagesets/imageset/add/")
    page.fill("#id_title", "browser-set")
    page.fill("#id_metadata", '{"country": "Nederland"}')
    page.click("input[name=apply]")
    expect(page.locator("#lh-dropbox-url")).to_have_value(re.compile(rf"^{re.escape(server_url)}/api/v1/dropbox/"))
    expect(page.locator("#lh-dropbox-expires")).to_contain_text("UTC")
    imageset = ImageSet.objects.get(title="browser-set")
    assert imageset.metadata == {"country": "Nederland"}
    return imageset


def the_set_page_uploads_with_the_file_picker_and_by_dropping(page, imageset: ImageSet) -> None:
    """Upload three images through the set's page: two with the file picker, one dropped on the box.

    Screenshot: ``imageset-upload.png``.
    """
    from playwright.sync_api import expect

    files = {name: picture(*size, colour) for name, (size, colour) in FILES.items()}
    page.set_input_files(
        "#lh-files",
        [{"name": name, "mimeType": "image/png", "buffer": files[name]} for name in ("beach.png", "park.png")],
    )
    expect(page.locator(".lh-batch").nth(0)).to_have_attribute("data-state", "done")
    expect(page.locator(".lh-batch").nth(0)).to_contain_text("2 of 2 uploaded")
    dropped = page.evaluate_handle(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: "image/png"}));
            return transfer;
        }""",
        ["street.png", base64.b64encode(files["street.png"]).decode()],
    )
    page.dispatch_event("#lh-dropzone", "drop", {"dataTransfer": dropped})
    expect(page.locator(".lh-batch").nth(1)).to_have_attribute("data-state", "done")
    expect(page.locator(".lh-batch").nth(1)).to_contain_text("1 of 1 uploaded")
    page.screenshot(path=str(ARTIFACTS / "imageset-upload.png"), full_page=True)
    dropbox = Path(settings.MEDIA_ROOT) / f"dropbox-{imageset.title}"
    assert sorted(p.name for p in dropbox.iterdir()) == sorted(files)


def finishing_the_set_registers_every_image_and_the_page_shows_the_job(page, imageset: ImageSet) -> None:
    """Finish: the job runs, the page shows it succeeded with every image registered, the dropbox is gone."""
    from playwright.sync_api import expect

    page.click("#lh-finish")
    expect(page.locator("ul.messagelist")).to_contain_text(re.compile("browser-set finished", re.I))
    expect(page.locator("#lh-job-status")).to_have_text("succeeded")
    expect(page.locator("#lh-job-progress-text")).to_have_text("3/3")
    expect(page.locator("#lh-image-count")).to_have_text("3")
    expect(page.locator("#lh-retry")).to_be_hidden()
    assert ImageSetJob.objects.get(imageset=imageset).status == "succeeded"
    assert sorted(Image.objects.filter(imageset=imageset).values_list("width", "height")) == [
        (160, 120),
        (200, 200),
        (240, 160),
    ]
    assert not (Path(settings.MEDIA_ROOT) / f"dropbox-{imageset.title}").exists()


def the_job_panel_follows_a_running_job_and_offers_a_retry_once_its_worker_dies(page, imageset: ImageSet) -> None:
    """The job panel follows a job without a reload (as while a worker runs it); when its worker process dies
    (SIGKILL, out of memory) the job is stuck and staff may retry it; a failure shows its progress and error.

    Leaves the job succeeded again, as finishing left it.
    """
    from playwright.sync_api import expect

    jobs = ImageSetJob.objects.filter(imageset=imageset)
    jobs.update(status="running", done=1, total=3, date_done=None)
    page.reload()
    expect(page.locator("#lh-job-status")).to_have_text("running")
    expect(page.locator("#lh-retry")).to_be_hidden()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    jobs.update(worker=f"{os.uname().nodename}:{gone.pid}")
    expect(page.locator("#lh-retry")).to_be_visible()
    jobs.update(status="failed", done=2, error="StorageError: busy")
    expect(page.locator("#lh-job-status")).to_have_text("failed")
    expect(page.locator("#lh-job-progress-text")).to_have_text("2/3")
    expect(page.locator("#lh-job-error")).to_have_text("StorageError: busy")
    expect(page.locator("#lh-retry")).to_be_visible()
    jobs.update(status="succeeded", done=3, error=None)


def a_new_campaign_shows_its_agency_key_and_secret_once(page) -> tuple[Campaign, dict[str, str]]:
    """Create a campaign for an agency: the key and secret are shown once. Returns the agency's API headers."""
    from playwright.sync_api import expect

    page.goto("/admin/campaigns/campaign/add/")
    page.fill("#id_title", "browser-campaign")
    page.fill("#id_labeler_email", "agency@example.com")
    page.click("input[name=apply]")
    expect(page.locator("h1")).to_have_text("Campaign browser-campaign created")
    apikey = page.locator(".lh-apikey").inner_text().strip()
    secret = page.locator(".lh-secret").inner_text().strip()
    campaign = Campaign.objects.get(title="browser-campaign")
    return campaign, {"Authentication-Key": apikey, "Authentication-Secret": secret}


def the_image_list_adds_the_sets_images_to_the_campaign(page, imageset: ImageSet, campaign: Campaign) -> None:
    """Add the set's images: the image list shows their thumbnails; select them, "Add to campaign…", pick the
    campaign; the campaign page shows 0 of 3 labeled.

    Screenshots: ``image-list.png``, ``add-to-campaign.png``.
    """
    from playwright.sync_api import expect

    page.goto(f"/admin/imagesets/image/?imageset__id__exact={imageset.pk}")
    expect(page.locator("#result_list img.lh-thumb")).to_have_count(3)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#result_list img.lh-thumb')].every(i => i.complete && i.naturalWidth > 0)"
    )
    # Thumbnails are derived copies, 160 px on their longest side: street (160×120), park, beach (240×160).
    natural = page.locator("#result_list img.lh-thumb").evaluate_all(
        "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])"
    )
    assert natural == [[160, 120], [160, 160], [160, 107]]
    page.screenshot(path=str(ARTIFACTS / "image-list.png"), full_page=True)
    page.check("#action-toggle")
    page.select_option("select[name=action]", "add_to_campaign")
    page.click("button[name=index]")
    expect(page.locator("h1")).to_have_text("Add images to a campaign")
    page.screenshot(path=str(ARTIFACTS / "add-to-campaign.png"), full_page=True)
    page.select_option("#id_campaign", str(campaign.pk))
    page.click("input[name=apply]")
    expect(page.locator("ul.messagelist")).to_contain_text("Added 3 image(s) to browser-campaign")
    expect(page.locator("#lh-campaign-progress-text")).to_have_text("0/3")


def activating_the_campaign_shows_it_active(page) -> None:
    """Activate from the campaign page: the message and the status say so."""
    from playwright.sync_api import expect

    page.click("#lh-step-activate")
    expect(page.locator("ul.messagelist")).to_contain_text("Activated browser-campaign")
    expect(page.locator("#lh-campaign-status")).to_have_text("active")


def the_agency_submits_objects_over_the_api_and_completes_the_campaign(
    http, api: str, agency: dict[str, str], imageset: ImageSet, campaign: Campaign
) -> tuple[int, int, int]:
    """The agency lists the campaign's images and submits objects through the API with its key; every image
    labeled (one with no objects), the campaign is completed. Returns the ids of beach, park and street."""
    listed = http.get(f"{api}/campaigns/{campaign.pk}/images", headers=agency, timeout=10)
    assert listed.status_code == 200, listed.text
    image_ids = sorted(item["image_id"] for item in listed.json()["images"])
    beach, park, street = (
        Image.objects.get(imageset=imageset, blobstorage_path__endswith=name).pk
        for name in ("beach.png", "park.png", "street.png")
    )
    assert image_ids == sorted([beach, park, street])
    body = [
        {
            "image_id": beach,
            "objects": [
                {
                    "label": "Plastic",
                    "confidence": 1,
                    "bounding_box": {"xmin": 13, "xmax": 57, "ymin": 100, "ymax": 150},
                },
                {
                    "label": "Organic",
                    "confidence": 0.56,
                    "bounding_box": {"xmin": 120, "xmax": 220, "ymin": 12, "ymax": 54},
                },
            ],
        },
        {
            "image_id": park,
            "objects": [
                {
                    "label": "Wood",
                    "confidence": 0.12,
                    "bounding_box": {"xmin": 74, "xmax": 172, "ymin": 91, "ymax": 112},
                },
            ],
        },
        {"image_id": street, "objects": []},
    ]
    submitted = http.put(f"{api}/campaigns/{campaign.pk}/objects", json=body, headers=agency, timeout=10)
    assert submitted.status_code == 200, submitted.text
    campaign.refresh_from_db()
    assert campaign.status == "completed"
    return beach, park, street


def the_review_page_draws_each_images_current_boxes_and_moves_with_the_keys(
    page, campaign: Campaign, beach: int, park: int, street: int
) -> None:
    """Review: the boxes drawn over each image are its current objects, labels shown; the arrow keys move
    between images; the "empty" filter and "next" reach the image without objects.

    Screenshot: ``review.png``.
    """
    from playwright.sync_api import expect

    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/review/")
    expect(page).to_have_url(re.compile(rf"/review/{beach}/$"))
    expect(page.locator("#lh-review-image")).to_have_js_property("complete", True)
    assert page.locator("#lh-review-image").evaluate("img => img.naturalWidth") == 240
    stored = BoundingBox.objects.current().filter(campaign_image__campaign=campaign, campaign_image__image_id=beach)
    boxes = page.locator("#lh-boxes g.lh-box")
    expect(boxes).to_have_count(stored.count())
    assert stored.count() == 2
    captions = page.locator("#lh-captions .lh-caption").all_text_contents()
    assert captions == ["Plastic 1.00", "Organic 0.56"]
    assert page.locator("#lh-boxes rect").first.get_attribute("x") == "13"
    page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)

    # review.js is deferred: its key handler exists once the page has loaded.
    page.wait_for_load_state("load")
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(rf"/review/{park}/$"))
    expect(page.locator("#lh-boxes g.lh-box")).to_have_count(1)
    expect(page.locator("#lh-captions .lh-caption")).to_have_text("Wood 0.12")
    page.wait_for_load_state("load")
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(rf"/review/{beach}/$"))
    page.click("#lh-filters a[data-filter=empty]")
    page.click("#lh-next")
    expect(page).to_have_url(re.compile(rf"/review/{street}/\?show=empty$"))
    expect(page.locator("#lh-boxes g.lh-box")).to_have_count(0)
    expect(page.locator("#lh-position")).to_have_text("image 1 of 1")


def finishing_the_campaign_from_the_list_runs_the_export_and_shows_it(page, campaign: Campaign) -> None:
    """Finish the campaign with the list's action: the export runs and the list shows every step of it done.

    Screenshot: ``campaign-list.png``.
    """
    from playwright.sync_api import expect

    page.goto("/admin/campaigns/campaign/")
    page.check(f"input[name=_selected_action][value='{campaign.pk}']")
    page.select_option("select[name=action]", "finish")
    page.click("button[name=index]")
    page.click("input[name=apply]")  # the confirmation page: finishing cannot be undone
    expect(page.locator("ul.messagelist")).to_contain_text("Finished 1 campaign(s).")
    steps = len(EXPORT_STEPS)
    expect(page.locator("#result_list")).to_contain_text(f"succeeded ({steps}/{steps})")
    page.screenshot(path=str(ARTIFACTS / "campaign-list.png"), full_page=True)
    campaign.refresh_from_db()
    assert campaign.status == "finished" and campaign.job.status == "succeeded"


def the_campaign_page_links_the_exported_files_and_downloads_labels_csv(
    page, http, server_url: str, campaign: Campaign
) -> None:
    """The campaign page links the files the export wrote; labels.csv downloads, the same as the stored file,
    with every image's labels and confidences.

    Screenshot: ``campaign-finished.png``.
    """
    from playwright.sync_api import expect

    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    links = page.locator("#lh-export-files a")
    expect(links.first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "campaign-finished.png"), full_page=True)
    written = [record["path"] for record in campaign.job.result["files"]]
    assert links.all_inner_texts() == written
    csv_link = links.filter(has_text="browser-campaign_labels.csv").get_attribute("href")
    stored_csv = http.get(f"{server_url}{csv_link}", timeout=10)
    assert stored_csv.status_code == 200
    with page.expect_download() as download_info:
        page.click("#lh-csv")
    download = download_info.value
    assert download.suggested_filename == "browser-campaign_labels.csv"
    downloaded = Path(download.path()).read_text(encoding="utf-8")
    assert downloaded == stored_csv.text
    rows = list(csv.reader(io.StringIO(downloaded)))
    assert rows[0] == ["image_url", "label", "label_confidence"]
    by_path = {row[0]: (json.loads(row[1]), json.loads(row[2])) for row in rows[1:]}
    assert len(by_path) == 3
    beach_labels, beach_confidences = by_path["uploads/browser-set/beach.png"]
    assert [item["label"] for item in beach_labels] == ["Plastic", "Organic"]
    assert beach_confidences == [1.0, 0.56]
    assert by_path["uploads/browser-set/street.png"] == ([], [])
    assert CampaignImage.objects.filter(campaign=campaign, labeled=True).count() == 3
