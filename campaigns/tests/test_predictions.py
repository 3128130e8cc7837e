"""Pre-annotations: loaded by staff, read by the campaign's agency, never labels, compared with what it submitted."""

from __future__ import annotations

import io
import json
import math

import pytest
from django.core.management import call_command

from accounts.tests.factories import UserFactory
from campaigns.export.predictions import predictions_jsonl_chunks
from campaigns.export.services import ExportPaths, campaign_export_run
from campaigns.models import BoundingBox, Campaign, CampaignImage, Submission
from campaigns.predictions import Box, compare_boxes
from campaigns.tests.conftest import image_ids
from campaigns.tests.factories import (
    box,
    make_campaign,
    new_object,
    objects_body,
    replace_objects_from_body,
    set_status_from_body,
)
from conftest import client_for
from testing.api import assert_error
from testing.state import stored_state

pytestmark = pytest.mark.django_db

API = "/api/v1"
Status = Campaign.Status


def prediction_body(items, name="detector", version="1.2"):
    return {"model": {"name": name, "version": version}, "items": items}


def predicted(image_id, *objects):
    return {"image_id": image_id, "objects": list(objects)}


def obj(label, xmin, ymin, xmax, ymax, confidence=0.9):
    return {"label": label, "confidence": confidence, "bounding_box": box(xmin, xmax, ymin, ymax)}


# --- comparing boxes ---------------------------------------------------------------------------


def test_each_agency_box_is_kept_moved_relabeled_or_added_and_unmatched_predictions_removed():
    predictions = [
        Box("Plastic", 0, 0, 100, 100),  # kept
        Box("Plastic", 200, 200, 300, 300),  # moved a little
        Box("Glass", 400, 400, 500, 500),  # relabeled
        Box("Can", 600, 600, 700, 700),  # removed
    ]
    submitted = [
        Box("Plastic", 0, 0, 100, 100),
        Box("Plastic", 205, 200, 300, 305),
        Box("Bottle", 400, 400, 500, 500),
        Box("Rope", 900, 900, 950, 950),  # added
    ]

    outcomes = compare_boxes(predictions, submitted, threshold=0.5)

    assert [(o.outcome, o.box, o.prediction) for o in outcomes] == [
        ("kept", submitted[0], predictions[0]),
        ("moved", submitted[1], predictions[1]),
        ("relabeled", submitted[2], predictions[2]),
        ("added", submitted[3], None),
        ("removed", None, predictions[3]),
    ]
    assert outcomes[0].iou == 1.0 and 0.5 < outcomes[1].iou < 1


def test_matching_is_greedy_by_overlap_and_bounded_by_the_threshold():
    predictions = [Box("A", 0, 0, 100, 100), Box("A", 10, 0, 110, 100)]
    submitted = [Box("A", 10, 0, 110, 100)]

    outcomes = compare_boxes(predictions, submitted, threshold=0.5)

    assert [(o.outcome, o.prediction) for o in outcomes] == [("kept", predictions[1]), ("removed", predictions[0])]
    far = compare_boxes([Box("A", 0, 0, 100, 100)], [Box("A", 60, 0, 160, 100)], threshold=0.5)
    assert [o.outcome for o in far] == ["added", "removed"]  # IoU 0.25
    assert [
        o.outcome for o in compare_boxes([Box("A", 0, 0, 100, 100)], [Box("A", 60, 0, 160, 100)], threshold=0.2)
    ] == ["moved"]


# --- loading predictions -----------------------------------------------------------------------


@pytest.fixture
def agency():
    return UserFactory(email="agency@example.com")


@pytest.fixture
def campaign(agency):
    return make_campaign(images=3, status=Status.ACTIVE, labeler=agency)


def test_staff_load_predictions_that_never_label_an_image(admin_client, campaign):
    ids = image_ids(campaign)

    response = admin_client.put(
        f"{API}/campaigns/{campaign.pk}/predictions",
        prediction_body([predicted(ids[0], obj("Plastic", 1, 2, 10, 20)), predicted(ids[1])]),
        format="json",
    )

    assert response.status_code == 200 and response.json() == "ok"
    submission = Submission.objects.get()
    assert (submission.source, submission.model_name, submission.model_version) == ("model", "detector", "1.2")
    assert not CampaignImage.objects.filter(labeled=True).exists()
    assert not CampaignImage.objects.exclude(current_submission=None).exists()
    assert BoundingBox.objects.current().count() == 0
    assert admin_client.get(f"{API}/campaigns/{campaign.pk}").json()["progress"] == {"done": 0, "total": 3}


