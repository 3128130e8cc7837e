"""Scoring gold images: each agency submission of one, and the current submission when its reference changes.

Bulk in both cases: a fixed number of queries whatever the number of images
(the gold images and their reference boxes, the submitted boxes, one UPDATE
retiring the images' previous latest scores, two INSERTs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from campaigns.models import BoundingBox, GoldBox, GoldImage, GoldScore, GoldScoreLabel, Submission
from campaigns.scoring import score_boxes


def _golds_with_boxes(golds):
    return golds.prefetch_related(Prefetch("boxes", queryset=GoldBox.objects.order_by("position")))


def _store_scores(rows: Iterable[tuple[GoldImage, int, datetime, list[BoundingBox]]]) -> int:
    """Score each ``(gold image, submission id, submission date, submitted boxes)`` and store it as the latest."""
    threshold = settings.GOLD_IOU_THRESHOLD
    now = timezone.now()
    scores: list[GoldScore] = []
    label_counts = []
    for gold, submission_id, submitted_at, boxes in rows:
        score = score_boxes(list(gold.boxes.all()), boxes, threshold=threshold)
        figures = score.figures()
        scores.append(
            GoldScore(
                gold=gold,
                campaign_id=gold.campaign_id,
                submission_id=submission_id,
                latest=True,
                tp=score.tp,
                fp=score.fp,
                fn=score.fn,
                iou_sum=score.iou_sum,
                matched=score.matched,
                precision=figures["precision"],
                recall=figures["recall"],
                f1=figures["f1"],
                mean_iou=figures["mean_iou"],
                date_submitted=submitted_at,
                date_scored=now,
            )
        )
        label_counts.append(score.by_label)
    if not scores:
        return 0
    GoldScore.objects.filter(gold__in=[score.gold_id for score in scores], latest=True).update(latest=False)
    GoldScore.objects.bulk_create(scores)
    GoldScoreLabel.objects.bulk_create(
        GoldScoreLabel(score=score, label=label, tp=counts.tp, fp=counts.fp, fn=counts.fn)
        for score, by_label in zip(scores, label_counts, strict=True)
        for label, counts in by_label.items()
    )
    return len(scores)


def gold_score_submission(*, submission: Submission, campaign_image_ids: list[int]) -> int:
    """Score the gold images among the submission's images (campaign image ids); see ``gold_score_submissions``."""
    return gold_score_submissions(submissions=[(submission, campaign_image_ids)])


def gold_score_submissions(*, submissions: list[tuple[Submission, list[int]]]) -> int:
    """Score the gold images among each submission's images; their new scores become the latest.

    ``submissions``: each submission of one delivery with its campaign image
    ids (one submission per annotator named). Called by ``objects_replace`` in
    its transaction, after the boxes are stored. One query when none of the
    images is gold, five when some are, however many submissions. Returns the
    number of images scored.
    """
    submission_of = {campaign_image_id: submission for submission, ids in submissions for campaign_image_id in ids}
    if not submission_of:
        return 0
    campaign_id = submissions[0][0].campaign_id
    golds = list(
        _golds_with_boxes(GoldImage.objects.filter(campaign_id=campaign_id, campaign_image_id__in=list(submission_of)))
    )
    if not golds:
        return 0
    submitted: dict[int, list[BoundingBox]] = defaultdict(list)
    for box in BoundingBox.objects.filter(
        submission_id__in={submission.pk for submission, _ in submissions},
        campaign_image_id__in=[gold.campaign_image_id for gold in golds],
    ).order_by("campaign_image_id", "position"):
        if box.submission_id == submission_of[box.campaign_image_id].pk:
            submitted[box.campaign_image_id].append(box)
    return _store_scores(
        (
            gold,
            submission_of[gold.campaign_image_id].pk,
            submission_of[gold.campaign_image_id].date_created,
            submitted[gold.campaign_image_id],
        )
        for gold in golds
    )


def gold_rescore(*, gold_ids: list[int]) -> int:
    """After the references of these gold images changed: drop their scores, score their current submissions.

    Scores against a reference that was wrong mean nothing, so they go
    (history included); an image the agency has not delivered yet stays
    unscored. Returns the number of images scored.
    """
    GoldScore.objects.filter(gold_id__in=gold_ids).delete()
    golds = list(
        _golds_with_boxes(
            GoldImage.objects.filter(pk__in=gold_ids, campaign_image__current_submission__isnull=False).select_related(
                "campaign_image__current_submission"
            )
        )
    )
    if not golds:
        return 0
    submitted: dict[int, list[BoundingBox]] = defaultdict(list)
    for box in (
        BoundingBox.objects.current()
        .filter(campaign_image_id__in=[gold.campaign_image_id for gold in golds])
        .order_by("campaign_image_id", "position")
    ):
        submitted[box.campaign_image_id].append(box)
    return _store_scores(
        (
            gold,
            gold.campaign_image.current_submission_id,
            gold.campaign_image.current_submission.date_created,
            submitted[gold.campaign_image_id],
        )
        for gold in golds
    )
