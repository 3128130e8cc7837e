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
  sample's verdict is drawn once every sampled image is decided;
- the review page names the latest decision it showed on the image
  (``seen_review_ids``): a decision made since (a second key press, another
  tab, another reviewer) refuses the new one with a 409, so a double submit
  records one decision.

A reviewer may withdraw (undo) their latest decision on an image for
``REVIEW_UNDO_SECONDS`` after making it (``review_withdraw``): the decision is
deleted, the image takes the state it had before it, and an agency that was
sent the rejection (``image.rejected``) is sent ``image.rejection_withdrawn``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.audit import Actor, audit_record
from campaigns.inputs import NewReview
from campaigns.models import Campaign, CampaignImage, Review, ReviewSample, ReviewSampleImage, ReviewState
from campaigns.services.campaigns import campaign_images_lock, campaign_lock
from campaigns.webhooks import campaign_event_record, campaign_labeler_ids, images_rejected_event_record
from core.exceptions import Conflict, NotFound
from core.serializers import format_datetime
from core.validators import is_valid_id
from webhooks.services import webhook_event_record

Status = Campaign.Status
Decision = Review.Decision
REVIEWABLE = (Status.ACTIVE, Status.COMPLETED)
LOCKED_FIELDS = ("id", "image", "campaign", "current_submission", "review_state", "last_review")


def check_reviewable(campaign: Campaign) -> None:
    if campaign.status not in REVIEWABLE:
        raise Conflict(f"Images are reviewed while the campaign is 'active' or 'completed'; it is '{campaign.status}'")


def _check_revisions(
    reviews: Iterable[NewReview], by_image: dict[int, CampaignImage], seen_review_ids: dict[int, int | None]
) -> None:
    for review in reviews:
        row = by_image[review.image_id]
        if review.image_id in seen_review_ids and row.last_review_id != seen_review_ids[review.image_id]:
            _refuse_stale(review.image_id, row.last_review_id, seen_review_ids[review.image_id])
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