def test_new_predictions_replace_the_earlier_ones_of_the_listed_images(admin_client, campaign):
    ids = image_ids(campaign)
    url = f"{API}/campaigns/{campaign.pk}/predictions"
    admin_client.put(
        url,
        prediction_body([predicted(ids[0], obj("Old", 1, 1, 5, 5)), predicted(ids[1], obj("Keep", 1, 1, 5, 5))]),
        format="json",
    )

    admin_client.put(url, prediction_body([predicted(ids[0], obj("New", 1, 1, 5, 5))], version="2"), format="json")

    labels = dict(BoundingBox.objects.values_list("campaign_image__image_id", "label"))
    assert labels == {ids[0]: "New", ids[1]: "Keep"}


def test_predictions_are_loaded_while_created_but_not_once_completed(admin_client, agency):
    created = make_campaign(images=1, labeler=agency)
    completed = make_campaign(images=1, status=Status.COMPLETED)

    ok = admin_client.put(
        f"{API}/campaigns/{created.pk}/predictions", prediction_body([predicted(image_ids(created)[0])]), format="json"
    )
    assert ok.status_code == 200
    before = stored_state()
    refused = admin_client.put(
        f"{API}/campaigns/{completed.pk}/predictions",
        prediction_body([predicted(image_ids(completed)[0])]),
        format="json",
    )
    assert_error(refused, 409, "'created' or 'active'")
    assert stored_state() == before


@pytest.mark.parametrize(
    "body, code, detail",
    [
        ([], 400, "Expected"),
        ({"items": []}, 400, "'model' is required"),
        ({"model": "detector", "items": []}, 400, "'model' is required"),
        ({"model": {"version": "1"}, "items": []}, 400, "'model.name' is required"),
        ({"model": {"name": ""}, "items": []}, 422, "'model.name' must be 1-128"),
        ({"model": {"name": "m", "version": 3}, "items": []}, 400, "'model.version' must be a string"),
        ({"model": {"name": "m" * 129}, "items": []}, 422, "'model.name' must be 1-128"),
        ({"model": {"name": "m"}}, 400, "Expected a list"),
        ({"model": {"name": "m"}, "items": [{"image_id": "1", "objects": []}]}, 400, "'image_id'"),
        ({"model": {"name": "m"}, "items": "IMAGE0"}, 400, "Expected a list"),
        ("BAD_LABEL", 422, "'label' must be 1-128"),
        ("OUTSIDE", 422, "outside the image"),
        ("UNKNOWN_IMAGE", 404, "is not part of campaign"),
    ],
)
def test_a_bad_predictions_body_stores_nothing(admin_client, campaign, body, code, detail):
    image = image_ids(campaign)[0]
    if body == "BAD_LABEL":
        body = prediction_body([predicted(image, obj("x" * 129, 1, 1, 2, 2))])
    elif body == "OUTSIDE":
        body = prediction_body([predicted(image, obj("x", 1, 1, 500, 2))])
    elif body == "UNKNOWN_IMAGE":
        body = prediction_body([predicted(987654)])
    before = stored_state()

    response = admin_client.put(f"{API}/campaigns/{campaign.pk}/predictions", body, format="json")

    assert_error(response, code, detail)
    assert stored_state() == before


def test_too_many_images_of_predictions_is_a_413(admin_client, campaign, settings):
    settings.IMAGES_PER_REQUEST_MAX = 2
    before = stored_state()
    response = admin_client.put(
        f"{API}/campaigns/{campaign.pk}/predictions",
        prediction_body([predicted(i) for i in image_ids(campaign)]),
        format="json",
    )
    assert_error(response, 413)
    assert stored_state() == before


def test_predictions_obey_the_label_schema(admin_client, agency):
    campaign = make_campaign(images=1, status=Status.ACTIVE, labeler=agency, labels=[{"name": "Plastic"}])
    before = stored_state()
    response = admin_client.put(
        f"{API}/campaigns/{campaign.pk}/predictions",
        prediction_body([predicted(image_ids(campaign)[0], obj("Metal", 1, 1, 5, 5))]),
        format="json",
    )
    assert_error(response, 422, "label 'Metal' is not one of")
    assert stored_state() == before


def test_agency_resubmissions_never_prune_the_predictions(admin_client, campaign, settings):
    settings.SUBMISSION_REVISIONS_KEPT = 0
    image = image_ids(campaign)[0]
    admin_client.put(
        f"{API}/campaigns/{campaign.pk}/predictions",
        prediction_body([predicted(image, obj("P", 1, 1, 5, 5))]),
        format="json",
    )
    for label in ("A", "B", "C"):
        replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([image], label=label), user=None)

    assert list(BoundingBox.objects.filter(submission__source="model").values_list("label", flat=True)) == ["P"]
    assert list(BoundingBox.objects.values_list("label", flat=True).order_by("pk")) == ["P", "C"]


