"""campaigns.services.reviews and samples: decisions, the rework loop, acceptance samples, the finish policy."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from accounts.audit import Actor
from accounts.models import AuditEvent
from accounts.tests.factories import UserFactory
from campaigns.inputs import LotDecision, NewSample, parse_review_items
from campaigns.models import Campaign, CampaignImage, Review, ReviewSample, ReviewSampleImage, ReviewState
from campaigns.services import campaign_set_status, reviews_decide, sample_decide_lot, sample_start
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import make_campaign, objects_body, progress, replace_objects_from_body
from core.exceptions import BadRequest, Conflict, NotFound, Unprocessable

pytestmark = pytest.mark.django_db

Status = Campaign.Status


@pytest.fixture
def staff():
    return UserFactory(email="reviewer@example.com", is_staff=True)


@pytest.fixture
def agency():
    return UserFactory(email="agency@example.com")


def delivered(agency, *, images=3, **campaign_fields) -> Campaign:
    """An active campaign whose every image the agency labeled: it is ``completed``."""
    campaign = make_campaign(images=images, status=Status.ACTIVE, labeler=agency, **campaign_fields)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=agency)
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED
    return campaign


def decide(campaign, staff, items):
    return reviews_decide(campaign_id=campaign.pk, reviews=parse_review_items(items), actor=Actor(user=staff))


def row(campaign, image_id) -> CampaignImage:
    return CampaignImage.objects.get(campaign=campaign, image_id=image_id)


# --- decisions ------------------------------------------------------------------------


def test_a_rejection_sends_the_image_back_and_reopens_the_campaign(agency, staff):
    campaign = delivered(agency)
    first, second, _ = image_ids(campaign)
    decide(campaign, staff, [{"image_id": first, "decision": "rejected", "reason": "a bottle has no box"}])

    image = row(campaign, first)
    assert (image.review_state, image.labeled) == (ReviewState.REJECTED, False)
    review = image.last_review
    assert (review.decision, review.reason, review.reviewer, review.submission_id) == (
        "rejected",
        "a bottle has no box",
        staff,
        image.current_submission_id,
    )
    assert row(campaign, second).review_state == ReviewState.PENDING
    campaign.refresh_from_db()
    assert campaign.status == Status.ACTIVE and campaign.date_completed is None
    assert progress(campaign.pk) == {"done": 2, "total": 3}
    review_event = AuditEvent.objects.get(action="campaign.review")
    assert (review_event.actor, review_event.actor_user, review_event.details["rejected"]) == (
        "reviewer@example.com",
        staff,
        1,
    )
    reopened = AuditEvent.objects.filter(action="campaign.status").latest("pk")
    assert reopened.actor == "reviewer@example.com"
    assert reopened.details == {"from": "completed", "to": "active", "why": "an image was rejected"}


def test_the_agencys_resubmission_is_a_new_revision_awaiting_review_in_a_new_rework_round(agency, staff):
    campaign = delivered(agency)
    first = image_ids(campaign)[0]
    old_submission = row(campaign, first).current_submission_id
    decide(campaign, staff, [{"image_id": first, "decision": "rejected", "reason_code": "missing-object"}])

    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([first], per_image=2), user=agency)
    image = row(campaign, first)
    assert image.current_submission_id != old_submission
    assert (image.review_state, image.labeled, image.rework_round, image.revision_count) == (
        ReviewState.PENDING,
        True,
        1,
        2,
    )
    assert image.current_review is None  # the decision judged the previous revision
    rejection = Review.objects.get(campaign_image=image)
    assert rejection.date_reworked == image.date_labeled
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED


def test_resubmitting_an_accepted_image_needs_a_new_review_but_is_no_rework(agency, staff):
    campaign = delivered(agency)
    first = image_ids(campaign)[0]
    decide(campaign, staff, [{"image_id": first, "decision": "accepted"}])
    assert row(campaign, first).review_state == ReviewState.ACCEPTED
    campaign_set_status(campaign_id=campaign.pk, new_status=Status.ACTIVE)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([first]), user=agency)
    image = row(campaign, first)
    assert (image.review_state, image.rework_round, image.revision_count) == (ReviewState.PENDING, 0, 2)
    assert Review.objects.get().date_reworked is None


def test_every_decision_is_kept_and_the_latest_counts(agency, staff):
    campaign = delivered(agency)
    first = image_ids(campaign)[0]
    decide(campaign, staff, [{"image_id": first, "decision": "rejected", "reason": "too loose"}])
    decide(campaign, staff, [{"image_id": first, "decision": "accepted", "reason": "on second look, fine"}])
    image = row(campaign, first)
    assert (image.review_state, image.labeled) == (ReviewState.ACCEPTED, True)
    assert list(Review.objects.filter(campaign_image=image).order_by("pk").values_list("decision", flat=True)) == [
        "rejected",
        "accepted",
    ]
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED  # the last unlabeled image is labeled again


@pytest.mark.parametrize("status", [Status.CREATED, Status.FINISHED])
def test_reviews_only_while_active_or_completed(agency, staff, status):
    campaign = delivered(agency)
    first = image_ids(campaign)[0]
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    before = campaign_state()
    with pytest.raises(Conflict, match="active' or 'completed"):
        decide(campaign, staff, [{"image_id": first, "decision": "accepted"}])
    assert campaign_state() == before


def test_a_review_naming_an_older_revision_is_a_409_and_changes_nothing(agency, staff):
    campaign = delivered(agency)
    first, second = image_ids(campaign)[:2]
    seen = row(campaign, first).current_submission_id
    campaign_set_status(campaign_id=campaign.pk, new_status=Status.ACTIVE)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([first]), user=agency)
    before = campaign_state()
    with pytest.raises(Conflict, match="not its current revision") as refused:
        decide(
            campaign,
            staff,
            [
                {"image_id": second, "decision": "accepted"},
                {"image_id": first, "decision": "rejected", "reason": "x", "submission_id": seen},
            ],
        )
    assert refused.value.extra["current_submission_id"] == row(campaign, first).current_submission_id
    assert campaign_state() == before


def test_an_unlabeled_image_has_nothing_to_review(agency, staff):
    campaign = make_campaign(images=2, status=Status.ACTIVE, labeler=agency)
    before = campaign_state()
    with pytest.raises(Conflict, match="not been labeled"):
        decide(campaign, staff, [{"image_id": image_ids(campaign)[0], "decision": "accepted"}])
    assert campaign_state() == before


def test_an_image_of_another_campaign_is_a_404_and_nothing_is_recorded(agency, staff):
    campaign = delivered(agency)
    other = delivered(agency)
    before = campaign_state()
    with pytest.raises(NotFound) as refused:
        decide(
            campaign,
            staff,
            [
                {"image_id": image_ids(campaign)[0], "decision": "accepted"},
                {"image_id": image_ids(other)[0], "decision": "accepted"},
            ],
        )
    assert refused.value.extra == {"image_id": image_ids(other)[0]}
    assert campaign_state() == before


@pytest.mark.parametrize(
    "items, error, message",
    [
        ({"image_id": 1}, BadRequest, "Expected a list"),
        ([{"image_id": "1", "decision": "accepted"}], BadRequest, "'image_id'"),
        ([{"image_id": 1, "decision": "maybe"}], BadRequest, "'decision'"),
        ([{"image_id": 1, "decision": "rejected"}], Unprocessable, "needs a 'reason'"),
        ([{"image_id": 1, "decision": "rejected", "reason": "   "}], Unprocessable, "needs a 'reason'"),
        ([{"image_id": 1, "decision": "rejected", "reason_code": "ugly"}], Unprocessable, "'reason_code'"),
        ([{"image_id": 1, "decision": "accepted", "reason": "x" * 2001}], Unprocessable, "at most 2000"),
        ([{"image_id": 1, "decision": "accepted", "reason": 5}], BadRequest, "'reason'"),
        ([{"image_id": 1, "decision": "accepted", "submission_id": "7"}], BadRequest, "'submission_id'"),
        (
            [{"image_id": 1, "decision": "accepted"}, {"image_id": 1, "decision": "accepted"}],
            BadRequest,
            "more than once",
        ),
    ],
)
def test_malformed_decisions_are_refused_before_anything_is_read(items, error, message):
    with pytest.raises(error, match=message):
        parse_review_items(items)


def test_deciding_takes_the_same_queries_for_2_and_40_images(
    agency, staff, django_assert_num_queries, django_assert_max_num_queries
):
    def decisions_on(n):
        """A delivered campaign of n images, and a decision for each: accepted and rejected in turn."""
        campaign = delivered(agency, images=n)
        items = [
            {"image_id": image_id, "decision": "rejected" if index % 2 else "accepted", "reason": "r"}
            for index, image_id in enumerate(image_ids(campaign))
        ]
        return campaign, items

    campaign, items = decisions_on(2)
    with django_assert_max_num_queries(math.inf) as captured:  # any number: 40 images must take no more
        decide(campaign, staff, items)
    few = len(captured)
    assert Review.objects.filter(campaign=campaign).count() == 2
    campaign, items = decisions_on(40)
    with django_assert_num_queries(few):
        decide(campaign, staff, items)
    assert Review.objects.filter(campaign=campaign).count() == 40


# --- the finish policy ----------------------------------------------------------------------


def test_a_campaign_that_requires_review_finishes_only_once_every_image_is_accepted(agency, staff):
    campaign = delivered(agency, review_required=True)
    first, second, third = image_ids(campaign)
    decide(campaign, staff, [{"image_id": first, "decision": "accepted"}])
    before = campaign_state()
    with pytest.raises(Conflict, match="2 image") as refused:
        campaign_set_status(campaign_id=campaign.pk, new_status=Status.FINISHED)
    assert refused.value.extra == {"not_accepted": 2}
    assert campaign_state() == before

    decide(campaign, staff, [{"image_id": i, "decision": "accepted"} for i in (second, third)])
    campaign_set_status(campaign_id=campaign.pk, new_status=Status.FINISHED)
    campaign.refresh_from_db()
    assert campaign.status == Status.FINISHED


def test_without_the_policy_a_campaign_finishes_unreviewed(agency):
    campaign = delivered(agency)
    campaign_set_status(campaign_id=campaign.pk, new_status=Status.FINISHED)


# --- acceptance samples -------------------------------------------------------------------------


def sampled(sample) -> list[int]:
    """The sampled images' ids, in the order drawn."""
    return list(
        ReviewSampleImage.objects.filter(sample=sample)
        .order_by("position")
        .values_list("campaign_image__image_id", flat=True)
    )