def _refuse_stale(image_id: int, latest_id: int | None, seen_id: int | None) -> None:
    """409: the image was decided (or a decision taken back) since the reviewer's page showed it."""
    latest = Review.objects.select_related("reviewer").filter(pk=latest_id).first() if latest_id else None
    if latest is None or (seen_id is not None and latest.pk < seen_id):
        raise Conflict(
            f"Image {image_id}: the decision this page showed was taken back since: this decision was not "
            "recorded; look at the image again",
            extra={"image_id": image_id},
        )
    who = latest.reviewer.email if latest.reviewer is not None else "the system"
    raise Conflict(
        f"Image {image_id} was {latest.decision} by {who} at {timezone.localtime(latest.date_created):%H:%M:%S} "
        "after this page showed it: this decision was not recorded",
        extra={"image_id": image_id, "decision": latest.decision, "review_id": latest.pk},
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
    if touched:
        _draw_verdicts(open_samples)


def _draw_verdicts(open_samples) -> None:
    """Draw (again) the verdict of each open sample whose images are all decided; clear it where one is not."""
    due = open_samples.annotate(
        undecided=Count("sample_images", filter=Q(sample_images__decision="")),
        defects_found=Count("sample_images", filter=Q(sample_images__decision=Decision.REJECTED)),
    )
    now = timezone.now()
    for sample in due:
        if sample.undecided == 0:
            verdict = sample.verdict_for(sample.defects_found)  # its gold figure may reject it too
            if (sample.verdict, sample.defects) != (verdict, sample.defects_found):
                sample.defects, sample.verdict, sample.date_verdict = sample.defects_found, verdict, now
                sample.save(update_fields=["defects", "verdict", "date_verdict"])
        elif sample.verdict:  # a decision on a sampled image was withdrawn
            sample.defects, sample.verdict, sample.date_verdict = None, "", None
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
def reviews_decide(
    *,
    campaign_id: int,
    reviews: list[NewReview],
    actor: Actor | None,
    seen_review_ids: dict[int, int | None] | None = None,
) -> list[Review]:
    """Record the decisions (``campaigns.inputs.parse_review_items``); all or nothing.

    ``seen_review_ids``: image id -> the latest decision on it the reviewer
    saw (``None``: none); an image decided since is refused (409).
    A fixed number of queries whatever the number of images.
    """
    campaign = campaign_lock(campaign_id)
    check_reviewable(campaign)
    if not reviews:
        return []
    by_image = campaign_images_lock(campaign, [review.image_id for review in reviews], fields=LOCKED_FIELDS)
    _check_revisions(reviews, by_image, seen_review_ids or {})

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


@transaction.atomic
def review_withdraw(*, campaign_id: int, image_id: int, review_id: int | None, actor: Actor) -> CampaignImage:
    """Take back (undo) a decision: the reviewer's own, the latest on the image's current revision, at most
    ``REVIEW_UNDO_SECONDS`` old, not a lot decision; 404/409 otherwise, saying why.

    The decision is deleted (the audit trail keeps it, as ``campaign.review_withdraw``) and the image takes the
    state it had before it: the previous decision on the same revision, or awaiting review. An open sample's
    record of it follows (its verdict is cleared until the image is decided again); the campaign's status follows
    as after a decision (an image labeled again may complete it, one rejected again reopens it). A withdrawn
    rejection was sent to the agency (``image.rejected``): it is sent ``image.rejection_withdrawn``.
    Returns the image's row, its state updated.
    """
    campaign = campaign_lock(campaign_id)
    check_reviewable(campaign)
    row = campaign_images_lock(campaign, [image_id], fields=LOCKED_FIELDS)[image_id]
    review = Review.objects.filter(pk=review_id, campaign_image=row).first() if is_valid_id(review_id) else None
    if review is None:
        raise NotFound(f"Image {image_id} has no such decision: it may have been withdrawn already")
    if row.last_review_id != review.pk or review.submission_id != row.current_submission_id:
        raise Conflict(f"Image {image_id} was decided or labeled again since: only its latest decision can be undone")
    if actor.user is None or review.reviewer_id != actor.user.pk:
        raise Conflict("Only the reviewer who made a decision can undo it")
    if review.sample_id is not None:
        raise Conflict("A lot decision cannot be undone")
    window = settings.REVIEW_UNDO_SECONDS
    if timezone.now() - review.date_created > timedelta(seconds=window):
        raise Conflict(f"A decision can be undone for {window} seconds after it is made; this one is older")

    previous = (
        Review.objects.filter(campaign_image=row, submission_id=row.current_submission_id, pk__lt=review.pk)
        .order_by("-pk")
        .first()
    )
    earlier = previous or Review.objects.filter(campaign_image=row, pk__lt=review.pk).order_by("-pk").first()
    state = previous.decision if previous is not None else ReviewState.PENDING
    withdrawn = {
        "image_id": image_id,
        "review_id": review.pk,
        "submission_id": review.submission_id,
        "decision": review.decision,
        "reason_code": review.reason_code,
        "reason": review.reason[:500],
        "date": format_datetime(review.date_created),
        "state": state,
    }
    review.delete()
    CampaignImage.objects.filter(pk=row.pk).update(
        review_state=state, labeled=state != ReviewState.REJECTED, last_review=earlier
    )
    row.review_state, row.last_review = state, earlier
    open_samples = ReviewSample.objects.filter(campaign=campaign, lot_decision="")
    if ReviewSampleImage.objects.filter(sample__in=open_samples, campaign_image=row).update(
        decision=state if state != ReviewState.PENDING else ""
    ):
        _draw_verdicts(open_samples)
    follow_labeled_status(campaign, rejected=state == ReviewState.REJECTED, actor=actor)
    if review.decision == Decision.REJECTED:
        webhook_event_record(
            type="image.rejection_withdrawn",
            data={
                "campaign_id": campaign.pk,
                "images": [
                    {
                        "image_id": image_id,
                        "submission_id": withdrawn["submission_id"],
                        "labeled": state != ReviewState.REJECTED,
                        "date": format_datetime(timezone.now()),
                    }
                ],
            },
            campaign_user_ids=lambda: campaign_labeler_ids(campaign.pk),
        )
    audit_record(actor=actor, action="campaign.review_withdraw", target=campaign, details=withdrawn)
    return row


def note_resubmission(*, campaign_image_ids: list[int], now) -> None:
    """The agency labeled these images again: close the rejections they answer (rework time).

    Called before the images' state moves to ``pending``: only an image still
    rejected is being reworked, and only its latest decision (the rejection)
    is answered; an earlier rejection a reviewer took back is not.
    """
    answered = CampaignImage.objects.filter(pk__in=campaign_image_ids, review_state=ReviewState.REJECTED)
    Review.objects.filter(pk__in=answered.values("last_review"), date_reworked__isnull=True).update(date_reworked=now)
