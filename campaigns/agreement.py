"""Agreement between two agencies labeling the same images: two campaigns' current boxes scored one against the other.

The images compared are those both campaigns hold and both count as labeled
(a current revision pending review or accepted; a rejected one waits for its
resubmission). On each, one campaign's current boxes are the reference and
the other's the submission of ``campaigns.scoring.score_boxes`` (one to one
by IoU, same label, IoU >= ``GOLD_IOU_THRESHOLD``), so the figures are those
of gold scoring: true positives are boxes both drew, a box only one drew is
a false positive or a false negative. F1 and the mean IoU do not depend on
which campaign is the reference (precision and recall would swap), so only
they are given. The campaign's figures pool the counts over the images
(summed, then divided), per label too; each image's own F1 orders the
disagreements, lowest first (ties by image id): an image scoring 1 (both
drew the same boxes, or both none) is no disagreement.

The read is a constant number of queries, however many images: the shared
images, then each campaign's current boxes on them, all three ordered by
image id and merged as they stream (server-side cursors on PostgreSQL), so
memory holds one image's boxes at a time plus one ``(image id, F1)`` pair
per disagreeing image. The scoring is Python's (seconds for 100,000 images
of 10 boxes), so ``campaign_agreement_cached`` keeps a result as long as
neither campaign's labeled images change: the pages of the disagreements,
the statistics page and the review page's walk read it back.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Sum

from campaigns.models import BoundingBox, Campaign, CampaignImage
from campaigns.scoring import ImageScore, LabelCounts, figures, score_boxes
from core.exceptions import NotFound
from core.validators import is_valid_id

logger = logging.getLogger(__name__)

# Rows fetched per round trip when streaming boxes.
CHUNK_SIZE = 5000
# How long the review page keeps a walk's order (``disagreement_walk``).
WALK_CACHE_SECONDS = 30 * 60
# How long a computed agreement is kept for the same labeled images (``campaign_agreement_cached``).
AGREEMENT_CACHE_SECONDS = 60 * 60


class Box(NamedTuple):
    """A box (``campaigns.matching.BoxLike``)."""

    label: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float


class StoredBox(NamedTuple):
    """One current box of an image as read, its image's id first (a ``BoxLike`` too)."""

    image_id: int
    label: str
    xmin: int
    ymin: int
    xmax: int
    ymax: int


@dataclass
class Counts:
    """True and false positives, misses, the IoU sum of the matched pairs: what pools."""

    images: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    iou_sum: float = 0.0

    def add(self, score: ImageScore) -> None:
        self.images += 1
        self.tp += score.tp
        self.fp += score.fp
        self.fn += score.fn
        self.iou_sum += score.iou_sum

    def figures(self) -> dict[str, float | None]:
        """``{"f1", "mean_iou"}`` of the pooled counts; both None without an image."""
        if not self.images:
            return {"f1": None, "mean_iou": None}
        pooled = figures(tp=self.tp, fp=self.fp, fn=self.fn, iou_sum=self.iou_sum, matched=self.tp)
        return {"f1": pooled["f1"], "mean_iou": pooled["mean_iou"]}


@dataclass
class Agreement:
    """Campaign ``campaign_id`` against ``other_id`` over their shared labeled images."""

    campaign_id: int
    other_id: int
    threshold: float
    total: Counts = field(default_factory=Counts)
    by_label: dict[str, LabelCounts] = field(default_factory=dict)
    # The annotator of ``campaign_id``'s current revision ("" when it named none): that annotator's images.
    by_annotator: dict[str, Counts] = field(default_factory=dict)
    # (image id, F1) of every image scoring below 1, lowest first.
    disagreements: list[tuple[int, float]] = field(default_factory=list)

    @property
    def images(self) -> int:
        return self.total.images

    def label_figures(self) -> dict[str, dict[str, float]]:
        return {
            label: {"f1": figures(tp=counts.tp, fp=counts.fp, fn=counts.fn)["f1"]}
            for label, counts in sorted(self.by_label.items())
        }