# --- the agency reads them ------------------------------------------------------------------------


def test_the_agency_reads_an_images_predictions_and_its_own_submission(admin_client, campaign, agency):
    image = image_ids(campaign)[0]
    admin_client.put(
        f"{API}/campaigns/{campaign.pk}/predictions",
        prediction_body([predicted(image, obj("Plastic", 1, 2, 10, 20), obj("Can", 30, 30, 40, 40))]),
        format="json",
    )
    client = client_for(agency)
    url = f"{API}/campaigns/{campaign.pk}/images/{image}/objects"

    before = client.get(url).json()
    assert before["labeled"] is False and before["submission"] is None
    assert before["predictions"]["model"] == {"name": "detector", "version": "1.2"}
    assert [(o["label"], o["bounding_box"]) for o in before["predictions"]["objects"]] == [
        ("Plastic", box(1, 10, 2, 20)),
        ("Can", box(30, 40, 30, 40)),
    ]

    client.put(
        f"{API}/campaigns/{campaign.pk}/objects",
        [{"image_id": image, "objects": [new_object("Plastic")]}],
        format="json",
    )
    after = client.get(url).json()

    assert after["labeled"] is True
    assert (
        after["submission"]["submission_id"]
        == CampaignImage.objects.get(campaign=campaign, image_id=image).current_submission_id
    )
    assert [o["label"] for o in after["submission"]["objects"]] == ["Plastic"]
    assert len(after["predictions"]["objects"]) == 2


def test_an_image_without_predictions_answers_empty_predictions(admin_client, campaign):
    response = admin_client.get(f"{API}/campaigns/{campaign.pk}/images/{image_ids(campaign)[0]}/objects")

    assert response.json()["predictions"] == {"model": None, "date_created": None, "objects": []}


def test_the_agency_gets_404_for_an_image_not_in_its_campaign_and_401_for_another_campaign(campaign, agency):
    other = make_campaign(images=1, labeler=UserFactory(), title="secret-campaign")
    client = client_for(agency)

    assert_error(client.get(f"{API}/campaigns/{campaign.pk}/images/{image_ids(other)[0]}/objects"), 404)
    assert_error(client.get(f"{API}/campaigns/{campaign.pk}/images/987654/objects"), 404)
    assert_error(client.get(f"{API}/campaigns/{other.pk}/images/{image_ids(other)[0]}/objects"), 401)


def test_reading_an_image_takes_the_same_queries_for_2_and_200_boxes(
    admin_client, campaign, agency, django_assert_num_queries
):
    image = image_ids(campaign)[0]
    client = client_for(agency)
    url = f"{API}/campaigns/{campaign.pk}/images/{image}/objects"
    client.get(url)  # the key's first use is recorded once
    for count in (2, 200):
        admin_client.put(
            f"{API}/campaigns/{campaign.pk}/predictions",
            prediction_body([predicted(image, *[obj("P", 1, 1, 5, 5)] * count)]),
            format="json",
        )
        client.put(f"{API}/campaigns/{campaign.pk}/objects", objects_body([image], per_image=count), format="json")
        # The key, the binding, the campaign image, its boxes with their submissions.
        with django_assert_num_queries(4):
            response = client.get(url)
        assert len(response.json()["predictions"]["objects"]) == len(response.json()["submission"]["objects"]) == count


# --- the export compares them --------------------------------------------------------------------


