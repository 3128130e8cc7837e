"""Agreement between two agencies on the same images: ``campaigns.agreement`` and ``GET /campaigns/{id}/agreement``."""

from __future__ import annotations

import random

import pytest
from django.core.cache import cache

from accounts.audit import Actor
from accounts.tests.factories import UserFactory
from campaigns.agreement import Box, campaign_agreement
from campaigns.inputs import parse_object_delivery, parse_review_items
from campaigns.matching import match_boxes
from campaigns.models import Campaign
from campaigns.scoring import score_boxes
from campaigns.services import objects_replace_by_annotator, reviews_decide
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import CampaignImageFactory, make_campaign
from conftest import client_for
from testing.api import assert_error

pytestmark = pytest.mark.django_db

Status = Campaign.Status
API = "/api/v1"


def thing(label, xmin, ymin, xmax, ymax):
    return {"label": label, "bounding_box": {"xmin": xmin, "xmax": xmax, "ymin": ymin, "ymax": ymax}}


def deliver(campaign, agency, boxes_by_image: dict[int, list[dict]], annotators: dict[int, str] | None = None):
    """The agency's ``PUT .../objects`` of these images (each naming its annotator, if any), parsed as the view does."""
    annotators = annotators or {}
    delivery = parse_object_delivery(
        [
            {
                "image_id": image_id,
                "objects": objects,
                **({"annotator": annotators[image_id]} if image_id in annotators else {}),
            }
            for image_id, objects in boxes_by_image.items()
        ]
    )
    return objects_replace_by_annotator(
        campaign_id=campaign.pk, objects_by_image=delivery.objects_by_image, annotators=delivery.annotators, user=agency
    )


class Pair:
    """Two active campaigns for two agencies over the same 7 images, delivered as the module's docstring case.

    Image (by position) | campaign | other | per image
    1 | Plastic [0,0,10,10] | the same | TP 1: F1 1
    2 | Plastic [0,0,10,10], Can [20,20,30,30] | Plastic [0,0,10,12] (IoU 100/120) | TP 1, FN 1: F1 2/3
    3 | Can [0,0,10,10] | Plastic [0,0,10,10] (another label) | FP 1, FN 1: F1 0
    4 | nothing | nothing | F1 1 (nothing to find)
    5 | Plastic | not delivered | not shared
    6 | (only in the campaign, delivered) | - | not shared
    7 | Plastic [0,0,10,10] | Plastic [0,0,4,10] (IoU 0.4) | FP 1, FN 1: F1 0
    """

    def __init__(self):
        self.agency = UserFactory(email="first@example.com")
        self.rival = UserFactory(email="second@example.com")
        self.campaign = make_campaign(images=7, status=Status.ACTIVE, labeler=self.agency, title="first")
        self.other = make_campaign(images=0, status=Status.ACTIVE, labeler=self.rival, title="second")
        self.ids = image_ids(self.campaign)
        one, two, three, four, five, six, seven = self.ids
        for campaign_image in self.campaign.campaign_images.exclude(image_id=six):
            CampaignImageFactory(campaign=self.other, image=campaign_image.image)
        plastic = thing("Plastic", 0, 0, 10, 10)
        deliver(
            self.campaign,
            self.agency,
            {
                one: [plastic],
                two: [plastic, thing("Can", 20, 20, 30, 30)],
                three: [thing("Can", 0, 0, 10, 10)],
                four: [],
                five: [plastic],
                six: [plastic],
                seven: [plastic],
            },
            annotators={one: "w1", two: "w1", three: "w2", five: "w2", six: "w2"},
        )
        deliver(
            self.other,
            self.rival,
            {
                one: [plastic],
                two: [thing("Plastic", 0, 0, 10, 12)],
                three: [plastic],
                four: [],
                seven: [thing("Plastic", 0, 0, 4, 10)],
            },
        )


@pytest.fixture
def pair():
    return Pair()


def test_the_agreement_pools_the_counts_of_the_shared_labeled_images(pair):
    one, two, three, four, _, _, seven = pair.ids
    result = campaign_agreement(campaign_id=pair.campaign.pk, other_id=pair.other.pk)

    assert result.images == 5  # 1, 2, 3, 4 and 7: 5 is not delivered by the other, 6 is not in it
    assert (result.total.tp, result.total.fp, result.total.fn) == (2, 2, 3)
    figures = result.total.figures()
    assert figures["f1"] == pytest.approx(4 / 9)  # 2 TP / (2 TP + FP + FN)
    assert figures["mean_iou"] == pytest.approx((1 + 100 / 120) / 2)
    # Plastic: TP 1 (image 1) + 1 (image 2), FP 1 (image 3) + 1 (image 7), FN 1 (image 7); Can: FN 2.
    assert result.label_figures() == {"Can": {"f1": 0.0}, "Plastic": {"f1": pytest.approx(4 / 7)}}
    assert result.disagreements == [(three, 0.0), (seven, 0.0), (two, pytest.approx(2 / 3))]
    assert one not in dict(result.disagreements) and four not in dict(result.disagreements)


