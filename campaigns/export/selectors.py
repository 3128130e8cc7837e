"""Reads behind the export: a campaign's images and their current objects, streamed.

Every reader here walks a database iterator (a server-side cursor on
PostgreSQL) ordered by image id, so a campaign of any size is read in
constant memory. Only the *current* objects of an image count: those of its
``current_submission``; superseded revisions stay stored but are never
exported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Case, F, FilteredRelation, IntegerField, Q, Value, When

from campaigns.models import BoundingBox, CampaignImage, ReviewState
from integrations.storage.base import BlobPathMixin

# Rows fetched per round trip; large enough that a 1M-object campaign is a
# few hundred fetches, small enough to keep memory flat.
CHUNK_SIZE = 5000


class ExportObject(NamedTuple):
    label: str
    confidence: float | None
    xmin: int
    ymin: int
    xmax: int
    ymax: int


@dataclass(slots=True)
class ExportImage(BlobPathMixin):
    """One campaign image with its current objects, in the labeler's order."""

    image_id: int
    blobstorage_path: str
    filetype: str
    width: int | None
    height: int | None
    labeled: bool
    objects: list[ExportObject]
    # The submission whose acceptance made this image's current revision final (``None``: not accepted).
    accepted_submission: int | None = None

    @property
    def size_known(self) -> bool:
        return bool(self.width) and bool(self.height)


_IMAGE_FIELDS = ("image_id", "image__blobstorage_path", "image__filetype", "image__width", "image__height", "labeled")
_BOX_FIELDS = tuple(f"current_box__{name}" for name in ("label", "confidence", "xmin", "ymin", "xmax", "ymax"))


def campaign_export_images(*, campaign_id: int, chunk_size: int = CHUNK_SIZE) -> Iterator[ExportImage]:
    """Every image of the campaign (ordered by image id) with its current objects (in ``position`` order).

    One query: campaign images LEFT JOIN their current objects, so an image
    without objects (unlabeled, or labeled empty) still yields one row.
    """
    rows = (
        CampaignImage.objects.filter(campaign_id=campaign_id)
        .annotate(
            current_box=FilteredRelation("boxes", condition=Q(boxes__submission_id=F("current_submission_id"))),
            accepted_submission=_accepted_submission(),
        )
        .order_by("image_id", "current_box__position", "current_box__id")
        .values_list(*_IMAGE_FIELDS, "accepted_submission", *_BOX_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    current: ExportImage | None = None
    for image_id, path, filetype, width, height, labeled, accepted, label, confidence, xmin, ymin, xmax, ymax in rows:
        if current is None or current.image_id != image_id:
            if current is not None:
                yield current
            current = ExportImage(image_id, path, filetype or "", width, height, labeled, [], accepted)
        if label is not None:
            current.objects.append(ExportObject(label, confidence, xmin, ymin, xmax, ymax))
    if current is not None:
        yield current


def _accepted_submission():
    """The current submission of an image whose current revision is accepted, else null."""
    return Case(
        When(review_state=ReviewState.ACCEPTED, then=F("current_submission_id")),
        default=Value(None),
        output_field=IntegerField(),
    )


def campaign_export_image_rows(
    *, campaign_id: int, chunk_size: int = CHUNK_SIZE, with_acceptance: bool = False
) -> Iterator[tuple]:
    """``(image_id, blobstorage_path, filetype, width, height, labeled)`` of every campaign image, by image id.

    ``with_acceptance``: each row ends with the accepted submission's id (or ``None``) too.
    """
    images = CampaignImage.objects.filter(campaign_id=campaign_id).order_by("image_id")
    if with_acceptance:
        images = images.annotate(accepted_submission=_accepted_submission())
        return images.values_list(*_IMAGE_FIELDS, "accepted_submission").iterator(chunk_size=chunk_size)
    return images.values_list(*_IMAGE_FIELDS).iterator(chunk_size=chunk_size)


def campaign_export_object_rows(*, campaign_id: int, chunk_size: int = CHUNK_SIZE) -> Iterator[tuple]:
    """``(object_id, image_id, label, confidence, xmin, ymin, xmax, ymax)`` of every current object of a labeled image.

    Ordered by image id, then the labeler's order, like the CSV.
    """
    return (
        BoundingBox.objects.current()
        .filter(campaign_image__campaign_id=campaign_id, campaign_image__labeled=True)
        .order_by("campaign_image__image_id", "position", "id")
        .values_list("id", "campaign_image__image_id", "label", "confidence", "xmin", "ymin", "xmax", "ymax")
        .iterator(chunk_size=chunk_size)
    )


def campaign_export_labels(*, campaign_id: int) -> list[str]:
    """The distinct labels of the current objects of labeled images, sorted (COCO category order)."""
    return list(
        BoundingBox.objects.current()
        .filter(campaign_image__campaign_id=campaign_id, campaign_image__labeled=True)
        .order_by("label")
        .values_list("label", flat=True)
        .distinct()
    )