def test_the_export_records_what_the_agency_did_with_each_predicted_box(admin_client, campaign, local_storage):
    ids = image_ids(campaign)
    admin_client.put(
        f"{API}/campaigns/{campaign.pk}/predictions",
        prediction_body(
            [
                predicted(ids[0], obj("Plastic", 0, 0, 100, 100), obj("Can", 120, 120, 180, 180)),
                predicted(ids[1], obj("Glass", 0, 0, 50, 50)),
                predicted(ids[2], obj("Glass", 0, 0, 50, 50)),
            ]
        ),
        format="json",
    )
    replace_objects_from_body(
        campaign_id=campaign.pk,
        items=[
            predicted(ids[0], obj("Plastic", 0, 0, 100, 100), obj("Rope", 150, 0, 190, 10)),
            predicted(ids[1], obj("Bottle", 0, 0, 50, 52)),
        ],
        user=None,
    )
    # ids[2] was predicted but never labeled; finishing needs every image labeled, so label it with its prediction.
    replace_objects_from_body(campaign_id=campaign.pk, items=[predicted(ids[2], obj("Glass", 0, 0, 50, 50))], user=None)
    set_status_from_body(campaign_id=campaign.pk, new_status="finished")

    job = campaign_export_run(campaign_id=campaign.pk)

    assert job.result["predictions"] == {
        "status": "written",
        "path": ExportPaths.for_campaign(campaign).predictions_jsonl,
        "images": 3,
        "kept": 2,
        "moved": 0,
        "relabeled": 1,
        "removed": 1,
        "added": 1,
    }
    with local_storage.open(ExportPaths.for_campaign(campaign).predictions_jsonl) as stream:
        lines = [json.loads(line) for line in stream.read().decode().splitlines()]
    assert [line["image_id"] for line in lines] == ids
    assert [(b["outcome"], b["label"], b["predicted_label"]) for b in lines[0]["boxes"]] == [
        ("kept", "Plastic", "Plastic"),
        ("added", "Rope", None),
        ("removed", None, "Can"),
    ]
    assert lines[1]["boxes"][0]["bbox"] == [0, 0, 50, 52] and lines[1]["boxes"][0]["predicted_bbox"] == [0, 0, 50, 50]
    assert lines[0]["model"] == {"name": "detector", "version": "1.2"}
    # The labels exports hold the agency's boxes only.
    assert job.result["objects"] == 4


def test_the_comparison_reads_the_campaign_in_two_queries(admin_client, campaign, django_assert_num_queries):
    ids = image_ids(campaign)
    admin_client.put(
        f"{API}/campaigns/{campaign.pk}/predictions",
        prediction_body([predicted(i, obj("P", 0, 0, 10, 10)) for i in ids]),
        format="json",
    )
    replace_objects_from_body(
        campaign_id=campaign.pk, items=[predicted(i, obj("P", 0, 0, 10, 10)) for i in ids], user=None
    )

    with django_assert_num_queries(2):
        lines = "".join(predictions_jsonl_chunks(campaign_id=campaign.pk)).splitlines()
    assert len(lines) == 3


def test_an_export_without_predictions_skips_the_comparison(local_storage):
    from campaigns.tests.export_data import make_exportable_campaign

    campaign, _ = make_exportable_campaign()
    job = campaign_export_run(campaign_id=campaign.pk)
    assert job.result["predictions"] == {"status": "skipped", "reason": "no predictions were loaded"}


# --- a COCO detections file ----------------------------------------------------------------------


def test_the_command_loads_a_coco_file_as_a_models_predictions(campaign, tmp_path):
    user = UserFactory(email="ml@example.com", is_staff=True)
    name = campaign.campaign_images.order_by("image_id").first().image.blobstorage_path.split("/", 1)[1]
    path = tmp_path / "detections.json"
    path.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": name}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.4}],
                "categories": [{"id": 1, "name": "Plastic"}],
            }
        )
    )
    out = io.StringIO()

    call_command(
        "import_labels",
        str(campaign.pk),
        str(path),
        "--user",
        user.email,
        "--model",
        "yolo",
        "--model-version",
        "8",
        stdout=out,
    )

    assert "Imported 1 predicted object(s)" in out.getvalue()
    submission = Submission.objects.get()
    assert (submission.source, submission.model_name, submission.model_version, submission.user) == (
        "model",
        "yolo",
        "8",
        user,
    )
    assert list(BoundingBox.objects.values_list("label", "confidence", "xmin", "ymin", "xmax", "ymax")) == [
        ("Plastic", 0.4, 1, 2, 4, 6)
    ]
    assert not CampaignImage.objects.filter(labeled=True).exists()


def test_loading_predictions_takes_the_same_queries_for_2_and_20_images(
    admin_client, agency, django_assert_num_queries, django_assert_max_num_queries
):
    admin_client.get(f"{API}/campaigns")  # the key's first use is recorded once

    def predictions_of(size):
        """The predictions URL of a new active campaign of ``size`` images, and two predictions for each."""
        campaign = make_campaign(images=size, status=Status.ACTIVE, labeler=agency)
        body = prediction_body([predicted(i, obj("P", 1, 1, 5, 5), obj("Q", 2, 2, 6, 6)) for i in image_ids(campaign)])
        return f"{API}/campaigns/{campaign.pk}/predictions", body

    url, body = predictions_of(2)
    few = []
    for _ in range(2):  # the second time replaces the first predictions
        with django_assert_max_num_queries(math.inf) as queries:  # any number: 20 images must take no more
            response = admin_client.put(url, body, format="json")
        assert response.status_code == 200
        few.append(len(queries))
    url, body = predictions_of(20)
    for count in few:  # loading, then replacing, as for 2 images
        with django_assert_num_queries(count):
            response = admin_client.put(url, body, format="json")
        assert response.status_code == 200