def test_a_sample_follows_the_standards_plan_and_its_seed(agency, staff):
    campaign = delivered(agency, images=30, aql=Decimal("2.5"))
    sample = sample_start(campaign_id=campaign.pk, new=NewSample(size=None, seed=42), actor=Actor(user=staff))
    # Lot 30 is code letter D; D at AQL 2.5 is "^": C's plan, n=5, Ac 0, Re 1.
    assert (sample.lot_size, sample.code_letter, sample.sample_size) == (30, "C", 5)
    assert (sample.acceptance_number, sample.rejection_number, sample.seed) == (0, 1, 42)
    first_draw = sampled(sample)
    assert len(set(first_draw)) == 5 and set(first_draw) <= set(image_ids(campaign))

    ReviewSample.objects.filter(pk=sample.pk).update(lot_decision="accept")  # closed without deciding anything
    again = sample_start(campaign_id=campaign.pk, new=NewSample(size=None, seed=42), actor=None)
    assert sampled(again) == first_draw  # the same seed over the same lot draws the same images
    other = ReviewSample.objects.filter(pk=again.pk).update(lot_decision="accept")
    assert other == 1
    assert sampled(sample_start(campaign_id=campaign.pk, new=NewSample(size=None, seed=7), actor=None)) != first_draw
    assert AuditEvent.objects.filter(action="campaign.sample").count() == 3


