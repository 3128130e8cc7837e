"""Acceptance sampling of a delivery: draw a sample of the labeled, unreviewed images; accept or reject the lot.

The lot is every image awaiting review (``pending``) when the sample is
drawn, recorded with the revision each had then (``ReviewLotImage``). The
sample is drawn at random with a recorded seed (the same seed and lot draw
the same images), sized by ISO 2859-1's single sampling plan for the lot
size and the campaign's AQL (``campaigns.sampling``), or by hand. Reviewing
the sampled images (``reviews_decide``) draws the verdict; staff then decide
the lot:

- accept: every image of the lot whose recorded revision is still current
  and still awaits review is accepted, each recorded as a review by that
  sample;
- reject: the same images are rejected with the lot's reason (the sample's
  figures unless given), which sends them back to the agency and reopens
  the campaign;
- discard: the sample is closed and no image is decided.

What the sample did not see is never decided by it: an image delivered after
the draw, or a lot image labeled again since, waits for the next lot; a
sampled image labeled again since makes the verdict stale, so accepting or
rejecting is refused (409) until its new revision is reviewed or the sample
is discarded and drawn again.

Which plan: the ISO 2859-1 switching rules read the campaign's decided lots
when the sample is drawn (``campaigns.selectors.inspection``,
``campaigns.switching``) and give the inspection, normal, tightened or
reduced, whose table sizes the sample; the sample records it and why. Once
5 lots are not accepted on tightened inspection, deciding the 5th records
that inspection is discontinued, and no sample is drawn (409) until staff
resume it (``campaigns.services.inspection``).

Gold gates the lot: the gold images delivered in the lot (scored when the
sample is drawn) are pooled into one F1; below the campaign's
``gold_min_f1`` the sample's verdict is reject and accepting the lot is
refused (409). What the agency is sent never tells which images are gold:
a rejected lot's reason is the same for every image of the lot.
"""

from __future__ import annotations

import math
import random
import secrets
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from accounts.audit import Actor, audit_record
from campaigns.gold.selectors import gold_lot_figures
from campaigns.inputs import LotDecision, NewSample
from campaigns.models import (
    Campaign,
    CampaignImage,
    Review,
    ReviewLotImage,
    ReviewSample,
    ReviewSampleImage,
    ReviewState,
)
from campaigns.sampling import TIGHTENED, plan_by_hand, plan_for, wilson_interval
from campaigns.selectors.inspection import campaign_next_inspection
from campaigns.services.campaigns import campaign_lock
from campaigns.services.reviews import check_reviewable, follow_labeled_status, mirror_decisions
from campaigns.webhooks import images_rejected_event_record
from core.exceptions import Conflict, NotFound
from core.validators import is_valid_id

Decision = Review.Decision
LotChoice = ReviewSample.LotDecision
# A sample stands for its whole lot: the lot's rows are written in batches this size.
LOT_BATCH = 2000


