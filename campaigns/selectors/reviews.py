"""Reads of the review: decisions, samples, the review page's filters and neighbours, the campaign page's panel."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Value, When

from campaigns.inputs import ReviewFilters
from campaigns.models import (
    BoundingBox,
    CampaignImage,
    Review,
    ReviewSample,
    ReviewSampleImage,
    ReviewState,
    Submission,
)
from core.exceptions import NotFound
from core.validators import is_valid_id as _valid_id
from imagesets.models import Image


def review_list(*, campaign_id: int, filters: ReviewFilters) -> QuerySet[Review]:
    """Every decision on the campaign's images, newest first, with the image id and the reviewer (one query)."""
    reviews = Review.objects.filter(campaign_id=campaign_id)
    if filters.decision is not None:
        reviews = reviews.filter(decision=filters.decision)
    if filters.image_id is not None:
        reviews = reviews.filter(campaign_image__image_id=filters.image_id)
    if filters.reviewer is not None:
        reviews = reviews.filter(reviewer__email__iexact=filters.reviewer)
    if filters.since is not None:
        reviews = reviews.filter(date_created__gte=filters.since)
    if filters.until is not None:
        reviews = reviews.filter(date_created__lt=filters.until)
    return reviews.select_related("campaign_image", "reviewer").order_by("-pk")


def sample_get(*, campaign_id: int, sample_id: int) -> ReviewSample:
    """One acceptance sample of the campaign with its progress (one query); 404 if unknown."""
    sample = (
        ReviewSample.objects.filter(campaign_id=campaign_id, pk=sample_id)
        .select_related("created_by", "lot_decided_by")
        .annotate(
            decided=Count("sample_images", filter=~Q(sample_images__decision="")),
            rejected=Count("sample_images", filter=Q(sample_images__decision=Review.Decision.REJECTED)),
        )
        .first()
        if _valid_id(campaign_id) and _valid_id(sample_id)
        else None
    )
    if sample is None:
        raise NotFound(f"Sample {sample_id} of campaign {campaign_id} not found")
    return sample


def sample_list(*, campaign_id: int) -> QuerySet[ReviewSample]:
    return (
        ReviewSample.objects.filter(campaign_id=campaign_id)
        .select_related("created_by", "lot_decided_by")
        .annotate(
            decided=Count("sample_images", filter=~Q(sample_images__decision="")),
            rejected=Count("sample_images", filter=Q(sample_images__decision=Review.Decision.REJECTED)),
        )
        .order_by("-pk")
    )


def sample_image_ids(*, sample: ReviewSample) -> list[tuple[int, str]]:
    """``(image_id, decision)`` of a sample's images in the order drawn."""
    return list(
        ReviewSampleImage.objects.filter(sample=sample)
        .order_by("position")
        .values_list("campaign_image__image_id", "decision")
    )


# The review page's filters: every image, not labeled yet, labeled with boxes, labeled empty, and the review states.
REVIEW_FILTERS = ("all", "unlabeled", "labeled", "empty", "pending", "accepted", "rejected")
_STATE_FILTERS = {"pending": ReviewState.PENDING, "accepted": ReviewState.ACCEPTED, "rejected": ReviewState.REJECTED}


def _holds_current_boxes(label: str | None = None):
    boxes = BoundingBox.objects.filter(
        campaign_image_id=OuterRef("pk"), submission_id=OuterRef("current_submission_id")
    )
    return Exists(boxes.filter(label=label) if label is not None else boxes)


def _scoped(campaign_id: int, label: str | None, sample_id: int | None) -> QuerySet[CampaignImage]:
    images = CampaignImage.objects.filter(campaign_id=campaign_id)
    if label is not None:
        images = images.filter(_holds_current_boxes(label))
    if sample_id is not None:
        images = images.filter(pk__in=ReviewSampleImage.objects.filter(sample_id=sample_id).values("campaign_image"))
    return images


def review_images(
    *, campaign_id: int, show: str, label: str | None = None, sample_id: int | None = None
) -> QuerySet[CampaignImage]:
    """The campaign's images in one review filter (``REVIEW_FILTERS``), optionally only those with a ``label``
    box or drawn into a sample."""
    images = _scoped(campaign_id, label, sample_id)
    if show == "unlabeled":
        return images.filter(labeled=False)
    if show == "labeled":
        return images.filter(_holds_current_boxes(), labeled=True)
    if show == "empty":
        return images.filter(~_holds_current_boxes(), labeled=True)
    if show in _STATE_FILTERS:
        return images.filter(review_state=_STATE_FILTERS[show])
    return images


def review_counts(*, campaign_id: int, label: str | None = None, sample_id: int | None = None) -> dict[str, int]:
    """How many images each review filter holds, in one query."""
    images = _scoped(campaign_id, label, sample_id)
    counts = images.annotate(holds_boxes=_holds_current_boxes()).aggregate(
        n_all=Count("pk"),
        n_unlabeled=Count("pk", filter=Q(labeled=False)),
        n_labeled=Count("pk", filter=Q(labeled=True, holds_boxes=True)),
        n_empty=Count("pk", filter=Q(labeled=True, holds_boxes=False)),
        **{f"n_{name}": Count("pk", filter=Q(review_state=state)) for name, state in _STATE_FILTERS.items()},
    )
    return {name: counts[f"n_{name}"] or 0 for name in REVIEW_FILTERS}


def review_labels(*, campaign_id: int) -> list[str]:
    """The labels of the campaign's current boxes, sorted (the review page's label filter)."""
    return list(
        BoundingBox.objects.current()
        .filter(campaign_image__campaign_id=campaign_id)
        .order_by("label")
        .values_list("label", flat=True)
        .distinct()
    )


