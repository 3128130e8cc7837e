"""The switching rules through the services: the inspection, plan and reason each sample records, lot after lot."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.audit import Actor
from accounts.models import AuditEvent
from accounts.tests.factories import UserFactory
from campaigns.inputs import LotDecision, NewSample, parse_review_items
from campaigns.models import Campaign, CampaignImage, CampaignLabeler, ReviewSample, ReviewSampleImage
from campaigns.selectors import campaign_next_inspection
from campaigns.services import (
    campaign_set_reduced_inspection,
    inspection_resume,
    reviews_decide,
    sample_decide_lot,
    sample_start,
)
from campaigns.tests.conftest import campaign_state
from campaigns.tests.factories import CampaignFactory, objects_body, replace_objects_from_body
from core.exceptions import Conflict
from imagesets.models import Image, ImageSet
from imagesets.tests.factories import ImageFactory, ImageSetFactory

pytestmark = pytest.mark.django_db

LOT = 26  # code letter D; at AQL 10: normal D 8 2/3, tightened D 8 1/2, reduced D 3 1/2
PLANS = {"normal": (8, 2, 3), "tightened": (8, 1, 2), "reduced": (3, 1, 2)}


@pytest.fixture
def staff():
    return UserFactory(email="reviewer@example.com", is_staff=True)


@pytest.fixture
def agency():
    return UserFactory(email="agency@example.com")


def campaign_of(agency, images: int, **fields) -> Campaign:
    """An active campaign of ``images`` new images (made in bulk: a script needs hundreds)."""
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE, **fields)
    imageset = ImageSetFactory(status=ImageSet.Status.FINISHED)
    built = Image.objects.bulk_create(
        [ImageFactory.build(imageset=imageset, blobstorage_path=f"switch/{n}.png") for n in range(images)]
    )
    CampaignImage.objects.bulk_create([CampaignImage(campaign=campaign, image=image) for image in built])
    CampaignLabeler.objects.create(campaign=campaign, user=agency)
    return campaign


@dataclass
class Delivery:
    """The agency delivers lots of ``LOT`` new images; staff sample each and decide it."""

    campaign: Campaign
    agency: object
    staff: object

    def deliver(self, size: int = LOT) -> list[int]:
        fresh = list(
            CampaignImage.objects.filter(campaign=self.campaign, current_submission__isnull=True)
            .order_by("image_id")
            .values_list("image_id", flat=True)[:size]
        )
        replace_objects_from_body(campaign_id=self.campaign.pk, items=objects_body(fresh), user=self.agency)
        return fresh

    def draw(self, **new) -> ReviewSample:
        new = NewSample(size=new.get("size"), seed=new.get("seed", 1))
        return sample_start(campaign_id=self.campaign.pk, new=new, actor=Actor(user=self.staff))

    def review_sampled(self, sample: ReviewSample, *, accept: bool) -> ReviewSample:
        """Decide every sampled image: all accepted, or all rejected."""
        sampled = ReviewSampleImage.objects.filter(sample=sample).values_list("campaign_image__image_id", flat=True)
        items = [
            {"image_id": image_id, "decision": "accepted"}
            if accept
            else {"image_id": image_id, "decision": "rejected", "reason": "loose boxes"}
            for image_id in sampled
        ]
        reviews_decide(campaign_id=self.campaign.pk, reviews=parse_review_items(items), actor=Actor(user=self.staff))
        sample.refresh_from_db()
        return sample

    def judge(self, sample: ReviewSample, *, accept: bool, decide_lot: str | None = None) -> ReviewSample:
        """Decide every sampled image (accepted, or all rejected), then the lot as the verdict says."""
        sample = self.review_sampled(sample, accept=accept)
        assert sample.verdict == ("accept" if accept else "reject")
        sample_decide_lot(
            campaign_id=self.campaign.pk,
            sample_id=sample.pk,
            decision=LotDecision(decide_lot or sample.verdict, ""),
            actor=Actor(user=self.staff),
        )
        sample.refresh_from_db()
        return sample

    def lot(self, *, accept: bool) -> ReviewSample:
        self.deliver()
        return self.judge(self.draw(), accept=accept)


def tightened_continues(in_a_row: int, refused: int) -> str:
    a = f"{in_a_row} lot{'' if in_a_row == 1 else 's'}"
    r = f"{refused} lot{'' if refused == 1 else 's'}"
    return (
        f"Tightened inspection continues: {a} accepted in a row of the 5 that return to normal; {r} not accepted "
        "on tightened inspection (5 discontinue inspection)"
    )


def normal_continues(refused: int, window: int, score: int) -> str:
    return (
        f"Normal inspection continues: {refused} of the last {window} lot{'' if window == 1 else 's'} not accepted; "
        f"switching score {score} of the 30 that allow reduced inspection"
    )


# Each step: the lot's outcome, then what its sample must record (inspection, reason from the ids drawn so far).
SCRIPT = [
    ("A", "normal", 0, lambda ids: "Normal inspection: no lot decided yet, and inspection starts normal"),
    ("R", "normal", 3, lambda ids: normal_continues(0, 1, 3)),
    ("A", "normal", 0, lambda ids: normal_continues(1, 2, 0)),
    ("R", "normal", 3, lambda ids: normal_continues(1, 3, 3)),
    (
        "A",
        "tightened",
        None,
        lambda ids: f"Tightened inspection: 2 of the last 4 lots were not accepted (samples {ids[1]} and {ids[3]})",
    ),
    ("R", "tightened", None, lambda ids: tightened_continues(1, 0)),
    ("A", "tightened", None, lambda ids: tightened_continues(0, 1)),
    ("A", "tightened", None, lambda ids: tightened_continues(1, 1)),
    ("A", "tightened", None, lambda ids: tightened_continues(2, 1)),
    ("A", "tightened", None, lambda ids: tightened_continues(3, 1)),
    ("A", "tightened", None, lambda ids: tightened_continues(4, 1)),
    (
        "A",
        "normal",
        0,
        lambda ids: (
            "Normal inspection: 5 consecutive lots were accepted on tightened inspection "
            f"(samples {ids[6]}, {ids[7]}, {ids[8]}, {ids[9]} and {ids[10]})"
        ),
    ),
    *[("A", "normal", 3 * n, lambda ids, n=n: normal_continues(0, min(n, 5), 3 * n)) for n in range(1, 10)],
]
AFTER_SCORE_30 = [
    (
        "A",
        "reduced",
        None,
        lambda ids: (
            "Reduced inspection: the switching score reached 30 (30 or more) and reduced inspection is "
            "allowed for this campaign (production is taken as steady)"
        ),
    ),
    ("R", "reduced", None, lambda ids: "Reduced inspection continues: 1 lot accepted since it began"),
    (
        "R",
        "normal",
        0,
        lambda ids: f"Normal inspection: the lot of sample {ids[22]} was not accepted on reduced inspection",
    ),
    ("R", "normal", 0, lambda ids: normal_continues(1, 1, 0)),
    (
        "R",
        "tightened",
        None,
        lambda ids: f"Tightened inspection: 2 of the last 2 lots were not accepted (samples {ids[23]} and {ids[24]})",
    ),
    ("R", "tightened", None, lambda ids: tightened_continues(0, 1)),
    ("R", "tightened", None, lambda ids: tightened_continues(0, 2)),
    ("R", "tightened", None, lambda ids: tightened_continues(0, 3)),
    ("R", "tightened", None, lambda ids: tightened_continues(0, 4)),
]


def run(delivery: Delivery, script, ids: list[int]) -> None:
    for step, (outcome, severity, score, reason) in enumerate(script, start=len(ids)):
        delivery.deliver()
        sample = delivery.draw()
        ids.append(sample.pk)
        plan = (sample.sample_size, sample.acceptance_number, sample.rejection_number)
        assert (sample.severity, plan, sample.code_letter) == (severity, PLANS[severity], "D"), step
        assert (sample.inspection_reason, sample.switching_score) == (reason(ids), score), step
        delivery.judge(sample, accept=outcome == "A")


def test_a_scripted_sequence_of_lots_switches_inspection_as_iso_2859_1_says(agency, staff):
    lots = len(SCRIPT) + len(AFTER_SCORE_30) + 1
    campaign = campaign_of(agency, lots * LOT + 1, aql=Decimal("10"))  # one image left unlabeled: stays active
    delivery = Delivery(campaign, agency, staff)
    ids: list[int] = []

    # normal -> tightened (2 of 4 not accepted) -> normal (5 accepted in a row) -> 10 lots scoring 3 each
    run(delivery, SCRIPT, ids)
    inspection = campaign_next_inspection(campaign=campaign)
    assert (inspection.severity, inspection.switching_score) == ("reduced", None)

    # The responsible authority's call: refused, the score alone does not reduce inspection.
    campaign_set_reduced_inspection(campaign_id=campaign.pk, allowed=False, actor=Actor(user=staff))
    campaign.refresh_from_db()
    inspection = campaign_next_inspection(campaign=campaign)
    assert (inspection.severity, inspection.switching_score) == ("normal", 30)
    assert "but reduced inspection is turned off" in inspection.reason
    campaign_set_reduced_inspection(campaign_id=campaign.pk, allowed=True, actor=Actor(user=staff))
    assert AuditEvent.objects.filter(action="campaign.reduced_inspection").count() == 2

    # reduced -> normal (a lot not accepted) -> tightened (2 of 2) -> 5 not accepted on tightened: discontinued
    run(delivery, AFTER_SCORE_30, ids)
    last = ReviewSample.objects.get(pk=ids[-1])
    assert last.discontinued and last.lot_decision == "reject"
    assert not ReviewSample.objects.filter(campaign=campaign, discontinued=True).exclude(pk=last.pk).exists()
    stopped = AuditEvent.objects.get(action="campaign.inspection_discontinued")
    assert stopped.details["sample_id"] == last.pk

    delivery.deliver()
    before = campaign_state()
    with pytest.raises(Conflict) as refused:
        delivery.draw()
    assert refused.value.detail == (
        "Inspection discontinued until staff resume it: 5 lots were not accepted on tightened inspection "
        f"(samples {ids[25]}, {ids[26]}, {ids[27]}, {ids[28]} and {ids[29]}). Resume it (POST "
        f"/campaigns/{campaign.pk}/inspection/resume, or the campaign's page) once the agency has improved its work"
    )
    assert campaign_state() == before

    # Staff resume: tightened inspection starts afresh.
    inspection_resume(campaign_id=campaign.pk, actor=Actor(user=staff))
    last.refresh_from_db()
    assert (last.resumed_by, last.date_resumed is not None) == (staff, True)
    sample = delivery.draw()
    assert (sample.severity, (sample.sample_size, sample.acceptance_number, sample.rejection_number)) == (
        "tightened",
        PLANS["tightened"],
    )
    assert sample.inspection_reason == (
        f"Tightened inspection: inspection was discontinued after the lot of sample {ids[29]} and resumed by "
        f"reviewer@example.com on {timezone.localdate():%Y-%m-%d}; it starts again tightened"
    )
    delivery.judge(sample, accept=True)
    assert campaign_next_inspection(campaign=campaign).reason == tightened_continues(1, 0)
    assert AuditEvent.objects.filter(action="campaign.inspection_resume").count() == 1


def test_resuming_inspection_that_is_not_discontinued_is_a_409_and_changes_nothing(agency, staff):
    campaign = campaign_of(agency, LOT + 1, aql=Decimal("10"))
    Delivery(campaign, agency, staff).lot(accept=False)
    before = campaign_state()
    with pytest.raises(Conflict, match="not discontinued, there is nothing to resume: Normal inspection continues"):
        inspection_resume(campaign_id=campaign.pk, actor=None)
    assert campaign_state() == before


def test_a_discarded_sample_is_no_lot_and_a_concession_is_not_accepted(agency, staff):
    campaign = campaign_of(agency, 3 * LOT + 1, aql=Decimal("10"))
    delivery = Delivery(campaign, agency, staff)
    delivery.deliver()
    rejected = delivery.draw()
    # Staff accept the lot although its sample rejects it: for the switching rules it is not accepted.
    delivery.judge(rejected, accept=False, decide_lot="accept")
    assert rejected.lot_decision == "accept"
    delivery.deliver()
    discarded = delivery.draw()
    sample_decide_lot(campaign_id=campaign.pk, sample_id=discarded.pk, decision=LotDecision("discard", ""), actor=None)
    again = delivery.draw()
    assert again.inspection_reason == normal_continues(1, 1, 0)  # the discarded sample counted for nothing
    delivery.judge(again, accept=False)
    assert campaign_next_inspection(campaign=campaign).severity == "tightened"


def test_a_size_by_hand_under_tightened_inspection_takes_table_2_b(agency, staff):
    campaign = campaign_of(agency, 3 * LOT + 1, aql=Decimal("10"))
    delivery = Delivery(campaign, agency, staff)
    delivery.lot(accept=False)
    delivery.lot(accept=False)
    delivery.deliver()
    sample = delivery.draw(size=13)
    # By hand: the largest code letter whose sample is not over 13 is E (13); 2-B's E at AQL 10 is 2/3 (2-A's 3/4).
    assert (sample.severity, sample.code_letter, sample.sample_size) == ("tightened", "", 13)
    assert (sample.acceptance_number, sample.rejection_number) == (2, 3)


def test_the_campaigns_next_inspection_costs_one_query_however_many_lots(agency, staff, django_assert_num_queries):
    campaign = campaign_of(agency, 4 * LOT + 1, aql=Decimal("10"))
    delivery = Delivery(campaign, agency, staff)
    delivery.lot(accept=True)
    with django_assert_num_queries(1):
        campaign_next_inspection(campaign=campaign)
    for _ in range(3):
        delivery.lot(accept=False)
    with django_assert_num_queries(1):
        assert campaign_next_inspection(campaign=campaign).severity == "tightened"
