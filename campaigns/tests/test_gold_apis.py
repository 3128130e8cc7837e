"""The gold endpoints over HTTP: give, list, copy, remove, quality; bad input; and gold hidden from the agency."""

from __future__ import annotations

import json
import re

import pytest

from campaigns.inputs import parse_object_items
from campaigns.models import Campaign, GoldImage, GoldScore
from campaigns.services import objects_replace
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import CampaignImageFactory, make_campaign
from conftest import client_for
from testing.api import assert_error
from webhooks.models import Webhook, WebhookEvent

pytestmark = pytest.mark.django_db

API = "/api/v1"
Status = Campaign.Status


def obj(label: str, xmin: int, ymin: int, xmax: int, ymax: int) -> dict:
    return {"label": label, "bounding_box": {"xmin": xmin, "xmax": xmax, "ymin": ymin, "ymax": ymax}}


REFERENCE = [obj("car", 0, 0, 100, 100), obj("person", 100, 100, 150, 200)]
# Against REFERENCE: car at IoU 0.5, person at IoU 1, a dog too many: TP 2, FP 1, FN 0.
DELIVERY = [obj("car", 0, 0, 100, 50), obj("person", 100, 100, 150, 200), obj("dog", 10, 10, 20, 20)]


def put_gold(client, campaign_id, items):
    return client.put(f"{API}/campaigns/{campaign_id}/gold", {"items": items}, format="json")


def put_objects(client, campaign_id, objects: dict):
    items = [{"image_id": image_id, "objects": boxes} for image_id, boxes in objects.items()]
    return client.put(f"{API}/campaigns/{campaign_id}/objects", items, format="json")


@pytest.fixture
def campaign(labeler_user):
    return make_campaign(images=3, status=Status.ACTIVE, labeler=labeler_user, title="gold-api")


def test_staff_give_list_and_remove_gold_images(admin_client, labeler_client, campaign):
    first, second, _ = image_ids(campaign)

    response = put_gold(admin_client, campaign.pk, [{"image_id": first, "objects": REFERENCE}])
    assert response.status_code == 200 and response.json() == {"given": 1, "images": 1}
    response = put_gold(admin_client, campaign.pk, [{"image_id": second, "objects": []}])
    assert response.json() == {"given": 1, "images": 2}

    listed = admin_client.get(f"{API}/campaigns/{campaign.pk}/gold").json()
    assert listed["pagination"]["total"] == 2
    assert listed["gold"][0] == {
        "image_id": first,
        "url": f"/images/{first}",
        "source": "staff",
        "source_campaign_id": None,
        "objects": [{"label": o["label"], "bounding_box": o["bounding_box"]} for o in REFERENCE],
        "score": None,
        "date_updated": listed["gold"][0]["date_updated"],
    }
    assert listed["gold"][1]["objects"] == [] and listed["gold"][1]["score"] is None

    assert put_objects(labeler_client, campaign.pk, {first: DELIVERY, second: []}).status_code == 200
    scores = {
        item["image_id"]: item["score"]
        for item in admin_client.get(f"{API}/campaigns/{campaign.pk}/gold").json()["gold"]
    }
    assert scores == {
        first: {"precision": 0.666667, "recall": 1.0, "f1": 0.8, "mean_iou": 0.75},
        second: {"precision": 1.0, "recall": 1.0, "f1": 1.0, "mean_iou": 1.0},
    }

    response = admin_client.delete(f"{API}/campaigns/{campaign.pk}/gold/{first}")
    assert response.status_code == 204 and not response.content
    assert [item["image_id"] for item in admin_client.get(f"{API}/campaigns/{campaign.pk}/gold").json()["gold"]] == [
        second
    ]
    assert_error(
        admin_client.delete(f"{API}/campaigns/{campaign.pk}/gold/{first}"),
        404,
        f"Image {first} is not a gold image of campaign {campaign.pk}",
    )