def test_the_agreement_is_the_same_whichever_campaign_is_asked(pair):
    ours = campaign_agreement(campaign_id=pair.campaign.pk, other_id=pair.other.pk)
    theirs = campaign_agreement(campaign_id=pair.other.pk, other_id=pair.campaign.pk)
    assert theirs.images == ours.images
    assert theirs.total.figures() == pytest.approx(ours.total.figures())
    assert theirs.label_figures() == ours.label_figures()
    assert theirs.disagreements == ours.disagreements


def test_the_agreement_per_annotator_follows_the_campaigns_current_revision(pair):
    result = campaign_agreement(campaign_id=pair.campaign.pk, other_id=pair.other.pk)
    by_annotator = {annotator: (c.images, c.tp, c.fp, c.fn) for annotator, c in result.by_annotator.items()}
    # w1: images 1 and 2; w2: image 3 (5 and 6 are not shared); none: images 4 and 7.
    assert by_annotator == {"w1": (2, 2, 0, 1), "w2": (1, 0, 1, 1), "": (2, 0, 1, 1)}
    assert result.by_annotator["w1"].figures()["f1"] == pytest.approx(4 / 5)


def test_a_rejected_image_leaves_the_comparison_until_it_is_delivered_again(pair):
    three = pair.ids[2]
    reviews_decide(
        campaign_id=pair.other.pk,
        reviews=parse_review_items([{"image_id": three, "decision": "rejected", "reason": "wrong label"}]),
        actor=Actor.system(),
    )
    result = campaign_agreement(campaign_id=pair.campaign.pk, other_id=pair.other.pk)
    assert result.images == 4
    assert three not in dict(result.disagreements)

    deliver(pair.other, pair.rival, {three: [thing("Can", 0, 0, 10, 10)]})
    result = campaign_agreement(campaign_id=pair.campaign.pk, other_id=pair.other.pk)
    assert result.images == 5
    assert three not in dict(result.disagreements)  # now the same box


def test_two_campaigns_with_no_shared_labeled_image_have_no_figures(pair):
    lone = make_campaign(images=2, status=Status.ACTIVE)
    result = campaign_agreement(campaign_id=pair.campaign.pk, other_id=lone.pk)
    assert result.images == 0
    assert result.total.figures() == {"f1": None, "mean_iou": None}
    assert result.disagreements == [] and result.label_figures() == {}


# --- GET /campaigns/{id}/agreement ---------------------------------------------------------


def test_staff_read_the_agreement_with_the_disagreements_lowest_first(pair, admin_client):
    _, two, three, _, _, _, seven = pair.ids
    response = admin_client.get(f"{API}/campaigns/{pair.campaign.pk}/agreement", {"with": pair.other.pk})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "campaign_id": pair.campaign.pk,
        "with_campaign_id": pair.other.pk,
        "iou_threshold": 0.5,
        "images": 5,
        "f1": 0.444444,
        "mean_iou": 0.916667,
        "by_label": {"Can": {"f1": 0.0}, "Plastic": {"f1": 0.571429}},
        "pagination": {"page": 1, "pages": 1, "total": 3, "per_page": 100, "next": None, "prev": None},
        "disagreements": [
            {"image_id": three, "f1": 0.0},
            {"image_id": seven, "f1": 0.0},
            {"image_id": two, "f1": 0.666667},
        ],
    }


def test_the_disagreements_come_a_page_at_a_time(pair, admin_client):
    url = f"{API}/campaigns/{pair.campaign.pk}/agreement"
    first = admin_client.get(url, {"with": pair.other.pk, "per_page": 2}).json()
    second = admin_client.get(url, {"with": pair.other.pk, "per_page": 2, "page": 2}).json()
    past = admin_client.get(url, {"with": pair.other.pk, "per_page": 2, "page": 9}).json()

    assert [row["image_id"] for row in first["disagreements"]] == pair.ids[2::4]  # images 3 and 7
    assert first["pagination"] == {"page": 1, "pages": 2, "total": 3, "per_page": 2, "next": 2, "prev": None}
    assert [row["image_id"] for row in second["disagreements"]] == [pair.ids[1]]
    assert second["pagination"]["prev"] == 1 and second["pagination"]["next"] is None
    assert past["disagreements"] == [] and past["images"] == 5
    capped = admin_client.get(url, {"with": pair.other.pk, "per_page": 5000}).json()
    assert capped["pagination"]["per_page"] == 1000


def test_the_agreement_takes_the_same_queries_for_few_and_many_images(admin_client, django_assert_num_queries):
    def compared(n):
        agency, rival = UserFactory(), UserFactory()
        campaign = make_campaign(images=n, status=Status.ACTIVE, labeler=agency)
        other = make_campaign(images=0, status=Status.ACTIVE, labeler=rival)
        for campaign_image in campaign.campaign_images.all():
            CampaignImageFactory(campaign=other, image=campaign_image.image)
        ids = image_ids(campaign)
        deliver(campaign, agency, {i: [thing("Plastic", 0, 0, 10, 10)] for i in ids})
        deliver(other, rival, {i: [thing("Plastic", 0, 0, 10, 10 + i % 7)] for i in ids})
        return f"{API}/campaigns/{campaign.pk}/agreement?with={other.pk}"

    few, many = compared(2), compared(30)
    admin_client.get(few)  # the key's first use of the minute records it
    cache.clear()
    # The key, the two campaigns, their labeled images' fingerprint, the shared images, each campaign's boxes.
    with django_assert_num_queries(6):
        assert admin_client.get(few).json()["images"] == 2
    with django_assert_num_queries(6):
        assert admin_client.get(many).json()["images"] == 30
    # Computed once: the next pages read it from the cache while the fingerprint stays the same.
    with django_assert_num_queries(3):
        assert admin_client.get(f"{many}&page=2").json()["images"] == 30


