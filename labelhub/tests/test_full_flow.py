"""The flow of ``shared/seed/full-flow-example.txt``, run as its client script runs it.

Plain ``requests`` against a live labelhub over HTTP, on both storage
backends: the contract's paths, bodies and answers, with nothing but the two
key headers. What an existing client script does must keep working.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from urllib.parse import urlsplit

import pytest

from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from imagesets.tests import samples
from testing.api import NoKeepAliveSession

pytestmark = pytest.mark.django_db(transaction=True)

IMAGESET_KEYS = {
    "imageset_id",
    "title",
    "status",
    "metadata",
    "blobstorage_path",
    "date_created",
    "date_finished",
    "created_by",
    "job",
}
CAMPAIGN_KEYS = {
    "campaign_id",
    "title",
    "status",
    "progress",
    "metadata",
    "label_translations",
    "labels",
    "date_created",
    "date_started",
    "date_completed",
    "date_finished",
    "created_by",
    "job",
    "review_required",  # added
    "aql",  # added
    "gold_min_f1",  # added
}
IMAGE_KEYS = {
    "image_id",
    "blobstorage_path",
    "imageset",
    "date_taken",
    "location",
    "type",
    "metadata",
    "tss_id",
    "file",
    "orientation",  # added: EXIF orientation and the size as shown
    "display_dimensions",
}


def box(xmin, xmax, ymin, ymax):
    return {"xmin": xmin, "xmax": xmax, "ymin": ymin, "ymax": ymax}


@pytest.fixture
def http():
    """A new connection per call (why: ``NoKeepAliveSession``)."""
    with NoKeepAliveSession() as session:
        yield session


def test_the_seed_flow_runs_unchanged_over_http(live_server, any_storage, http, settings):
    admin = UserFactory(email="jayke@test.com", is_staff=True)
    issued = apikey_issue(user=admin)
    headers = {"Authentication-Key": issued.apikey, "Authentication-Secret": issued.secret}
    run_seed_flow(
        http,
        f"{live_server.url}/api/v1",
        headers,
        container=settings.AZURE_STORAGE_IMAGESET_CONTAINER,
        read_stored=lambda path: any_storage.open(path).read(),
    )


@pytest.mark.azurite
def test_the_seed_flow_runs_keyless_on_azurite_in_oauth_mode(
    live_server, azure_keyless_storage, http, settings, identity_endpoint
):
    """No account key anywhere: storage by account URL and the managed identity's tokens, user-delegation SAS."""
    from django.conf import settings as current

    assert settings.AZURE_STORAGE_ACCOUNT_URL.startswith("https://") and not settings.AZURE_STORAGE_CONNECTION_STRING
    for name in filter(str.isupper, dir(current)):
        assert "AccountKey" not in repr(getattr(current, name)), name
    assert not [name for name, value in os.environ.items() if "AccountKey" in value]
    admin = UserFactory(email="jayke@test.com", is_staff=True)
    issued = apikey_issue(user=admin)
    headers = {"Authentication-Key": issued.apikey, "Authentication-Secret": issued.secret}
    tokens_before = len(identity_endpoint.requests)

    run_seed_flow(
        http,
        f"{live_server.url}/api/v1",
        headers,
        container=settings.AZURE_STORAGE_IMAGESET_CONTAINER,
        read_stored=lambda path: azure_keyless_storage.open(path).read(),
    )

    # The identity's tokens were asked for storage only, and at most once (the credential caches them).
    assert set(identity_endpoint.requests[tokens_before:]) <= {"https://storage.azure.com"}