def test_the_quality_pools_the_gold_images_counts(admin_client, labeler_client, campaign):
    first, second, third = image_ids(campaign)
    put_gold(admin_client, campaign.pk, [{"image_id": first, "objects": REFERENCE}])
    put_gold(admin_client, campaign.pk, [{"image_id": second, "objects": [obj("car", 0, 0, 50, 50)]}])
    assert admin_client.get(f"{API}/campaigns/{campaign.pk}/quality").json() == {
        "campaign_id": campaign.pk,
        "gold": {
            "images": 2,
            "scored": 0,
            "precision": None,
            "recall": None,
            "f1": None,
            "mean_iou": None,
            "by_label": {},
        },
    }

    put_objects(labeler_client, campaign.pk, {first: DELIVERY, second: [], third: [obj("car", 0, 0, 9, 9)]})

    # TP 2, FP 1, FN 1 over the two gold images (the third image is not gold).
    assert admin_client.get(f"{API}/campaigns/{campaign.pk}/quality").json() == {
        "campaign_id": campaign.pk,
        "gold": {
            "images": 2,
            "scored": 2,
            "precision": 0.666667,
            "recall": 0.666667,
            "f1": 0.666667,
            "mean_iou": 0.75,
            "by_label": {
                "car": {"precision": 1.0, "recall": 0.5, "f1": 0.666667},
                "dog": {"precision": 0.0, "recall": 0.0, "f1": 0.0},
                "person": {"precision": 1.0, "recall": 1.0, "f1": 1.0},
            },
        },
    }
    assert_error(admin_client.get(f"{API}/campaigns/987654/quality"), 404, "Campaign 987654 not found")


def _scored_campaign(admin_client, labeler_user, n):
    """A campaign of ``n`` gold images the agency delivered, each scored with three labels."""
    campaign = make_campaign(images=n, status=Status.ACTIVE, labeler=labeler_user)
    ids = image_ids(campaign)
    put_gold(admin_client, campaign.pk, [{"image_id": i, "objects": REFERENCE} for i in ids])
    objects_replace(
        campaign_id=campaign.pk,
        objects_by_image=parse_object_items([{"image_id": i, "objects": DELIVERY} for i in ids]),
        user=labeler_user,
    )
    return campaign


@pytest.mark.parametrize("path", ["quality", "gold"])
def test_quality_and_the_gold_list_take_the_same_queries_for_2_and_20_gold_images(
    admin_client, labeler_user, django_assert_num_queries, django_assert_max_num_queries, path
):
    admin_client.get(f"{API}/campaigns")  # the key's first use is recorded once
    small = _scored_campaign(admin_client, labeler_user, 2)
    large = _scored_campaign(admin_client, labeler_user, 20)
    with django_assert_max_num_queries(6) as captured:
        response = admin_client.get(f"{API}/campaigns/{small.pk}/{path}")
    assert response.status_code == 200
    with django_assert_num_queries(len(captured)):
        response = admin_client.get(f"{API}/campaigns/{large.pk}/{path}")
    if path == "quality":
        assert response.json()["gold"]["scored"] == 20
    else:
        assert len(response.json()["gold"]) == 20


# --- bad input: every refusal names the problem and stores nothing ------------------------------


@pytest.mark.parametrize(
    "body, code, detail",
    [
        ([], 400, 'Expected an object: {"items"'),
        ({"images": []}, 400, 'Expected an object: {"items"'),
        ({"items": {}}, 400, "Expected a list of"),
        ({"items": [{"image_id": "1", "objects": []}]}, 400, "image_id"),
        ({"items": [{"image_id": 987654, "objects": []}]}, 404, "Image 987654 is not part of campaign"),
        ({"items": "first-outside"}, 422, "the bounding box lies outside the image (200x200)"),
        ({"items": "first-twice"}, 400, "is listed more than once"),
        ({"items": "bad-label"}, 422, "'label' must be 1-128 characters"),
    ],
)
def test_a_refused_gold_body_is_answered_and_stores_nothing(admin_client, campaign, body, code, detail):
    first = image_ids(campaign)[0]
    put_gold(admin_client, campaign.pk, [{"image_id": first, "objects": REFERENCE}])
    items = body.get("items") if isinstance(body, dict) else None
    if items == "first-outside":
        body = {"items": [{"image_id": first, "objects": [obj("car", 0, 0, 201, 10)]}]}
    elif items == "first-twice":
        body = {"items": [{"image_id": first, "objects": []}] * 2}
    elif items == "bad-label":
        body = {"items": [{"image_id": first, "objects": [obj("x" * 129, 0, 0, 1, 1)]}]}
    before = campaign_state()

    assert_error(admin_client.put(f"{API}/campaigns/{campaign.pk}/gold", body, format="json"), code, detail)

    assert campaign_state() == before


