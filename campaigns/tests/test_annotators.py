"""Annotators: an agency's worker id per image in ``PUT /campaigns/{id}/objects`` and the figures per annotator."""

from __future__ import annotations

import pytest

from accounts.audit import Actor
from accounts.tests.factories import UserFactory
from campaigns.annotators import annotator_review_figures, annotator_scorecard, gold_by_annotator
from campaigns.inputs import DateRange, parse_object_items, parse_review_items
from campaigns.models import BoundingBox, Campaign, CampaignImage, Submission
from campaigns.services import reviews_decide
from campaigns.services.gold import gold_replace
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import CampaignImageFactory, make_campaign, new_object
from conftest import client_for
from testing.api import assert_error

pytestmark = pytest.mark.django_db

Status = Campaign.Status
API = "/api/v1"


def item(image_id, annotator=None, objects=1, label="Plastic"):
    """One image of the body, naming its annotator when given."""
    body = {"image_id": image_id, "objects": [new_object(label) for _ in range(objects)]}
    return {**body, "annotator": annotator} if annotator is not None else body


@pytest.fixture
def agency():
    return UserFactory(email="agency@example.com")


@pytest.fixture
def campaign(agency):
    return make_campaign(images=4, status=Status.ACTIVE, labeler=agency)


@pytest.fixture
def agency_client(agency):
    return client_for(agency)


def put(client, campaign, body):
    return client.put(f"{API}/campaigns/{campaign.pk}/objects", body, format="json")


def decide(campaign, items):
    reviews_decide(campaign_id=campaign.pk, reviews=parse_review_items(items), actor=Actor.system())


def annotator_of(campaign, image_id) -> str:
    return CampaignImage.objects.get(campaign=campaign, image_id=image_id).current_submission.annotator


# --- PUT /campaigns/{id}/objects with annotators ---------------------------------------------


def test_a_delivery_naming_annotators_is_stored_as_one_submission_per_annotator(agency_client, campaign):
    one, two, three, four = image_ids(campaign)
    body = [item(one, "w-17", objects=2), item(two), item(three, "w-17"), item(four, "team-b.w:3", objects=0)]
    response = put(agency_client, campaign, body)

    assert response.status_code == 200, response.content
    submissions = list(Submission.objects.order_by("pk").values_list("annotator", "image_count", "object_count"))
    assert submissions == [("w-17", 2, 3), ("", 1, 1), ("team-b.w:3", 1, 0)]
    assert {Submission.objects.values_list("date_created", flat=True).distinct().count()} == {1}
    assert [annotator_of(campaign, i) for i in (one, two, three, four)] == ["w-17", "", "w-17", "team-b.w:3"]
    # Each image's boxes belong to its own annotator's submission.
    for box in BoundingBox.objects.select_related("submission", "campaign_image"):
        assert box.submission.annotator == annotator_of(campaign, box.campaign_image.image_id)
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED


def test_a_resubmission_by_another_annotator_supersedes_the_first(agency_client, campaign):
    one = image_ids(campaign)[0]
    put(agency_client, campaign, [item(one, "w1", objects=2)])
    put(agency_client, campaign, [item(one, "w2", objects=1)])

    assert annotator_of(campaign, one) == "w2"
    assert BoundingBox.objects.current().filter(campaign_image__image_id=one).count() == 1
    assert BoundingBox.objects.filter(submission__annotator="w1").count() == 2  # kept as a revision