def test_a_sample_size_by_hand(agency, staff):
    campaign = delivered(agency, images=12)
    sample = sample_start(campaign_id=campaign.pk, new=NewSample(size=4, seed=None), actor=None)
    assert (sample.code_letter, sample.sample_size, sample.lot_size) == ("", 4, 12)
    assert len(sampled(sample)) == 4
    assert 0 <= sample.seed < 2**63


def test_a_second_sample_while_one_is_open_and_a_sample_of_nothing_are_409s(agency, staff):
    campaign = delivered(agency, images=4)
    sample_start(campaign_id=campaign.pk, new=NewSample(size=2, seed=1), actor=None)
    before = campaign_state()
    with pytest.raises(Conflict, match="still open"):
        sample_start(campaign_id=campaign.pk, new=NewSample(size=2, seed=1), actor=None)
    assert campaign_state() == before

    empty = make_campaign(images=2, status=Status.ACTIVE, labeler=agency)
    before = campaign_state()
    with pytest.raises(Conflict, match="no lot"):
        sample_start(campaign_id=empty.pk, new=NewSample(size=None, seed=None), actor=None)
    assert campaign_state() == before


def test_deciding_every_sampled_image_draws_the_verdict_and_accepting_the_lot_accepts_the_rest(agency, staff):
    campaign = delivered(agency, images=20)
    sample = sample_start(campaign_id=campaign.pk, new=NewSample(size=5, seed=3), actor=Actor(user=staff))
    chosen = sampled(sample)
    assert sample.acceptance_number == 0  # by hand, 5 images: A..C have 0/1 at 2.5 at most

    with pytest.raises(Conflict, match="not reviewed yet"):
        sample_decide_lot(campaign_id=campaign.pk, sample_id=sample.pk, decision=LotDecision("accept", ""), actor=None)
    decide(campaign, staff, [{"image_id": i, "decision": "accepted"} for i in chosen[:4]])
    sample.refresh_from_db()
    assert sample.verdict == ""
    decide(campaign, staff, [{"image_id": chosen[4], "decision": "accepted"}])
    sample.refresh_from_db()
    assert (sample.verdict, sample.defects) == ("accept", 0)

    sample_decide_lot(
        campaign_id=campaign.pk, sample_id=sample.pk, decision=LotDecision("accept", ""), actor=Actor(user=staff)
    )
    states = set(CampaignImage.objects.filter(campaign=campaign).values_list("review_state", flat=True))
    assert states == {ReviewState.ACCEPTED}
    by_lot = Review.objects.filter(campaign=campaign, sample=sample)
    assert by_lot.count() == 15 and set(by_lot.values_list("decision", flat=True)) == {"accepted"}
    sample.refresh_from_db()
    assert (sample.lot_decision, sample.lot_decided_by) == ("accept", staff)
    before = campaign_state()
    with pytest.raises(Conflict, match="already decided"):
        sample_decide_lot(campaign_id=campaign.pk, sample_id=sample.pk, decision=LotDecision("reject", ""), actor=None)
    assert campaign_state() == before