def test_too_many_gold_images_in_one_request_is_a_413(admin_client, campaign, settings):
    settings.IMAGES_PER_REQUEST_MAX = 2
    before = campaign_state()
    items = [{"image_id": i, "objects": []} for i in image_ids(campaign)]
    assert_error(put_gold(admin_client, campaign.pk, items), 413, "at most 2")
    assert campaign_state() == before


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.FINISHED])
def test_gold_images_are_refused_with_a_409_once_labeling_is_over(admin_client, status):
    campaign = make_campaign(images=1, status=status)
    before = campaign_state()
    assert_error(
        put_gold(admin_client, campaign.pk, [{"image_id": image_ids(campaign)[0], "objects": []}]),
        409,
        f"Gold images are given while the campaign is 'created' or 'active'; it is '{status}'",
    )
    assert campaign_state() == before


def test_a_label_outside_the_schema_is_a_422(admin_client, labeler_user):
    campaign = make_campaign(images=1, status=Status.CREATED, labels=[{"name": "car"}])
    before = campaign_state()
    assert_error(
        put_gold(
            admin_client, campaign.pk, [{"image_id": image_ids(campaign)[0], "objects": [obj("dog", 0, 0, 1, 1)]}]
        ),
        422,
        "label 'dog' is not one of the campaign's labels (car)",
    )
    assert campaign_state() == before


def test_an_unknown_campaign_is_a_404_everywhere(admin_client):
    before = campaign_state()
    assert_error(admin_client.get(f"{API}/campaigns/987654/gold"), 404, "Campaign 987654 not found")
    assert_error(put_gold(admin_client, 987654, []), 404, "Campaign 987654 not found")
    assert_error(admin_client.delete(f"{API}/campaigns/987654/gold/1"), 404, "Campaign 987654 not found")
    response = admin_client.post(f"{API}/campaigns/987654/gold/from_campaign", {"campaign_id": 1}, format="json")
    assert_error(response, 404, "Campaign 987654 not found")
    assert campaign_state() == before


# --- copying from an earlier campaign --------------------------------------------------------


@pytest.fixture
def earlier(admin_client, labeler_user, campaign):
    """A campaign over the same images: the first accepted with DELIVERY, the second awaiting review."""
    earlier = make_campaign(images=0, status=Status.ACTIVE, labeler=labeler_user, title="earlier")
    first, second, third = image_ids(campaign)
    for image_id in (first, second, third):
        CampaignImageFactory(campaign=earlier, image_id=image_id)
    put_objects(client_for(labeler_user), earlier.pk, {first: DELIVERY, second: REFERENCE})
    response = admin_client.put(
        f"{API}/campaigns/{earlier.pk}/reviews", [{"image_id": first, "decision": "accepted"}], format="json"
    )
    assert response.status_code == 200
    return earlier


def test_references_copied_from_an_earlier_campaigns_accepted_submissions(admin_client, campaign, earlier):
    first = image_ids(campaign)[0]

    response = admin_client.post(
        f"{API}/campaigns/{campaign.pk}/gold/from_campaign", {"campaign_id": earlier.pk}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"given": 1, "images": 1, "image_ids": [first]}
    item = admin_client.get(f"{API}/campaigns/{campaign.pk}/gold").json()["gold"][0]
    assert (item["source"], item["source_campaign_id"]) == ("campaign", earlier.pk)
    assert [box["label"] for box in item["objects"]] == ["car", "person", "dog"]