def test_a_delivery_takes_the_same_queries_for_one_annotator_and_several(
    agency, django_assert_num_queries, django_assert_max_num_queries
):
    from campaigns.inputs import parse_object_delivery
    from campaigns.services import objects_replace_by_annotator

    def delivered(annotators):
        campaign = make_campaign(images=7, status=Status.ACTIVE)
        ids = image_ids(campaign)[:6]
        delivery = parse_object_delivery([item(i, annotators[n % len(annotators)], 2) for n, i in enumerate(ids)])
        return lambda: objects_replace_by_annotator(
            campaign_id=campaign.pk,
            objects_by_image=delivery.objects_by_image,
            annotators=delivery.annotators,
            user=agency,
        )

    one, several = delivered(["w1"]), delivered(["w1", "w2", "w3"])
    with django_assert_max_num_queries(20) as captured:
        assert len(one()) == 1
    with django_assert_num_queries(len(captured)):
        assert len(several()) == 3


@pytest.mark.parametrize(
    "annotator, status, detail",
    [
        ("jane.doe@example.com", 422, "'annotator' looks like an e-mail address"),
        ("agency@example.com", 422, "never a person's e-mail"),
        ("", 422, "'annotator' must be 1-64 letters, digits"),
        ("x" * 65, 422, "'annotator' must be 1-64"),
        ("worker 17", 422, "'annotator' must be 1-64"),
        ("-w17", 422, "starting with a letter or a digit"),
        ("w17\n", 422, "'annotator' must be"),
        (17, 400, "'annotator' must be a string or null"),
        ({"id": "w17"}, 400, "'annotator' must be a string or null"),
    ],
)
def test_an_annotator_that_is_no_worker_id_is_refused_and_nothing_is_stored(
    agency_client, campaign, annotator, status, detail
):
    one, two = image_ids(campaign)[:2]
    before = campaign_state()
    response = put(agency_client, campaign, [item(one, "w1"), {**item(two), "annotator": annotator}])

    body = assert_error(response, status, detail)
    assert body["detail"].startswith(f"Image {two}: ")
    assert body["image_id"] == two
    assert campaign_state() == before
    assert not Submission.objects.exists()


def test_a_null_annotator_is_the_same_as_none(agency_client, campaign):
    one = image_ids(campaign)[0]
    assert put(agency_client, campaign, [{**item(one), "annotator": None}]).status_code == 200
    assert annotator_of(campaign, one) == ""


def test_the_predictions_body_ignores_an_annotator_as_any_other_key(admin_client, campaign):
    one = image_ids(campaign)[0]
    body = {"model": {"name": "detector"}, "items": [{**item(one), "annotator": "not@checked"}]}
    response = admin_client.put(f"{API}/campaigns/{campaign.pk}/predictions", body, format="json")
    assert response.status_code == 200, response.content
    assert Submission.objects.get().annotator == ""


def test_the_agency_sees_its_objects_without_the_annotator(agency_client, admin_client, campaign):
    one = image_ids(campaign)[0]
    put(agency_client, campaign, [item(one, "w1")])
    listed = admin_client.get(f"{API}/campaigns/{campaign.pk}/objects").json()["images"]
    assert "annotator" not in str(listed)


# --- the figures ---------------------------------------------------------------------------


@pytest.fixture
def reviewed(agency_client, campaign):
    """w1 labels 1 and 2, w2 labels 3, image 4 names no one; 1 accepted, 2 and 3 rejected; w2 redoes 2 and 3;
    2 accepted, 3 rejected again."""
    one, two, three, four = image_ids(campaign)
    put(agency_client, campaign, [item(one, "w1"), item(two, "w1"), item(three, "w2"), item(four)])
    decide(
        campaign,
        [
            {"image_id": one, "decision": "accepted"},
            {"image_id": two, "decision": "rejected", "reason": "loose box"},
            {"image_id": three, "decision": "rejected", "reason": "missing can"},
        ],
    )
    put(agency_client, campaign, [item(two, "w2"), item(three, "w2", objects=2)])
    decide(
        campaign,
        [
            {"image_id": two, "decision": "accepted"},
            {"image_id": three, "decision": "rejected", "reason": "still missing"},
        ],
    )
    return campaign


