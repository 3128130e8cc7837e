"""The client against a live labelhub (pytest-django's ``live_server``), on local storage and on Azurite.

Staff create and fill an image set, make a campaign and activate it; the agency finds
its campaign, downloads the images, submits objects (one request refused, the others
stored), reads a rejection and labels again; staff finish the campaign and fetch its
export. Background jobs run inline (``DJANGO_Q_SYNC=1``).
"""

from __future__ import annotations

import hashlib

import httpx
import pytest

from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from imagesets.tests import samples
from labelhub_client import (
    BoundingBox,
    Client,
    Conflict,
    NewObject,
    NotFound,
    Unauthorized,
)

pytestmark = pytest.mark.django_db(transaction=True)

FILES = {
    "car.png": samples.png(200, 200),
    "jayke.jpg": samples.jpeg(310, 340),
    "notes.txt": b"not an image",
}


def no_keepalive() -> httpx.HTTPTransport:
    """A new connection per request: Django's test server may close an idle one as the client reuses it."""
    return httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))


@pytest.fixture
def staff_key():
    return apikey_issue(user=UserFactory(email="jayke@test.com", is_staff=True))


@pytest.fixture
def staff(live_server, staff_key):
    with Client(live_server.url, staff_key.apikey, staff_key.secret, transport=no_keepalive()) as client:
        yield client


@pytest.fixture
def folder(tmp_path):
    """An empty folder of this test's own (the root conftest puts MEDIA_ROOT in ``tmp_path``)."""
    path = tmp_path / "files"
    path.mkdir()
    return path


def box(xmin, xmax, ymin, ymax) -> BoundingBox:
    return BoundingBox(xmin=xmin, xmax=xmax, ymin=ymin, ymax=ymax)


def test_staff_and_agency_run_a_campaign_through_the_client(live_server, any_storage, staff, staff_key, folder):
    images = staff_fills_an_image_set(staff, folder)
    campaign_id, token = staff_starts_a_campaign(staff, images)

    with Client(live_server.url, token.apikey, token.apisecret, transport=no_keepalive()) as agency:
        agency_labels(
            agency,
            campaign_id,
            images,
            folder,
            reject=lambda image_id, reason: staff_rejects(staff.url, staff_key, campaign_id, image_id, reason),
        )

    staff.campaign_set_status(campaign_id, "finished")
    finished = staff.campaign_wait(campaign_id, poll=0.1, timeout=30)
    assert (finished.status, finished.job.status) == ("finished", "succeeded"), finished.job
    export = staff.campaign_export(campaign_id)
    assert export.campaign_id == campaign_id and export.job.status == "succeeded"
    assert any(file.path.endswith("campaign-one_labels.csv") for file in export.files)
    for index, file in enumerate(export.files):
        dest = folder / f"export-{index}"
        assert staff.download(file.url, dest, expected_size=file.size) == file.size
        assert hashlib.sha256(dest.read_bytes()).hexdigest() == file.sha256


def staff_fills_an_image_set(staff: Client, folder) -> dict:
    """Create a set, upload FILES (half through a fresh upload URL), finish it; its images by file name."""
    created = staff.imageset_create("set-one", metadata={"country": "Nederland"})
    assert (created.status, created.metadata) == ("created", {"country": "Nederland"})
    fresh_url = staff.imageset_upload_url(created.imageset_id)
    for index, (name, data) in enumerate(FILES.items()):
        path = folder / name
        path.write_bytes(data)
        staff.upload(fresh_url if index % 2 else created.dropbox_url, path)

    staff.imageset_finish(created.imageset_id)
    finished = staff.imageset_wait(created.imageset_id, poll=0.1, timeout=30)

    assert finished.status == "finished" and finished.job.status == "succeeded", finished.job
    assert finished.job.skipped == ["notes.txt"]
    assert [s.imageset_id for s in staff.imagesets()] == [created.imageset_id]
    with pytest.raises(Conflict):
        staff.imageset_upload_url(created.imageset_id)
    images = {image.name: image for image in staff.imageset_images(created.imageset_id)}
    assert sorted(images) == ["car.png", "jayke.jpg"]
    assert (images["jayke.jpg"].width, images["jayke.jpg"].height) == (310, 340)
    assert images["car.png"].filesize == len(FILES["car.png"]) and images["car.png"].filetype == "PNG"
    return images