@pytest.mark.parametrize(
    "body, code, detail",
    [
        (["x"], 400, 'Expected an object: {"campaign_id"'),
        ({}, 400, "campaign_id: This field is required."),
        ({"campaign_id": "5"}, 400, "'campaign_id' is required and must be an integer"),
        ({"campaign_id": 0}, 422, "'campaign_id' must be a campaign id"),
        ({"campaign_id": "earlier", "image_ids": "all"}, 400, "'image_ids' must be a list of image ids"),
        ({"campaign_id": "earlier", "image_ids": [1.5]}, 400, "'image_ids' must be a list of image ids"),
        ({"campaign_id": "earlier", "image_ids": ["first", "first"]}, 400, "is listed more than once"),
        ({"campaign_id": 987654}, 404, "Campaign 987654 not found"),
        ({"campaign_id": "earlier", "image_ids": [987654]}, 404, "Image 987654 is not part of campaign"),
        ({"campaign_id": "earlier", "image_ids": ["second"]}, 409, "has no accepted submission in campaign"),
        ({"campaign_id": "self"}, 422, "'campaign_id' must name another campaign than this one"),
    ],
)
def test_a_refused_copy_is_answered_and_stores_nothing(admin_client, campaign, earlier, body, code, detail):
    first, second, _ = image_ids(campaign)
    names = {"earlier": earlier.pk, "self": campaign.pk, "first": first, "second": second}
    if isinstance(body, dict):
        body = {
            key: names.get(value, value) if not isinstance(value, list) else [names.get(v, v) for v in value]
            for key, value in body.items()
        }
    before = campaign_state()

    response = admin_client.post(f"{API}/campaigns/{campaign.pk}/gold/from_campaign", body, format="json")

    assert_error(response, code, detail)
    assert campaign_state() == before


# --- gold_min_f1 at creation ------------------------------------------------------------------