@transaction.atomic
def sample_start(*, campaign_id: int, new: NewSample, actor: Actor | None) -> ReviewSample:
    """Draw a sample of the images awaiting review; 409 while another sample is open or nothing awaits review."""
    campaign = campaign_lock(campaign_id)
    check_reviewable(campaign)
    if ReviewSample.objects.filter(campaign=campaign, lot_decision="").exists():
        raise Conflict("An acceptance sample of this campaign is still open: decide its lot first")
    inspection = campaign_next_inspection(campaign=campaign)
    if inspection.discontinued:
        raise Conflict(
            f"{inspection.reason}. Resume it (POST /campaigns/{campaign.pk}/inspection/resume, or the campaign's "
            "page) once the agency has improved its work"
        )
    pending = CampaignImage.objects.filter(campaign=campaign, review_state=ReviewState.PENDING)
    lot = list(pending.order_by("pk").values_list("pk", "current_submission_id"))
    if not lot:
        raise Conflict("No labeled image awaits review: there is no lot to sample")
    severity = inspection.severity
    plan = (
        plan_for(lot_size=len(lot), aql=campaign.aql, severity=severity)
        if new.size is None
        else plan_by_hand(lot_size=len(lot), sample_size=new.size, aql=campaign.aql, severity=severity)
    )
    # The lot is ``pending`` under the campaign's lock (every delivery takes it too): its gold images' latest
    # scores are those of the revisions the lot records.
    gold = gold_lot_figures(campaign_id=campaign.pk, image_ids=pending.values("image_id"))
    seed = new.seed if new.seed is not None else secrets.randbits(63)
    drawn = random.Random(seed).sample(lot, plan.sample_size)
    actor = actor or Actor.system()
    sample = ReviewSample.objects.create(
        campaign=campaign,
        seed=seed,
        aql=campaign.aql,
        code_letter=plan.code_letter,
        lot_size=len(lot),
        sample_size=plan.sample_size,
        acceptance_number=plan.acceptance_number,
        rejection_number=plan.rejection_number,
        created_by=actor.user,
        severity=severity,
        inspection_reason=inspection.reason,
        switching_score=inspection.switching_score,
        gold_images=gold["images"] if gold else 0,
        gold_f1=gold["f1"] if gold else None,
        gold_min_f1=campaign.gold_min_f1,
    )
    ReviewSampleImage.objects.bulk_create(
        [
            ReviewSampleImage(sample=sample, campaign_image_id=pk, submission_id=submission_id, position=position)
            for position, (pk, submission_id) in enumerate(drawn)
        ],
        batch_size=500,
    )
    ReviewLotImage.objects.bulk_create(
        (ReviewLotImage(sample=sample, campaign_image_id=pk, submission_id=submission_id) for pk, submission_id in lot),
        batch_size=LOT_BATCH,
    )
    audit_record(
        actor=actor,
        action="campaign.sample",
        target=campaign,
        details={
            "sample_id": sample.pk,
            "seed": seed,
            "lot_size": sample.lot_size,
            "sample_size": sample.sample_size,
            "code_letter": sample.code_letter,
            "aql": str(sample.aql),
            "acceptance_number": sample.acceptance_number,
            "severity": sample.severity,
            "inspection_reason": sample.inspection_reason[:500],
            "gold_images": sample.gold_images,
            "gold_f1": sample.gold_f1,
        },
    )
    return sample


def _lock_sample(campaign: Campaign, sample_id: int) -> ReviewSample:
    sample = (
        ReviewSample.objects.select_for_update().filter(campaign=campaign, pk=sample_id).first()
        if is_valid_id(sample_id)
        else None
    )
    if sample is None:
        raise NotFound(f"Sample {sample_id} of campaign {campaign.pk} not found")
    return sample


def f1_text(value: float | Decimal) -> str:
    """An F1 as staff read it: 2 decimals, or 3 when they matter ("0.62", "0.625"), rounded down so
    that a figure below a minimum never reads as the minimum."""
    thousandths = math.floor(Decimal(str(value)) * 1000)
    text = f"{thousandths / 1000:.3f}"
    return text[:-1] if text.endswith("0") else text


def gold_refusal(sample: ReviewSample) -> str:
    """Why a lot whose gold images score below the minimum cannot be accepted: staff's words (never the agency's)."""
    return (
        f"gold F1 {f1_text(sample.gold_f1)} is below the campaign's minimum {f1_text(sample.gold_min_f1)} "
        f"({sample.gold_images} gold image{'s' if sample.gold_images != 1 else ''} in the lot)"
    )


def lot_reason(sample: ReviewSample) -> str:
    """The reason every image of a rejected lot is sent with: the sample's figures, the same for each image, so that
    it never tells a gold image from another (nor says "gold" or gives the gold F1)."""
    low, high = wilson_interval(sample.defects or 0, sample.sample_size)
    figures = (
        f"{sample.defects} of {sample.sample_size} sampled images rejected (acceptance number "
        f"{sample.acceptance_number} at AQL {sample.aql:g} %, {sample.severity} inspection; defect rate 95 % "
        f"interval {low:.1%} to {high:.1%})"
    )
    if sample.gold_below_minimum:  # said of the whole lot, without the figure: nothing here points at gold
        figures = f"the accuracy of the lot's boxes is below the agreed minimum; {figures}"
    return f"Lot rejected by acceptance sample {sample.pk}: {figures}. Please check every image of the delivery."


def _stale_sampled_images(sample: ReviewSample) -> list[int]:
    """Ids of sampled images labeled again since the revision the sample's decision judged."""
    return list(
        ReviewSampleImage.objects.filter(sample=sample)
        .exclude(submission_id=F("campaign_image__current_submission_id"))
        .order_by("position")
        .values_list("campaign_image__image_id", flat=True)
    )