def staff_starts_a_campaign(staff: Client, images: dict):
    """A campaign of every image with a label schema, activated; its id and the agency's key."""
    created = staff.campaign_create(
        "campaign-one", "agency@example.com", metadata={"purpose": "train"}, labels=["Plastic", "Wood"]
    )
    assert created.status == "created" and [label.name for label in created.labels] == ["Plastic", "Wood"]
    assert created.access_token.apikey and created.access_token.apisecret

    staff.campaign_add_images(created.campaign_id, [image.image_id for image in images.values()], chunk_size=1)
    staff.campaign_set_status(created.campaign_id, "active")

    campaign = staff.campaign(created.campaign_id)
    assert (campaign.status, campaign.progress.total, campaign.metadata) == ("active", 2, {"purpose": "train"})
    assert [c.campaign_id for c in staff.campaigns()] == [created.campaign_id]
    return created.campaign_id, created.access_token


def agency_labels(agency: Client, campaign_id: int, images: dict, folder, *, reject) -> None:
    """The agency's side: find the campaign, fetch its images, submit, read a rejection (``reject``), submit again."""
    (mine,) = agency.campaigns()
    assert (mine.campaign_id, mine.status, mine.progress.done) == (campaign_id, "active", 0)
    assert mine.metadata is None and mine.created_by is None  # the agency view
    with pytest.raises(Unauthorized):
        list(agency.imagesets())

    listed = {image.image_id: image for image in agency.campaign_images(campaign_id)}
    by_id = {image.image_id: image for image in images.values()}
    assert set(listed) == set(by_id) and not any(image.labeled for image in listed.values())
    for image_id, image in by_id.items():
        dest = folder / f"download-{image.name}"
        assert agency.download_image(image_id, dest, expected_size=image.filesize) == image.filesize
        assert dest.read_bytes() == FILES[image.name]
    car, jayke = images["car.png"].image_id, images["jayke.jpg"].image_id
    assert (listed[car].width, listed[car].height) == (200, 200)

    report = agency.submit_objects(
        campaign_id,
        [
            {"image_id": car, "objects": [NewObject(label="Plastic", confidence=0.9, bounding_box=box(1, 50, 2, 60))]},
            {"image_id": 987654321, "objects": []},
        ],
        chunk_size=1,
    )
    assert report.stored == [car]
    (failed,) = report.failed
    assert failed.image_ids == [987654321] and isinstance(failed.error, NotFound) and failed.error.detail
    submitted = agency.campaign_image_objects(campaign_id, car)["submission"]["objects"]
    assert [(o["label"], o["confidence"]) for o in submitted] == [("Plastic", 0.9)]

    reject(car, "The bottle on the right has no box.")
    (rejected,) = agency.campaign_images(campaign_id, state="rejected")
    assert rejected.image_id == car and not rejected.labeled
    assert (rejected.review.decision, rejected.review.reason) == ("rejected", "The bottle on the right has no box.")
    assert rejected.review.reason_code == "missing-object"

    again = [
        {"image_id": car, "objects": [{"label": "Plastic", "bounding_box": box(1, 50, 2, 60).to_dict()}]},
        {"image_id": jayke, "objects": []},
    ]
    agency.submit_objects(campaign_id, again).raise_for_failures()
    assert agency.campaign(campaign_id).status == "completed"


def staff_rejects(api_url: str, key, campaign_id: int, image_id: int, reason: str) -> None:
    """The review endpoint is not one of the client's: a plain request with the staff key."""
    response = httpx.put(
        f"{api_url}/campaigns/{campaign_id}/reviews",
        json=[{"image_id": image_id, "decision": "rejected", "reason": reason, "reason_code": "missing-object"}],
        headers={"Authentication-Key": key.apikey, "Authentication-Secret": key.secret},
    )
    assert response.status_code == 200, response.text


def test_an_agency_key_only_sees_its_own_campaigns(live_server, local_storage, staff):
    first = staff.campaign_create("campaign-a", "agency-a@example.com")
    staff.campaign_create("campaign-b", "agency-b@example.com")
    token = first.access_token

    with Client(live_server.url, token.apikey, token.apisecret, transport=no_keepalive()) as agency:
        assert [c.title for c in agency.campaigns()] == ["campaign-a"]
        with pytest.raises(Unauthorized) as raised:
            agency.campaign(first.campaign_id + 1)
    assert raised.value.detail


def test_an_export_before_finishing_is_a_conflict(local_storage, staff):
    created = staff.campaign_create("campaign-early", "agency@example.com")

    with pytest.raises(Conflict) as raised:
        staff.campaign_export(created.campaign_id)

    assert "finish" in raised.value.detail