def test_a_cached_agreement_is_computed_again_once_a_campaign_changes(pair, admin_client):
    url = f"{API}/campaigns/{pair.campaign.pk}/agreement?with={pair.other.pk}"
    assert admin_client.get(url).json()["images"] == 5
    three = pair.ids[2]
    deliver(pair.other, pair.rival, {three: [thing("Can", 0, 0, 10, 10)]})  # now the same box as the campaign's
    body = admin_client.get(url).json()
    assert three not in [row["image_id"] for row in body["disagreements"]]
    reviews_decide(
        campaign_id=pair.other.pk,
        reviews=parse_review_items([{"image_id": three, "decision": "rejected", "reason": "no"}]),
        actor=Actor.system(),
    )
    assert admin_client.get(url).json()["images"] == 4


@pytest.mark.parametrize(
    "query, status, detail",
    [
        ({}, 400, "'with' is required"),
        ({"with": "x"}, 400, "'with' must be a campaign id, got 'x'"),
        ({"with": "-3"}, 400, "'with' must be a campaign id"),
        ({"with": "0"}, 400, "'with' must be a campaign id"),
        ({"with": "1.0"}, 400, "'with' must be a campaign id"),
        ({"with": str(2**63)}, 400, "'with' must be a campaign id"),
        ({"with": ["1", "2"]}, 400, "'with' must be given at most once"),
        ({"with": "OTHER", "page": "0"}, 400, "'page' must be a whole number >= 1"),
        ({"with": "OTHER", "per_page": "ten"}, 400, "'per_page' must be a whole number >= 1"),
        ({"with": "987654"}, 404, "Campaign 987654 (named by 'with') not found"),
        ({"with": "SELF"}, 422, "itself: compare it with another campaign"),
    ],
)
def test_a_wrong_with_is_refused_with_a_detail(pair, admin_client, query, status, detail):
    before = campaign_state()
    values = {"OTHER": str(pair.other.pk), "SELF": str(pair.campaign.pk)}
    query = {key: values.get(value, value) if isinstance(value, str) else value for key, value in query.items()}
    response = admin_client.get(f"{API}/campaigns/{pair.campaign.pk}/agreement", query)
    assert_error(response, status, detail)
    assert campaign_state() == before


def test_an_unknown_campaign_is_a_404(pair, admin_client):
    response = admin_client.get(f"{API}/campaigns/987654/agreement", {"with": pair.other.pk})
    assert_error(response, 404, "Campaign 987654 not found")


def test_an_agency_cannot_read_the_agreement_of_its_own_campaign(pair):
    response = client_for(pair.agency).get(f"{API}/campaigns/{pair.campaign.pk}/agreement", {"with": pair.other.pk})
    assert_error(response, 401)


def test_scoring_pairs_the_boxes_as_the_matcher_does_whatever_the_boxes():
    """``score_boxes`` answers a label drawn once on each side without the matcher: the same pairs as with it."""

    def by_matcher(reference, submitted):
        tp = 0
        iou_sum = 0.0
        for label in {box.label for box in [*reference, *submitted]}:
            mine = [box for box in reference if box.label == label]
            yours = [box for box in submitted if box.label == label]
            pairs = [c for c in match_boxes(mine, yours, threshold=0.5) if c.before is not None and c.after is not None]
            tp += len(pairs)
            iou_sum += sum(c.iou for c in pairs)
        return tp, len(submitted) - tp, len(reference) - tp, iou_sum

    chance = random.Random(26)

    def boxes():
        drawn = []
        for _ in range(chance.randint(0, 5)):
            x, y = chance.randint(0, 40), chance.randint(0, 40)
            drawn.append(Box(chance.choice("ABC"), x, y, x + chance.randint(0, 30), y + chance.randint(0, 30)))
        return drawn

    for _ in range(2000):
        reference, submitted = boxes(), boxes()
        score = score_boxes(reference, submitted, threshold=0.5)
        tp, fp, fn, iou_sum = by_matcher(reference, submitted)
        assert (score.tp, score.fp, score.fn) == (tp, fp, fn)
        assert score.iou_sum == pytest.approx(iou_sum)


@pytest.mark.parametrize("campaign_id", [2**63, 2**64])
def test_a_campaign_id_beyond_any_row_is_a_404_not_an_error(pair, admin_client, campaign_id):
    response = admin_client.get(f"{API}/campaigns/{campaign_id}/agreement", {"with": pair.other.pk})
    assert_error(response, 404, f"Campaign {campaign_id} not found")
