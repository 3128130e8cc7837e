"""Gold gates the lot: the gold images delivered in a sample's lot, their F1 against the campaign's minimum, and a
rejected lot's reason that never tells the agency which images were gold."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from campaigns.models import Campaign, CampaignImage, ReviewSample, ReviewState
from campaigns.services.samples import f1_text
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import make_campaign
from testing.api import assert_error
from webhooks.models import Webhook, WebhookEvent

pytestmark = pytest.mark.django_db

API = "/api/v1"
Status = Campaign.Status


def obj(label: str, xmin: int, ymin: int, xmax: int, ymax: int) -> dict:
    return {"label": label, "bounding_box": {"xmin": xmin, "xmax": xmax, "ymin": ymin, "ymax": ymax}}


CAR = obj("car", 0, 0, 100, 100)
DOG = obj("dog", 120, 120, 180, 180)


def gold_campaign(admin_client, labeler_client, labeler_user, *, gold_min_f1: str | None, missed: int) -> Campaign:
    """Six delivered images, the first two gold (a car each); the agency misses the car on ``missed`` of them."""
    campaign = make_campaign(
        images=6,
        status=Status.ACTIVE,
        labeler=labeler_user,
        title="gated",
        gold_min_f1=Decimal(gold_min_f1) if gold_min_f1 else None,
    )
    ids = image_ids(campaign)
    items = [{"image_id": image_id, "objects": [CAR]} for image_id in ids[:2]]
    assert admin_client.put(f"{API}/campaigns/{campaign.pk}/gold", {"items": items}, format="json").status_code == 200
    delivered = [{"image_id": image_id, "objects": [DOG if n < missed else CAR]} for n, image_id in enumerate(ids)]
    assert labeler_client.put(f"{API}/campaigns/{campaign.pk}/objects", delivered, format="json").status_code == 200
    return campaign


def draw(client, campaign, **body) -> dict:
    response = client.post(f"{API}/campaigns/{campaign.pk}/samples", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def decide_sampled(client, campaign, sample: dict, decision: str = "accepted") -> None:
    items = [{"image_id": image_id, "decision": decision, "reason": "r"} for image_id in sample["image_ids"]]
    assert client.put(f"{API}/campaigns/{campaign.pk}/reviews", items, format="json").status_code == 200


def decide_lot(client, campaign, sample: dict, decision: str):
    url = f"{API}/campaigns/{campaign.pk}/samples/{sample['sample_id']}/decision"
    return client.post(url, {"decision": decision}, format="json")


def test_the_sample_carries_its_lots_gold_figure(admin_client, labeler_client, labeler_user):
    # Gold: one car missed (TP 0, FP 1, FN 1), one found (TP 1): pooled TP 1, FP 1, FN 1, F1 0.5.
    campaign = gold_campaign(admin_client, labeler_client, labeler_user, gold_min_f1="0.8", missed=1)
    sample = draw(admin_client, campaign, seed=3)
    assert sample["gold"] == {"images": 2, "f1": 0.5, "min_f1": 0.8, "passed": False}
    stored = ReviewSample.objects.get(pk=sample["sample_id"])
    assert (stored.gold_images, stored.gold_f1, stored.gold_min_f1) == (2, 0.5, Decimal("0.800"))


def test_gold_below_the_minimum_rejects_the_lot_and_accepting_it_is_a_409(admin_client, labeler_client, labeler_user):
    campaign = gold_campaign(admin_client, labeler_client, labeler_user, gold_min_f1="0.8", missed=1)
    sample = draw(admin_client, campaign, size=1, seed=3)
    decide_sampled(admin_client, campaign, sample)  # no defect among the sampled images...
    body = admin_client.get(f"{API}/campaigns/{campaign.pk}/samples/{sample['sample_id']}").json()
    assert (body["rejected"], body["acceptance_number"], body["verdict"]) == (0, 0, "reject")  # ...rejected by gold

    before = campaign_state()
    response = decide_lot(admin_client, campaign, sample, "accept")
    assert assert_error(response, 409)["detail"] == (
        "The lot cannot be accepted: gold F1 0.50 is below the campaign's minimum 0.80 (2 gold images in the lot). "
        "Reject it, or discard the sample"
    )
    assert campaign_state() == before
    assert decide_lot(admin_client, campaign, sample, "discard").status_code == 200


def test_gold_at_or_above_the_minimum_lets_the_defects_decide(admin_client, labeler_client, labeler_user):
    campaign = gold_campaign(admin_client, labeler_client, labeler_user, gold_min_f1="0.8", missed=0)
    sample = draw(admin_client, campaign, seed=3)
    assert sample["gold"] == {"images": 2, "f1": 1.0, "min_f1": 0.8, "passed": True}
    decide_sampled(admin_client, campaign, sample)
    assert decide_lot(admin_client, campaign, sample, "accept").json()["lot_decision"] == "accept"


def test_no_minimum_is_no_gate_and_a_lot_without_gold_passes_through(admin_client, labeler_client, labeler_user):
    campaign = gold_campaign(admin_client, labeler_client, labeler_user, gold_min_f1=None, missed=2)
    sample = draw(admin_client, campaign, seed=3)
    assert sample["gold"] == {"images": 2, "f1": 0.0, "min_f1": None, "passed": None}
    decide_sampled(admin_client, campaign, sample)
    assert decide_lot(admin_client, campaign, sample, "accept").status_code == 200

    plain = make_campaign(images=3, status=Status.ACTIVE, labeler=labeler_user, gold_min_f1=Decimal("0.9"))
    delivered = [{"image_id": image_id, "objects": [CAR]} for image_id in image_ids(plain)]
    assert labeler_client.put(f"{API}/campaigns/{plain.pk}/objects", delivered, format="json").status_code == 200
    assert draw(admin_client, plain)["gold"] == {"images": 0, "f1": None, "min_f1": 0.9, "passed": None}


def _without_ids(value, ids):
    """``value`` with the given image ids blanked: what is left must read alike for a gold and a plain image."""
    if isinstance(value, dict):
        return {key: "#" if key in ("image_id", "url") else _without_ids(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_ids(item, ids) for item in value]
    if isinstance(value, str):
        for image_id in ids:
            value = value.replace(str(image_id), "#")
    return value


def test_a_lot_rejected_by_its_gold_never_tells_the_agency_which_images_were_gold(
    admin_client, labeler_client, labeler_user
):
    Webhook.objects.create(
        url="https://agency.example.com/in", secret="whsec_x", events=["image.rejected"], owner=labeler_user
    )
    Webhook.objects.create(url="https://staff.example.com/in", secret="whsec_y", events=["image.rejected"])
    campaign = gold_campaign(admin_client, labeler_client, labeler_user, gold_min_f1="0.8", missed=1)
    gold_ids = set(image_ids(campaign)[:2])
    sample = draw(admin_client, campaign, size=1, seed=3)
    decide_sampled(admin_client, campaign, sample)
    response = decide_lot(admin_client, campaign, sample, "reject")
    assert response.status_code == 200 and response.json()["lot_decision"] == "reject"

    lot_rejected = set(
        CampaignImage.objects.filter(campaign=campaign, review_state=ReviewState.REJECTED).values_list(
            "image_id", flat=True
        )
    )
    assert len(lot_rejected) == 5 and lot_rejected & gold_ids and lot_rejected - gold_ids
    listed = labeler_client.get(f"{API}/campaigns/{campaign.pk}/images?state=rejected").json()["images"]
    reasons = {image["review"]["reason"] for image in listed}
    assert len(listed) == 5 and len(reasons) == 1  # every image of the lot: the same words
    (reason,) = reasons
    assert reason.startswith(f"Lot rejected by acceptance sample {sample['sample_id']}: the accuracy of the lot's")
    assert "gold" not in reason.lower() and "f1" not in reason.lower() and f1_text(0.5) not in reason
    gold_view, plain_view = (
        _without_ids(next(image for image in listed if image["image_id"] == image_id), lot_rejected)
        for image_id in (min(lot_rejected & gold_ids), min(lot_rejected - gold_ids))
    )
    assert gold_view == plain_view

    event = WebhookEvent.objects.get(type="image.rejected")
    for body in (event.payload, event.agency_payload or event.payload):
        assert "gold" not in body.lower() and "f1" not in body.lower()
        images = json.loads(body)["data"]["images"]
        assert {image["image_id"] for image in images} == lot_rejected
        assert {image["reason"] for image in images} == {reason}