EXPECTED = [
    # images now, pending now, revisions delivered, images accepted, images rejected, decisions, rejections
    {"annotator": "w1", "images": 1, "pending": 0, "delivered": 2, "accepted": 1, "rejected": 1, "decisions": 2,
     "rejections": 1, "rejection_rate": 0.5},
    {"annotator": "w2", "images": 2, "pending": 0, "delivered": 3, "accepted": 1, "rejected": 1, "decisions": 3,
     "rejections": 2, "rejection_rate": 0.666667},
    {"annotator": None, "images": 1, "pending": 1, "delivered": 1, "accepted": 0, "rejected": 0, "decisions": 0,
     "rejections": 0, "rejection_rate": None},
]  # fmt: skip


def test_the_agency_reads_its_figures_per_annotator(agency_client, reviewed):
    response = agency_client.get(f"{API}/campaigns/{reviewed.pk}/annotators")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["annotators"] == EXPECTED
    assert body["pagination"] == {"page": 1, "pages": 1, "total": 3, "per_page": 1000, "next": None, "prev": None}
    assert (body["campaign_id"], body["since"], body["until"]) == (reviewed.pk, None, None)


def test_staff_read_the_same_figures(admin_client, reviewed):
    assert admin_client.get(f"{API}/campaigns/{reviewed.pk}/annotators").json()["annotators"] == EXPECTED


def test_a_period_keeps_the_deliveries_and_decisions_made_in_it(agency_client, reviewed):
    response = agency_client.get(f"{API}/campaigns/{reviewed.pk}/annotators", {"since": "2999-01-01"})
    rows = {row["annotator"]: row for row in response.json()["annotators"]}
    # The images now stay; nothing was delivered or decided in the future.
    assert (rows["w2"]["images"], rows["w2"]["delivered"], rows["w2"]["decisions"]) == (2, 0, 0)


def test_the_figures_take_the_same_queries_for_few_and_many_annotators(
    agency, agency_client, campaign, django_assert_num_queries
):
    ids = image_ids(campaign)
    put(agency_client, campaign, [item(ids[0], "w1")])
    url = f"{API}/campaigns/{campaign.pk}/annotators"
    agency_client.get(url)  # the key's first use of the minute records it
    # The key, the agency's binding to the campaign, three aggregates.
    with django_assert_num_queries(5):
        assert len(agency_client.get(url).json()["annotators"]) == 1
    put(agency_client, campaign, [item(i, f"w{n}") for n, i in enumerate(ids)])
    decide(campaign, [{"image_id": i, "decision": "accepted"} for i in ids])
    with django_assert_num_queries(5):
        assert len(agency_client.get(url).json()["annotators"]) == 4


def test_another_agency_cannot_read_the_figures(reviewed):
    rival = client_for(UserFactory(email="rival@example.com"))
    assert_error(rival.get(f"{API}/campaigns/{reviewed.pk}/annotators"), 401)


@pytest.mark.parametrize(
    "query, status, detail",
    [
        ({"since": "yesterday"}, 400, "'since'"),
        ({"since": "2026-12-01", "until": "2026-11-01"}, 422, "'since' must not be after 'until'"),
        ({"page": "0"}, 400, "'page' must be a whole number >= 1"),
        ({"per_page": "-1"}, 400, "'per_page' must be a whole number >= 1"),
    ],
)
def test_a_wrong_query_is_refused_with_a_detail(agency_client, reviewed, query, status, detail):
    assert_error(agency_client.get(f"{API}/campaigns/{reviewed.pk}/annotators", query), status, detail)


def test_an_unknown_campaign_is_a_404_for_staff(admin_client):
    assert_error(admin_client.get(f"{API}/campaigns/987654/annotators"), 404, "Campaign 987654 not found")


