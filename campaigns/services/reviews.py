"""Reviews: staff accept or reject an image's current revision; a rejection sends the image back to the agency.

Every decision is a ``Review`` row (the history); the latest counts and is
mirrored on the image (``review_state``, ``last_review``, ``labeled``), so
lists, filters and statistics read one column. The rules:

- only while the campaign is ``active`` or ``completed`` (409 otherwise);
- an image is judged on its current revision; a decision naming another
  (``submission_id``: the revision the reviewer saw) is a 409, so a review
  racing a resubmission binds to the revision it saw or is refused;
- a rejection makes the image unlabeled again and reopens a completed
  campaign; an acceptance that leaves nothing unlabeled completes it;
- an image in an open acceptance sample records the decision there, and the
  sample's verdict is drawn once every sampled image is decided.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.audit import Actor, audit_record
from campaigns.inputs import NewReview
from campaigns.models import Campaign, CampaignImage, Review, ReviewSample, ReviewSampleImage, ReviewState
from campaigns.services.campaigns import campaign_images_lock, campaign_lock
from campaigns.webhooks import campaign_event_record, images_rejected_event_record
from core.exceptions import Conflict

Status = Campaign.Status
Decision = Review.Decision
REVIEWABLE = (Status.ACTIVE, Status.COMPLETED)
LOCKED_FIELDS = ("id", "image", "campaign", "current_submission", "review_state")


def check_reviewable(campaign: Campaign) -> None:
    if campaign.status not in REVIEWABLE:
        raise Conflict(f"Images are reviewed while the campaign is 'active' or 'completed'; it is '{campaign.status}'")


def _check_revisions(reviews: Iterable[NewReview], by_image: dict[int, CampaignImage]) -> None:
    for review in reviews:
        row = by_image[review.image_id]
        if row.current_submission_id is None:
            raise Conflict(
                f"Image {review.image_id} has not been labeled yet: there is nothing to review",
                extra={"image_id": review.image_id},
            )
        if review.submission_id is not None and review.submission_id != row.current_submission_id:
            raise Conflict(
                f"Image {review.image_id}: submission {review.submission_id} is not its current revision "
                f"(submission {row.current_submission_id}); review that one",
                extra={"image_id": review.image_id, "current_submission_id": row.current_submission_id},
            )


def _latest_review():
    return Subquery(Review.objects.filter(campaign_image=OuterRef("pk")).order_by("-pk").values("pk")[:1])


def mirror_decisions(*, campaign_image_ids: dict[str, list[int]]) -> None:
    """Put the latest decision on the images: state, labeled, ``last_review`` (one UPDATE per decision)."""
    for decision, ids in campaign_image_ids.items():
        if ids:
            CampaignImage.objects.filter(pk__in=ids).update(
                review_state=decision, labeled=decision == Decision.ACCEPTED, last_review=_latest_review()
            )


def record_in_open_samples(*, campaign: Campaign, campaign_image_ids: dict[str, list[int]]) -> None:
    """Record decisions on images drawn into the campaign's open samples, then (re)draw their verdicts.

    The decision judged the image's current revision, which the sample image
    now names: a sampled image labeled again after the draw, then reviewed,
    counts in the verdict with its new revision. A verdict already drawn is
    drawn again, since a reviewer may have changed a sampled decision.
    """
    open_samples = ReviewSample.objects.filter(campaign=campaign, lot_decision="")
    current = CampaignImage.objects.filter(pk=OuterRef("campaign_image_id")).values("current_submission_id")[:1]
    touched = False
    for decision, ids in campaign_image_ids.items():
        if ids:
            touched |= bool(
                ReviewSampleImage.objects.filter(sample__in=open_samples, campaign_image_id__in=ids).update(
                    decision=decision, submission_id=Subquery(current)
                )
            )
    if not touched:
        return
    due = open_samples.annotate(
        undecided=Count("sample_images", filter=Q(sample_images__decision="")),
        defects_found=Count("sample_images", filter=Q(sample_images__decision=Decision.REJECTED)),
    )
    now = timezone.now()
    for sample in due:
        if sample.undecided == 0:
            verdict = (
                ReviewSample.Verdict.ACCEPT
                if sample.defects_found <= sample.acceptance_number
                else ReviewSample.Verdict.REJECT
            )
            if (sample.verdict, sample.defects) != (verdict, sample.defects_found):
                sample.defects, sample.verdict, sample.date_verdict = sample.defects_found, verdict, now
                sample.save(update_fields=["defects", "verdict", "date_verdict"])


def follow_labeled_status(campaign: Campaign, *, rejected: bool, actor: Actor | None) -> None:
    """A rejection reopens a completed campaign; a campaign with nothing unlabeled left completes."""
    current = campaign.status
    if rejected and current == Status.COMPLETED:
        campaign.status = Status.ACTIVE
        campaign.date_completed = None
        why = "an image was rejected"
    elif (
        not rejected
        and current == Status.ACTIVE
        and not CampaignImage.objects.filter(campaign=campaign, labeled=False).exists()
    ):
        campaign.status = Status.COMPLETED
        campaign.date_completed = timezone.now()
        why = "every image is labeled"
    else:
        return
    campaign.save(update_fields=["status", "date_completed"])
    audit_record(
        actor=actor,
        action="campaign.status",
        target=campaign,
        details={"from": current, "to": campaign.status, "why": why},
    )
    campaign_event_record(campaign=campaign)


@transaction.atomic
def reviews_decide(*, campaign_id: int, reviews: list[NewReview], actor: Actor | None) -> list[Review]:
    """Record the decisions (``campaigns.inputs.parse_review_items``); all or nothing.

    A fixed number of queries whatever the number of images.
    """
    campaign = campaign_lock(campaign_id)
    check_reviewable(campaign)
    if not reviews:
        return []
    by_image = campaign_images_lock(campaign, [review.image_id for review in reviews], fields=LOCKED_FIELDS)
    _check_revisions(reviews, by_image)

    actor = actor or Actor.system()
    now = timezone.now()
    created = Review.objects.bulk_create(
        [
            Review(
                campaign=campaign,
                campaign_image_id=by_image[review.image_id].pk,
                submission_id=by_image[review.image_id].current_submission_id,
                decision=review.decision,
                reason=review.reason,
                reason_code=review.reason_code,
                reviewer=actor.user,
                api_key=actor.api_key,
                date_created=now,
            )
            for review in reviews
        ],
        batch_size=500,
    )
    by_decision = {
        decision: [by_image[r.image_id].pk for r in reviews if r.decision == decision] for decision in Decision.values
    }
    mirror_decisions(campaign_image_ids=by_decision)
    record_in_open_samples(campaign=campaign, campaign_image_ids=by_decision)
    follow_labeled_status(campaign, rejected=bool(by_decision[Decision.REJECTED]), actor=actor)
    images_rejected_event_record(
        campaign_id=campaign.pk,
        reviews=created,
        image_ids={row.pk: image_id for image_id, row in by_image.items()},
    )
    audit_record(
        actor=actor,
        action="campaign.review",
        target=campaign,
        details={
            "accepted": len(by_decision[Decision.ACCEPTED]),
            "rejected": len(by_decision[Decision.REJECTED]),
            "image_ids": [review.image_id for review in reviews][:1000],
        },
    )
    return created


def note_resubmission(*, campaign_image_ids: list[int], now) -> None:
    """The agency labeled these images again: close the rejections they answer (rework time).

    Called before the images' state moves to ``pending``: only an image still
    rejected is being reworked, and only its latest decision (the rejection)
    is answered; an earlier rejection a reviewer took back is not.
    """
    answered = CampaignImage.objects.filter(pk__in=campaign_image_ids, review_state=ReviewState.REJECTED)
    Review.objects.filter(pk__in=answered.values("last_review"), date_reworked__isnull=True).update(date_reworked=now)