def wait_for_job(http, url: str, headers: dict, *, timeout: float = 60.0) -> dict:
    """GET ``url`` until its ``job`` has ended (at once where jobs run inline); returns the body."""
    deadline = time.monotonic() + timeout
    while True:
        body = http.get(url, headers=headers).json()
        if body["job"] and body["job"]["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def run_seed_flow(http, api_url: str, headers: dict, *, container: str, read_stored) -> None:
    """shared/seed/full-flow-example.txt as its client script runs it, against ``api_url``."""

    # Create image set
    r = http.post(
        f"{api_url}/image_sets",
        json={"title": "imageset-26-10-2020", "metadata": {"country": "Nederland"}},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == IMAGESET_KEYS | {"dropbox_url"}
    assert body["status"] == "created" and body["created_by"] == "jayke@test.com"
    assert body["blobstorage_path"] == "dropbox-imageset-26-10-2020"
    assert body["date_created"].endswith("Z") and body["date_finished"] is None
    image_set_id = body["imageset_id"]

    # Upload images to the dropbox URL, the same way on both backends
    dropbox = urlsplit(body["dropbox_url"])
    files = {
        "car.png": samples.png(200, 200),
        "jayke.jpg": samples.jpeg(310, 340),
        "shady guy.png": samples.png(240, 203),
        "notes.txt": b"not an image",
    }
    for name, data in files.items():
        url = f"{dropbox.scheme}://{dropbox.netloc}{dropbox.path}/{name}?{dropbox.query}"
        put = http.put(url, data=data, headers={"x-ms-blob-type": "BlockBlob"})
        assert put.status_code == 201, put.text

    # Finish the image set: "ok", and the job ends in the background
    r = http.put(f"{api_url}/image_sets/{image_set_id}", json={"new_status": "finished"}, headers=headers)
    assert (r.status_code, r.json()) == (200, "ok")
    imageset = wait_for_job(http, f"{api_url}/image_sets/{image_set_id}", headers)
    assert imageset["status"] == "finished"
    assert imageset["job"]["status"] == "succeeded", imageset["job"]
    assert imageset["job"]["skipped"] == ["notes.txt"]
    assert imageset["blobstorage_path"] == f"{container}/uploads/imageset-26-10-2020"

    # Create a labeling campaign; the agency gets its key once
    r = http.post(
        f"{api_url}/campaigns",
        json={
            "title": "campaign-26-10-2020",
            "metadata": {"to_be_used_for": "New train set"},
            "labeler_email": "new_user@example.com",
        },
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == CAMPAIGN_KEYS | {"access_token"}
    assert body["progress"] == {"done": 0, "total": 0} and body["status"] == "created"
    campaign_id = body["campaign_id"]
    user_headers = {
        "Authentication-Key": body["access_token"]["apikey"],
        "Authentication-Secret": body["access_token"]["apisecret"],
    }

    # Find the images and add them to the campaign
    r = http.get(f"{api_url}/images", headers=headers)
    listing = r.json()
    assert listing["pagination"] == {"page": 1, "pages": 1, "total": 3, "per_page": 10, "next": None, "prev": None}
    images = listing["images"]
    assert all(set(image) == IMAGE_KEYS for image in images)
    by_name = {image["blobstorage_path"].rsplit("/", 1)[1]: image for image in images}
    assert by_name["car.png"]["file"] == {
        "filetype": "PNG",
        "filesize": len(files["car.png"]),
        "dimensions": {"width": 200, "height": 200},
    }
    assert by_name["jayke.jpg"]["file"]["dimensions"] == {"width": 310, "height": 340}
    assert by_name["car.png"]["imageset"] == {"imageset_id": image_set_id, "title": "imageset-26-10-2020"}
    ids = sorted(image["image_id"] for image in images)
    r = http.post(f"{api_url}/campaigns/{campaign_id}/images", json=[{"id": i} for i in ids], headers=headers)
    assert (r.status_code, r.json()) == (200, "ok")
    campaign = http.get(f"{api_url}/campaigns/{campaign_id}", headers=headers).json()
    assert campaign["progress"] == {"done": 0, "total": 3} and campaign["status"] == "created"

    # The agency cannot submit yet; then the campaign goes active
    early = http.put(
        f"{api_url}/campaigns/{campaign_id}/objects", json=[{"image_id": ids[0], "objects": []}], headers=user_headers
    )
    assert early.status_code == 409 and early.json()["detail"]
    r = http.put(f"{api_url}/campaigns/{campaign_id}", json={"new_status": "active"}, headers=headers)
    assert (r.status_code, r.json()) == (200, "ok")

    # The labeling partner lists and fetches its images
    r = http.get(f"{api_url}/campaigns/{campaign_id}/images", headers=user_headers)
    listed = r.json()
    # The contract's fields, as the seed flow shows them; the review fields are additions.
    assert [{"image_id": i["image_id"], "url": i["url"]} for i in listed["images"]] == [
        {"image_id": i, "url": f"/images/{i}"} for i in ids
    ]
    assert all((i["labeled"], i["review"]) == (False, None) for i in listed["images"])
    assert listed["pagination"] == {"next": None, "page": 1, "pages": 1, "per_page": 1000, "prev": None, "total": 3}
    car_id = by_name["car.png"]["image_id"]
    redirect = http.get(f"{api_url}/images/{car_id}", headers=user_headers, allow_redirects=False)
    assert redirect.status_code == 303
    fetched = http.get(redirect.headers["Location"])
    assert fetched.status_code == 200 and fetched.content == files["car.png"]
    assert http.get(f"{api_url}/images", headers=user_headers).status_code == 401

    # Labels for two images, then the rest: the campaign completes itself
    first = [
        {
            "image_id": ids[0],
            "objects": [
                {"label": "Plastic", "confidence": 1, "bounding_box": box(13, 57, 123, 198)},
                {"label": "Organic", "confidence": 0.56, "bounding_box": box(26, 98, 12, 54)},
            ],
        },
        {
            "image_id": ids[1],
            "objects": [
                {"label": "Wood", "confidence": 0.12, "bounding_box": box(74, 172, 91, 112)},
            ],
        },
    ]
    r = http.put(f"{api_url}/campaigns/{campaign_id}/objects", json=first, headers=user_headers)
    assert (r.status_code, r.json()) == (200, "ok")
    progress = http.get(f"{api_url}/campaigns/{campaign_id}", headers=headers).json()["progress"]
    assert progress == {"done": 2, "total": 3}
    r = http.put(
        f"{api_url}/campaigns/{campaign_id}/objects", json=[{"image_id": ids[2], "objects": []}], headers=user_headers
    )
    assert (r.status_code, r.json()) == (200, "ok")
    campaign = http.get(f"{api_url}/campaigns/{campaign_id}", headers=headers).json()
    assert campaign["status"] == "completed" and campaign["date_completed"].endswith("Z")

    # Finish: the labels are exported
    r = http.put(f"{api_url}/campaigns/{campaign_id}", json={"new_status": "finished"}, headers=headers)
    assert (r.status_code, r.json()) == (200, "ok")
    campaign = wait_for_job(http, f"{api_url}/campaigns/{campaign_id}", headers)
    assert campaign["status"] == "finished"
    assert campaign["job"]["status"] == "succeeded", campaign["job"]

    objects = http.get(f"{api_url}/images/{ids[0]}/objects", headers=headers).json()
    assert [(o["label"], o["confidence"]) for o in objects] == [("Plastic", 1.0), ("Organic", 0.56)]

    r = http.get(f"{api_url}/campaigns/{campaign_id}/labels.csv", headers=headers)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["image_url"] for row in rows] == [
        images_by_id["blobstorage_path"].split("/", 1)[1]
        for images_by_id in sorted(images, key=lambda image: image["image_id"])
    ]
    first_row = json.loads(rows[0]["label"])
    width = by_name_from_id(images, ids[0])["file"]["dimensions"]["width"]
    height = by_name_from_id(images, ids[0])["file"]["dimensions"]["height"]
    assert first_row[0] == {
        "label": "Plastic",
        "topX": 13 / width,
        "topY": 123 / height,
        "bottomX": 57 / width,
        "bottomY": 198 / height,
    }
    assert json.loads(rows[0]["label_confidence"]) == [1.0, 0.56]
    assert json.loads(rows[2]["label"]) == [] and json.loads(rows[2]["label_confidence"]) == []
    stored = read_stored(f"{container}/label_sets/campaign-26-10-2020_labels.csv").decode()
    assert stored == r.text


def by_name_from_id(images, image_id):
    return next(image for image in images if image["image_id"] == image_id)