def _pending_after(campaign_id: int, after_image_id: int, sample_id: int | None) -> QuerySet[CampaignImage]:
    return (
        _scoped(campaign_id, None, sample_id)
        .filter(review_state=ReviewState.PENDING)
        .exclude(image_id=after_image_id)
        .annotate(wrapped=Case(When(image_id__lt=after_image_id, then=Value(1)), default=Value(0)))
        .order_by("wrapped", "image_id")
    )


def review_next_pending(*, campaign_id: int, after_image_id: int, sample_id: int | None = None) -> int | None:
    """The next image awaiting review after this one (by image id, wrapping around); ``None`` when none waits.

    One query: the images after this one first, then those before it (of the sample only, with ``sample_id``).
    """
    return _pending_after(campaign_id, after_image_id, sample_id).values_list("image_id", flat=True).first()


def review_next_pending_images(
    *, campaign_id: int, after_image_id: int, sample_id: int | None = None, limit: int = 2
) -> list[Image]:
    """The next ``limit`` images awaiting review after this one, ``review_next_pending``'s first (the review page
    prefetches them), in one query."""
    rows = _pending_after(campaign_id, after_image_id, sample_id).select_related("image")[:limit]
    return [row.image for row in rows]


def review_first_image_id(
    *, campaign_id: int, show: str, label: str | None = None, sample_id: int | None = None
) -> int | None:
    """The first image (by id) in a review filter, or ``None`` when the filter is empty."""
    images = review_images(campaign_id=campaign_id, show=show, label=label, sample_id=sample_id)
    return images.order_by("image_id").values_list("image_id", flat=True).first()


def review_image(*, campaign_id: int, image_id: int) -> CampaignImage | None:
    """One image of the campaign with its image, set and current submission's user; ``None`` if not in it."""
    return (
        CampaignImage.objects.select_related(
            "image__imageset", "current_submission__user", "last_review__reviewer", "campaign"
        )
        .filter(campaign_id=campaign_id, image_id=image_id)
        .first()
    )


@dataclass(frozen=True)
class ReviewPlace:
    """Where a review image stands in a filter: its neighbours, and its 1-based position (``None``: not in it)."""

    previous_id: int | None
    next_id: int | None
    position: int | None


def review_place(
    *, row: CampaignImage, show: str, label: str | None = None, sample_id: int | None = None
) -> ReviewPlace:
    """The image before and after ``row`` in the filter, and its position there (at most four small queries)."""
    images = review_images(campaign_id=row.campaign_id, show=show, label=label, sample_id=sample_id)
    image_id = row.image_id
    previous_id = images.filter(image_id__lt=image_id).order_by("-image_id").values_list("image_id", flat=True).first()
    next_id = images.filter(image_id__gt=image_id).order_by("image_id").values_list("image_id", flat=True).first()
    in_filter = images.filter(pk=row.pk).exists()
    position = images.filter(image_id__lte=image_id).count() if in_filter else None
    return ReviewPlace(previous_id=previous_id, next_id=next_id, position=position)


def campaign_image_revisions(*, row: CampaignImage) -> list[tuple[Submission, int]]:
    """Every submission that labeled this image (newest first) with its number of boxes for it.

    A submission that labeled the image empty left no box; it is known
    only while it is the current one.
    """
    counts = dict(  # the agency's revisions only: a model's predictions are no revision of the image
        BoundingBox.objects.filter(campaign_image=row, submission__source=Submission.Source.AGENCY)
        .order_by()
        .values_list("submission_id")
        .annotate(n=Count("pk"))
    )
    ids = set(counts)
    if row.current_submission_id is not None:
        ids.add(row.current_submission_id)
    if not ids:
        return []
    submissions = Submission.objects.filter(pk__in=ids).select_related("user").order_by("-pk")
    return [(submission, counts.get(submission.pk, 0)) for submission in submissions]


def submission_boxes(*, row: CampaignImage, submission_id: int) -> list[BoundingBox]:
    """The boxes one submission gave this image, in the order sent."""
    return list(BoundingBox.objects.filter(campaign_image=row, submission_id=submission_id).order_by("position", "pk"))


def prediction_boxes(*, row: CampaignImage) -> list[BoundingBox]:
    """A model's predicted boxes for this image (pre-annotations), in the order sent, with their submission (the
    model's name and version): one query."""
    return list(
        BoundingBox.objects.filter(campaign_image=row, submission__source=Submission.Source.MODEL)
        .select_related("submission")
        .order_by("submission_id", "position", "pk")
    )


def review_last_decision(*, campaign_id: int, reviewer_id: int, since) -> Review | None:
    """The reviewer's latest decision on the campaign's images made at ``since`` or later (not a lot decision),
    with its image row; ``None`` if none (one query). The review page offers to withdraw it."""
    return (
        Review.objects.filter(
            campaign_id=campaign_id, reviewer_id=reviewer_id, sample__isnull=True, date_created__gte=since
        )
        .select_related("campaign_image")
        .order_by("-pk")
        .first()
    )


# --- the campaign page's review panel ------------------------------------------------------


def campaign_review_summary(*, campaign_id: int) -> dict[str, int]:
    """How many of the campaign's images are in each review state (one query)."""
    counts = CampaignImage.objects.filter(campaign_id=campaign_id).aggregate(
        **{state: Count("pk", filter=Q(review_state=state)) for state in ReviewState.values}
    )
    return {state: counts[state] or 0 for state in ReviewState.values}


def campaign_latest_sample(*, campaign_id: int) -> ReviewSample | None:
    """The campaign's newest sample with its progress, or ``None`` (one query)."""
    return sample_list(campaign_id=campaign_id).first()