def check_campaigns(*, campaign_id: int, other_id: int) -> None:
    """404 unless both campaigns exist (one query), naming the one missing."""
    ids = [pk for pk in (campaign_id, other_id) if is_valid_id(pk)]  # an id past any row never reaches a query
    found = set(Campaign.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if campaign_id not in found:
        raise NotFound(f"Campaign {campaign_id} not found")
    if other_id not in found:
        raise NotFound(f"Campaign {other_id} (named by 'with') not found")


def iou_threshold() -> float:
    """The IoU a pair of boxes needs to count as the same box: gold scoring's (``GOLD_IOU_THRESHOLD``)."""
    return settings.GOLD_IOU_THRESHOLD


def _labeled_in(campaign_id: int, image_ref: str):
    """Whether the image ``image_ref`` names is labeled in that campaign (a correlated EXISTS)."""
    return Exists(CampaignImage.objects.filter(campaign_id=campaign_id, labeled=True, image_id=OuterRef(image_ref)))


def shared_images(*, campaign_id: int, other_id: int) -> QuerySet[CampaignImage]:
    """``campaign_id``'s rows of the images both campaigns hold and count as labeled, by image id."""
    return (
        CampaignImage.objects.filter(campaign_id=campaign_id, labeled=True)
        .filter(_labeled_in(other_id, "image_id"))
        .order_by("image_id")
    )


def _current_boxes(campaign_id: int, other_id: int, *, chunk_size: int) -> Iterator[StoredBox]:
    """The campaign's current boxes on the shared images, by image id, then in the labeler's order."""
    rows = (
        BoundingBox.objects.filter(
            campaign_image__campaign_id=campaign_id,
            campaign_image__labeled=True,
            submission_id=F("campaign_image__current_submission_id"),
        )
        .filter(_labeled_in(other_id, "campaign_image__image_id"))
        .order_by("campaign_image__image_id", "position", "id")
        .values_list("campaign_image__image_id", "label", "xmin", "ymin", "xmax", "ymax")
        .iterator(chunk_size=chunk_size)
    )
    return map(StoredBox._make, rows)


class _BoxesByImage:
    """One campaign's box rows, ordered by image id, handed out image by image."""

    def __init__(self, rows: Iterator[StoredBox]):
        self.groups = groupby(rows, key=itemgetter(0))
        self.pending = next(self.groups, None)

    def take(self, image_id: int) -> list[StoredBox]:
        while self.pending is not None and self.pending[0] < image_id:
            self.pending = next(self.groups, None)
        if self.pending is None or self.pending[0] != image_id:
            return []
        boxes = list(self.pending[1])
        self.pending = next(self.groups, None)
        return boxes


def paired_boxes(
    *, campaign_id: int, other_id: int, image_fields: tuple[str, ...] = (), chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[tuple, list[StoredBox], list[StoredBox]]]:
    """``(image row, campaign_id's boxes, other_id's boxes)`` of each shared image, by image id (three queries).

    The image row is ``(image_id, *image_fields)`` (``CampaignImage`` fields of ``campaign_id``'s row).
    """
    images = (
        shared_images(campaign_id=campaign_id, other_id=other_id)
        .values_list("image_id", *image_fields)
        .iterator(chunk_size=chunk_size)
    )
    ours = _BoxesByImage(_current_boxes(campaign_id, other_id, chunk_size=chunk_size))
    theirs = _BoxesByImage(_current_boxes(other_id, campaign_id, chunk_size=chunk_size))
    for image in images:
        yield image, ours.take(image[0]), theirs.take(image[0])


def image_scores(
    *, campaign_id: int, other_id: int, threshold: float | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[int, str, ImageScore]]:
    """``(image_id, annotator, score)`` of each shared image, by image id: ``other_id``'s boxes scored against
    ``campaign_id``'s; ``annotator`` is that of ``campaign_id``'s current revision."""
    threshold = iou_threshold() if threshold is None else threshold
    for (image_id, annotator), reference, submitted in paired_boxes(
        campaign_id=campaign_id,
        other_id=other_id,
        image_fields=("current_submission__annotator",),
        chunk_size=chunk_size,
    ):
        yield image_id, annotator or "", score_boxes(reference, submitted, threshold=threshold)


def campaign_agreement(
    *, campaign_id: int, other_id: int, threshold: float | None = None, chunk_size: int = CHUNK_SIZE
) -> Agreement:
    """How ``campaign_id`` and ``other_id`` agree on their shared labeled images (three queries).

    The caller checks that both campaigns exist (``check_campaigns``) and differ.
    """
    threshold = iou_threshold() if threshold is None else threshold
    agreement = Agreement(campaign_id=campaign_id, other_id=other_id, threshold=threshold)
    by_label: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_annotator: dict[str, Counts] = defaultdict(Counts)
    for image_id, annotator, score in image_scores(
        campaign_id=campaign_id, other_id=other_id, threshold=threshold, chunk_size=chunk_size
    ):
        agreement.total.add(score)
        by_annotator[annotator].add(score)
        for label, counts in score.by_label.items():
            totals = by_label[label]
            totals[0] += counts.tp
            totals[1] += counts.fp
            totals[2] += counts.fn
        if score.fp or score.fn:  # F1 below 1
            agreement.disagreements.append((image_id, figures(tp=score.tp, fp=score.fp, fn=score.fn)["f1"]))
    agreement.disagreements.sort(key=lambda pair: (pair[1], pair[0]))
    agreement.by_label = {label: LabelCounts(*totals) for label, totals in sorted(by_label.items())}
    agreement.by_annotator = dict(sorted(by_annotator.items()))
    return agreement


def _cached(key: str, compute, seconds: int, *, refresh: bool = False):
    """``compute()``, kept in the cache under ``key``; a cache that does not answer costs a computation, not
    the answer."""
    if not refresh:
        try:
            value = cache.get(key)
        except Exception:  # noqa: BLE001 - e.g. Redis down, or an entry another release pickled
            logger.warning("could not read %s from the cache", key, exc_info=True)
            value = None
        if value is not None:
            return value
    value = compute()
    try:
        cache.set(key, value, seconds)
    except Exception:  # noqa: BLE001
        logger.warning("could not keep %s in the cache", key, exc_info=True)
    return value


def labeled_fingerprint(*, campaign_ids: list[int]) -> tuple:
    """What the agreement of these campaigns depends on, summed up in one query: per campaign the count of
    labeled images and the sums of their image and current submission ids.

    An agreement is a function of each campaign's labeled images and their
    current submissions (a submission's boxes never change), so a new
    delivery, a rejection, a withdrawn decision, an image added or removed
    all change the fingerprint; only changes that cancel out on all three
    sums at once could leave it the same.
    """
    rows = (
        CampaignImage.objects.filter(campaign_id__in=campaign_ids, labeled=True)
        .values("campaign_id")
        .order_by("campaign_id")
        .annotate(n=Count("pk"), images=Sum("image_id"), submissions=Sum("current_submission_id"))
        .values_list("campaign_id", "n", "images", "submissions")
    )
    return tuple(rows)


def campaign_agreement_cached(*, campaign_id: int, other_id: int) -> Agreement:
    """``campaign_agreement``, kept in the cache for ``AGREEMENT_CACHE_SECONDS`` under the two campaigns'
    ``labeled_fingerprint`` and the threshold: one query when nothing it depends on changed since (the pages
    of the disagreements, the statistics page read again), four otherwise."""
    threshold = iou_threshold()
    state = (campaign_id, other_id, threshold, labeled_fingerprint(campaign_ids=[campaign_id, other_id]))
    key = "campaigns:agreement:" + hashlib.sha256(repr(state).encode()).hexdigest()
    return _cached(
        key,
        lambda: campaign_agreement(campaign_id=campaign_id, other_id=other_id, threshold=threshold),
        AGREEMENT_CACHE_SECONDS,
    )


def disagreement_walk(*, campaign_id: int, other_id: int, refresh: bool = False) -> list[tuple[int, float]]:
    """``(image id, F1)`` of the images the two campaigns disagree on, lowest F1 first: the review page's walk.

    Taken when a walk starts (``refresh``) and kept as it was for
    ``WALK_CACHE_SECONDS``: each page of the walk reads the same order, even
    after a decision on one of its images (a rejection takes the image out of
    the agreement, but not out of the walk under way).
    """
    return _cached(
        f"campaigns:agreement-walk:{campaign_id}:{other_id}",
        lambda: campaign_agreement_cached(campaign_id=campaign_id, other_id=other_id).disagreements,
        WALK_CACHE_SECONDS,
        refresh=refresh,
    )