def test_a_campaign_is_created_with_a_minimum_gold_f1_the_agency_never_sees(admin_client, labeler_client, labeler_user):
    response = admin_client.post(
        f"{API}/campaigns",
        {"title": "gated", "labeler_email": labeler_user.email, "gold_min_f1": 0.85},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["gold_min_f1"] == 0.85
    campaign_id = response.json()["campaign_id"]
    assert admin_client.get(f"{API}/campaigns/{campaign_id}").json()["gold_min_f1"] == 0.85
    assert "gold_min_f1" not in labeler_client.get(f"{API}/campaigns/{campaign_id}").json()
    response = admin_client.post(
        f"{API}/campaigns", {"title": "ungated", "labeler_email": "x@example.com"}, format="json"
    )
    assert response.json()["gold_min_f1"] is None


@pytest.mark.parametrize(
    "value, code, detail",
    [
        (1.5, 422, "'gold_min_f1' must be a number from 0 to 1, got '1.5'"),
        (-0.1, 422, "'gold_min_f1' must be a number from 0 to 1"),
        ("NaN", 422, "'gold_min_f1' must be a number from 0 to 1"),
        ("high", 422, "'gold_min_f1' must be a number from 0 to 1"),
        (True, 400, "'gold_min_f1' must be a number from 0 to 1, or null"),
        ([0.5], 400, "'gold_min_f1' must be a number from 0 to 1, or null"),
    ],
)
def test_a_minimum_gold_f1_outside_0_to_1_is_refused(admin_client, value, code, detail):
    before = campaign_state()
    response = admin_client.post(
        f"{API}/campaigns", {"title": "gated", "labeler_email": "a@example.com", "gold_min_f1": value}, format="json"
    )
    assert_error(response, code, detail)
    assert campaign_state() == before


# --- hidden from the agency ---------------------------------------------------------------


REQUEST_ID = {"X-Request-ID", "X-Request-Id"}


def _token_shape(url: str) -> str:
    """The image's read URL with its signed token (``payload:timestamp:signature``) reduced to its parts."""
    return re.sub(r"/files/(.+)$", lambda match: "/files/" + ":".join("#" for _ in match[1].split(":")), url)


def _headers(response) -> dict:
    """The answer's headers, the per-request ones left out and every id or token in a value made a placeholder."""
    return {
        name: _token_shape(value) if name == "Location" else re.sub(r"[0-9]+", "#", value)
        for name, value in response.headers.items()
        if name not in REQUEST_ID and name.lower() != "x-request-id"
    }


def _without_ids(value, ids: set[int]):
    """``value`` with every image or object id replaced, so two images' answers compare field by field."""
    if isinstance(value, dict):
        return {
            key: ("#" if key in {"image_id", "object_id"} else _without_ids(item, ids)) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_without_ids(item, ids) for item in value]
    if isinstance(value, str):
        for image_id in ids:
            value = value.replace(str(image_id), "#")
    return value


def _agency_view(client, campaign, image_id) -> dict:
    """Everything the agency reads of one image of its campaign."""
    images = client.get(f"{API}/campaigns/{campaign.pk}/images").json()["images"]
    fetch = client.get(f"{API}/images/{image_id}")
    return {
        "listed": next(item for item in images if item["image_id"] == image_id),
        "position": [item["image_id"] for item in images].index(image_id),
        "objects": client.get(f"{API}/campaigns/{campaign.pk}/images/{image_id}/objects").json(),
        "fetch": (fetch.status_code, _headers(fetch)),
        "campaign": client.get(f"{API}/campaigns/{campaign.pk}").json(),
    }


def test_nothing_the_agency_reads_tells_a_gold_image_from_another(admin_client, labeler_client, labeler_user):
    campaign = make_campaign(images=2, status=Status.ACTIVE, labeler=labeler_user, title="hidden")
    gold, plain = image_ids(campaign)
    Webhook.objects.create(
        url="https://agency.example.com/in",
        secret="whsec_x",
        events=["campaign.completed", "image.rejected"],
        owner=labeler_user,
    )
    before = {image_id: _agency_view(labeler_client, campaign, image_id) for image_id in (gold, plain)}
    campaign_before = labeler_client.get(f"{API}/campaigns/{campaign.pk}").json()
    model = {"model": {"name": "detector"}, "items": [{"image_id": i, "objects": REFERENCE} for i in (gold, plain)]}
    assert admin_client.put(f"{API}/campaigns/{campaign.pk}/predictions", model, format="json").status_code == 200

    assert put_gold(admin_client, campaign.pk, [{"image_id": gold, "objects": REFERENCE}]).status_code == 200

    # Giving the reference changed nothing the agency reads, and told nobody.
    assert not WebhookEvent.objects.exists()
    assert labeler_client.get(f"{API}/campaigns/{campaign.pk}").json() == campaign_before
    for image_id in (gold, plain):
        now = _agency_view(labeler_client, campaign, image_id)
        assert now | {"objects": None} == before[image_id] | {"objects": None}
    ids = {gold, plain}
    gold_view, plain_view = (_without_ids(_agency_view(labeler_client, campaign, i), ids) for i in (gold, plain))
    assert gold_view.pop("position") == 0 and plain_view.pop("position") == 1  # by image id, as always
    assert gold_view == plain_view

    # Refused deliveries read alike: the same error for the same mistake.
    outside = [obj("car", 0, 0, 201, 10)]
    refusals = [put_objects(labeler_client, campaign.pk, {image_id: outside}) for image_id in (gold, plain)]
    assert [r.status_code for r in refusals] == [422, 422]
    assert _without_ids(refusals[0].json(), ids) == _without_ids(refusals[1].json(), ids)

    # The same delivery on both, scored on the gold one only, then the same rejection of both.
    assert put_objects(labeler_client, campaign.pk, {gold: DELIVERY, plain: DELIVERY}).status_code == 200
    assert GoldScore.objects.filter(gold__image_id=gold).exists()
    decisions = [{"image_id": i, "decision": "rejected", "reason": "the dog is no dog"} for i in (gold, plain)]
    assert admin_client.put(f"{API}/campaigns/{campaign.pk}/reviews", decisions, format="json").status_code == 200

    gold_view, plain_view = (_without_ids(_agency_view(labeler_client, campaign, i), ids) for i in (gold, plain))
    assert gold_view.pop("position") == 0 and plain_view.pop("position") == 1  # by image id, as always
    assert gold_view == plain_view
    assert gold_view["listed"]["review"]["reason"] == "the dog is no dog"
    assert gold_view["campaign"] == _without_ids(labeler_client.get(f"{API}/campaigns/{campaign.pk}").json(), ids)
    events = list(WebhookEvent.objects.order_by("pk"))
    assert [event.type for event in events] == ["campaign.completed", "image.rejected"]
    for event in events:
        body = event.agency_payload or event.payload  # what the agency's endpoint receives
        assert "gold" not in body.lower() and "f1" not in body.lower()
    rejected = [event for event in events if event.type == "image.rejected"]
    assert len(rejected) == 1  # one event per decision, each image in it
    images = json.loads(rejected[0].agency_payload or rejected[0].payload)["data"]["images"]
    assert [image["image_id"] for image in images] == [gold, plain]
    assert _without_ids(images[0], ids) == _without_ids(images[1], ids)
    assert GoldImage.objects.filter(image_id=gold).exists()