def test_rejecting_the_lot_sends_every_unreviewed_image_back_with_the_figures(agency, staff):
    campaign = delivered(agency, images=10)
    sample = sample_start(campaign_id=campaign.pk, new=NewSample(size=3, seed=11), actor=None)
    chosen = sampled(sample)
    decide(campaign, staff, [{"image_id": chosen[0], "decision": "rejected", "reason": "loose boxes"}])
    campaign.refresh_from_db()
    assert campaign.status == Status.ACTIVE
    decide(campaign, staff, [{"image_id": i, "decision": "accepted"} for i in chosen[1:]])
    sample.refresh_from_db()
    assert (sample.verdict, sample.defects) == ("reject", 1)

    sample_decide_lot(campaign_id=campaign.pk, sample_id=sample.pk, decision=LotDecision("reject", ""), actor=None)
    rejected = CampaignImage.objects.filter(campaign=campaign, review_state=ReviewState.REJECTED)
    assert rejected.count() == 1 + 7  # the sampled rejection and the seven unreviewed images
    lot_reviews = Review.objects.filter(sample=sample)
    assert lot_reviews.count() == 7
    assert "1 of 3 sampled images" in lot_reviews.first().reason
    assert progress(campaign.pk) == {"done": 2, "total": 10}


def test_a_sample_of_another_campaign_is_a_404(agency):
    campaign = delivered(agency, images=3)
    other = delivered(agency, images=3)
    sample = sample_start(campaign_id=other.pk, new=NewSample(size=1, seed=1), actor=None)
    with pytest.raises(NotFound):
        sample_decide_lot(campaign_id=campaign.pk, sample_id=sample.pk, decision=LotDecision("accept", ""), actor=None)


def test_a_rejection_taken_back_is_not_counted_as_reworked(agency, staff):
    campaign = delivered(agency)
    first = image_ids(campaign)[0]
    decide(campaign, staff, [{"image_id": first, "decision": "rejected", "reason": "loose"}])
    decide(campaign, staff, [{"image_id": first, "decision": "accepted"}])  # taken back
    decide(campaign, staff, [{"image_id": first, "decision": "rejected", "reason": "missing cat"}])
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([first]), user=agency)
    reworked = dict(Review.objects.filter(decision="rejected").values_list("reason", "date_reworked"))
    assert reworked["loose"] is None and reworked["missing cat"] is not None
    assert CampaignImage.objects.get(campaign=campaign, image_id=first).rework_round == 1