def _lot_to_decide(campaign: Campaign, sample: ReviewSample) -> list[tuple[int, int, int]]:
    """The lot's images whose recorded revision is still current and awaits review, locked: what the lot decides."""
    recorded = ReviewLotImage.objects.filter(
        sample=sample, campaign_image=OuterRef("pk"), submission=OuterRef("current_submission")
    )
    return list(
        CampaignImage.objects.select_for_update()
        .filter(campaign=campaign, review_state=ReviewState.PENDING)
        .filter(Exists(recorded))
        .order_by("pk")
        .values_list("pk", "current_submission_id", "image_id")
    )


@transaction.atomic
def sample_decide_lot(*, campaign_id: int, sample_id: int, decision: LotDecision, actor: Actor | None) -> ReviewSample:
    """Accept or reject the lot a sample was drawn from, or discard the sample (module docstring).

    409 once decided, before every sampled image is decided, or while a
    sampled image's decision judged a revision that is no longer current.
    """
    campaign = campaign_lock(campaign_id)
    sample = _lock_sample(campaign, sample_id)
    if not sample.is_open:
        raise Conflict(f"The lot of sample {sample.pk} was already decided ({sample.lot_decision})")
    check_reviewable(campaign)
    actor = actor or Actor.system()
    now = timezone.now()
    if decision.decision == LotChoice.DISCARD:
        _close(sample, decision.decision, actor, now)
        audit_record(
            actor=actor,
            action="campaign.lot_discard",
            target=campaign,
            details={"sample_id": sample.pk, "verdict": sample.verdict, "reason": decision.reason[:500]},
        )
        return sample
    if decision.decision == LotChoice.ACCEPT and sample.gold_below_minimum:
        raise Conflict(f"The lot cannot be accepted: {gold_refusal(sample)}. Reject it, or discard the sample")
    if not sample.verdict:
        undecided = ReviewSampleImage.objects.filter(sample=sample, decision="").count()
        raise Conflict(f"{undecided} sampled image(s) are not reviewed yet: the sample has no verdict")
    stale = _stale_sampled_images(sample)
    if stale:
        shown = ", ".join(map(str, stale[:20])) + (", ..." if len(stale) > 20 else "")
        raise Conflict(
            f"Sampled images labeled again after their review (image ids {shown}): the sample's verdict no longer "
            "stands. Review their current revision, or discard the sample and draw a new one",
            extra={"image_ids": stale},
        )

    review_decision = Decision.ACCEPTED if decision.decision == LotChoice.ACCEPT else Decision.REJECTED
    reason = decision.reason or (lot_reason(sample) if review_decision == Decision.REJECTED else "")
    lot = _lot_to_decide(campaign, sample)
    created = Review.objects.bulk_create(
        [
            Review(
                campaign=campaign,
                campaign_image_id=pk,
                submission_id=submission_id,
                decision=review_decision,
                reason=reason,
                reviewer=actor.user,
                api_key=actor.api_key,
                sample=sample,
                date_created=now,
            )
            for pk, submission_id, _ in lot
        ],
        batch_size=500,
    )
    mirror_decisions(campaign_image_ids={review_decision: [pk for pk, _, _ in lot]})
    _close(sample, decision.decision, actor, now)
    follow_labeled_status(campaign, rejected=review_decision == Decision.REJECTED and bool(lot), actor=actor)
    images_rejected_event_record(
        campaign_id=campaign.pk, reviews=created, image_ids={pk: image_id for pk, _, image_id in lot}
    )
    audit_record(
        actor=actor,
        action=f"campaign.lot_{decision.decision}",
        target=campaign,
        details={
            "sample_id": sample.pk,
            "verdict": sample.verdict,
            "images": len(lot),
            "lot_size": sample.lot_size,
            "reason": reason[:500],
        },
    )
    if sample.severity == TIGHTENED:
        _record_discontinuation(campaign, sample, actor)
    return sample


def _record_discontinuation(campaign: Campaign, sample: ReviewSample, actor: Actor) -> None:
    """ISO 2859-1 9.4: the lot just decided was the 5th not accepted on tightened inspection: say so on it."""
    inspection = campaign_next_inspection(campaign=campaign)
    if not inspection.discontinued:
        return
    sample.discontinued = True
    sample.save(update_fields=["discontinued"])
    audit_record(
        actor=actor,
        action="campaign.inspection_discontinued",
        target=campaign,
        details={"sample_id": sample.pk, "reason": inspection.reason[:500]},
    )


def _close(sample: ReviewSample, lot_decision: str, actor: Actor, now) -> None:
    sample.lot_decision = lot_decision
    sample.lot_decided_by = actor.user
    sample.date_lot_decided = now
    sample.save(update_fields=["lot_decision", "lot_decided_by", "date_lot_decided"])