def test_the_agency_scope_keeps_only_its_own_submissions(agency, reviewed):
    staff_import = UserFactory(email="someone-else@example.com")
    other = make_campaign(images=1, status=Status.ACTIVE, labeler=staff_import)
    from campaigns.services import objects_replace

    objects_replace(
        campaign_id=other.pk, objects_by_image=parse_object_items([item(image_ids(other)[0])]), user=staff_import
    )
    rows = annotator_review_figures(campaign_ids=[reviewed.pk, other.pk], dates=DateRange(), agency=agency)
    assert [row.review_dict() for row in rows] == EXPECTED


# --- gold and agreement per annotator (staff only) -------------------------------------------


def test_gold_figures_per_annotator_pool_every_scored_delivery_and_stay_out_of_the_agencys_answer(
    agency_client, campaign
):
    one, two, three, _ = image_ids(campaign)
    reference = [{"label": "Plastic", "bounding_box": {"xmin": 1, "xmax": 10, "ymin": 2, "ymax": 20}}]
    gold_replace(
        campaign_id=campaign.pk,
        objects_by_image=parse_object_items(
            [{"image_id": one, "objects": reference}, {"image_id": two, "objects": reference}]
        ),
        actor=None,
    )
    # w1 draws the reference box on image 1 (TP 1), w2 draws it and a second box on image 2 (TP 1, FP 1).
    put(agency_client, campaign, [item(one, "w1"), item(two, "w2", objects=2), item(three, "w2")])

    gold = gold_by_annotator(campaign_ids=[campaign.pk])
    assert gold["w1"]["images"] == 1 and gold["w1"]["f1"] == 1.0
    assert gold["w2"]["images"] == 1 and gold["w2"]["precision"] == 0.5 and gold["w2"]["f1"] == pytest.approx(2 / 3)
    answer = agency_client.get(f"{API}/campaigns/{campaign.pk}/annotators").json()
    assert all(set(row) == set(EXPECTED[0]) for row in answer["annotators"])
    assert "gold" not in str(answer) and "f1" not in str(answer)


def test_the_scorecard_adds_the_agreement_with_the_campaign_compared(agency, agency_client, campaign):
    one, two = image_ids(campaign)[:2]
    rival = UserFactory(email="rival@example.com")
    other = make_campaign(images=0, status=Status.ACTIVE, labeler=rival)
    for campaign_image in campaign.campaign_images.all():
        CampaignImageFactory(campaign=other, image=campaign_image.image)
    put(agency_client, campaign, [item(one, "w1"), item(two, "w2")])
    put(client_for(rival), other, [item(one), item(two, objects=2)])
    campaign.consensus_with = other
    campaign.save(update_fields=["consensus_with"])

    rows = {row.annotator: row for row in annotator_scorecard(campaigns=[campaign], dates=DateRange())}
    assert rows["w1"].agreement == {"images": 1, "f1": 1.0, "mean_iou": 1.0}
    # The rival drew the same box twice: one pair, one box only it drew.
    assert rows["w2"].agreement == {"images": 1, "f1": pytest.approx(2 / 3), "mean_iou": 1.0}
    assert rows["w1"].delivered == 1


def test_a_submission_names_its_annotator_where_the_admin_shows_it(agency_client, campaign):
    one, two = image_ids(campaign)[:2]
    put(agency_client, campaign, [item(one, "w-17"), item(two)])
    named, unnamed = Submission.objects.order_by("pk")
    assert str(named) == f"submission {named.pk} (campaign {campaign.pk}, annotator w-17)"
    assert str(unnamed) == f"submission {unnamed.pk} (campaign {campaign.pk})"


def test_a_page_number_or_size_of_any_length_is_read_as_the_other_lists_read_it(admin_client):
    campaign = make_campaign(images=1)
    huge = "643793775672600035328"
    body = admin_client.get(f"/api/v1/campaigns/{campaign.pk}/annotators?per_page={huge}").json()
    assert body["pagination"]["per_page"] == 1000
    body = admin_client.get(f"/api/v1/campaigns/{campaign.pk}/annotators?page={huge}").json()
    assert body["annotators"] == []
