"""The real flows emit their events, and a real receiver gets each one once, signed, with the API's data."""

from __future__ import annotations

import pytest

from accounts.tests.factories import UserFactory
from campaigns.inputs import parse_object_items
from campaigns.models import Campaign
from campaigns.services import campaign_add_images, campaign_create, campaign_set_status, objects_replace
from imagesets.models import Image
from imagesets.services import imageset_finish
from imagesets.tests.conftest import new_imageset
from imagesets.tests.samples import png
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.tests.conftest import endpoint_for

pytestmark = pytest.mark.django_db


def finish_and_run(imageset, capture) -> None:
    """Finish the set as the API does: the job runs on commit (sync mode), its event's deliveries after it."""
    with capture(execute=True):
        imageset_finish(imageset_id=imageset.pk)


def run(capture, fn, **kwargs):
    """Call a service the way a request does; what it queued on commit runs then (sync mode)."""
    with capture(execute=True):
        return fn(**kwargs)


def test_every_event_of_the_real_flows_reaches_a_staff_endpoint_once_signed(
    receiver, local_storage, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    staff = UserFactory(is_staff=True)
    endpoint_for(receiver)

    # An image set finished on local storage: two images and one file that is not one.
    imageset = new_imageset(
        staff, files={"a.png": png(40, 30), "b.png": png(20, 10), "notes.txt": b"no image"}, storage=local_storage
    )
    finish_and_run(imageset, capture)

    campaign, _ = campaign_create(title="beach-2024", labeler_email="agency@example.com", created_by=staff)
    image_ids = list(Image.objects.values_list("pk", flat=True))
    run(capture, campaign_add_images, campaign_id=campaign.pk, image_ids=image_ids)
    run(capture, campaign_set_status, campaign_id=campaign.pk, new_status=Campaign.Status.ACTIVE)
    items = parse_object_items([{"image_id": i, "objects": []} for i in image_ids])
    run(capture, objects_replace, campaign_id=campaign.pk, objects_by_image=items, user=None)
    run(capture, campaign_set_status, campaign_id=campaign.pk, new_status=Campaign.Status.FINISHED)

    assert receiver.types() == [
        "imageset.finished",
        "campaign.activated",
        "campaign.completed",
        "campaign.finished",
        "export.succeeded",
    ]
    payloads = receiver.payloads()
    assert all(payloads), "every delivery verifies with the endpoint's secret"
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 5

    finished = payloads[0]["data"]
    assert finished["imageset_id"] == imageset.pk
    assert finished["status"] == "finished"
    assert finished["job"]["status"] == "succeeded"
    assert finished["job"]["progress"] == {"done": 3, "total": 3}
    assert finished["job"]["skipped"] == ["notes.txt"]
    assert "notes.txt" in finished["job"]["skipped_reasons"]

    activated, completed, done = (p["data"] for p in payloads[1:4])
    assert (activated["campaign_id"], activated["status"]) == (campaign.pk, "active")
    assert completed["status"] == "completed" and completed["progress"] == {"done": 2, "total": 2}
    assert done["status"] == "finished"

    export = payloads[4]["data"]
    assert export["campaign"]["campaign_id"] == campaign.pk
    assert export["error"] is None
    files = export["result"]["files"]
    assert {f["path"].rsplit("/", 1)[-1] for f in files} >= {"beach-2024_labels.csv", "beach-2024_coco.json"}
    assert all(len(f["sha256"]) == 64 for f in files)
    assert export["result"]["azureml"]["status"] == "skipped"
    assert "traceback" not in export["result"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}


def test_a_failed_finish_job_is_announced_as_imageset_failed(
    receiver, local_storage, django_capture_on_commit_callbacks, monkeypatch
):
    staff = UserFactory(is_staff=True)
    endpoint_for(receiver, events=["imageset.failed", "imageset.finished"])
    imageset = new_imageset(staff, files={"a.png": png()}, storage=local_storage)

    def broken(*args, **kwargs):
        raise RuntimeError("storage fell over")

    monkeypatch.setattr("imagesets.services.finish.ingest", broken)
    finish_and_run(imageset, django_capture_on_commit_callbacks)  # the failure is the job's, stored

    assert receiver.types() == ["imageset.failed"]
    data = receiver.payloads()[0]["data"]
    assert data["job"]["status"] == "failed"
    assert "storage fell over" in data["job"]["error"]


def test_a_rejection_reaches_the_agency_with_its_reason_and_reopens_the_campaign(
    receiver, django_capture_on_commit_callbacks
):
    from accounts.audit import Actor
    from campaigns.inputs import parse_review_items
    from campaigns.services import reviews_decide

    capture = django_capture_on_commit_callbacks
    staff = UserFactory(is_staff=True)
    campaign, issued = campaign_create(title="review-events", labeler_email="agency@example.com", created_by=staff)
    agency = issued.api_key.user
    images = [Image.objects.create(blobstorage_path=f"images/x/{n}.png", width=10, height=10) for n in range(2)]
    run(capture, campaign_add_images, campaign_id=campaign.pk, image_ids=[i.pk for i in images])
    run(capture, campaign_set_status, campaign_id=campaign.pk, new_status=Campaign.Status.ACTIVE)
    items = parse_object_items([{"image_id": i.pk, "objects": []} for i in images])
    run(capture, objects_replace, campaign_id=campaign.pk, objects_by_image=items, user=agency)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    endpoint_for(receiver, events=["image.rejected", "campaign.activated"], owner=agency)

    decisions = parse_review_items(
        [
            {"image_id": images[0].pk, "decision": "accepted"},
            {"image_id": images[1].pk, "decision": "rejected", "reason": "the lid is not boxed"},
        ]
    )
    run(capture, reviews_decide, campaign_id=campaign.pk, reviews=decisions, actor=Actor(user=staff))

    assert receiver.types() == ["campaign.activated", "image.rejected"]  # reopened, then what to rework
    rejected = receiver.payloads()[1]["data"]
    assert rejected["campaign_id"] == campaign.pk
    assert [(i["image_id"], i["reason"]) for i in rejected["images"]] == [(images[1].pk, "the lid is not boxed")]

    other = UserFactory(email="rival@example.com")
    endpoint_for(receiver, events=["image.rejected"], owner=other)
    again = parse_review_items([{"image_id": images[0].pk, "decision": "rejected", "reason": "on second look"}])
    run(capture, reviews_decide, campaign_id=campaign.pk, reviews=again, actor=Actor(user=staff))
    assert receiver.types() == ["campaign.activated", "image.rejected", "image.rejected"]  # never the rival's endpoint
