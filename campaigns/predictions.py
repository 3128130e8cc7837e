"""Pre-annotations: a model's predicted boxes, shown to the agency and compared with what it submitted.

A prediction is stored as a ``Submission`` with ``source="model"`` (and the
model's name and version) whose boxes belong to the image but never become
its current objects: the image is not labeled by it, it is never exported as
labels, and revisions pruning leaves it alone. ``PUT
/campaigns/{id}/predictions`` replaces the predictions of the listed images.

This module parses that body, reads an image's predictions beside the
agency's current submission (``GET /campaigns/{id}/images/{image_id}/objects``),
and compares the two box lists (``compare_boxes``): each predicted box
matched greedily, highest IoU first, to at most one agency box with
IoU >= ``PREDICTIONS_IOU_THRESHOLD``.

- ``kept``: same label, same coordinates;
- ``moved``: same label, coordinates changed;
- ``relabeled``: another label (coordinates changed or not);
- ``removed``: a predicted box no agency box matched;
- ``added``: an agency box no predicted box matched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import Q

from campaigns.inputs import ObjectsByImage, parse_object_items
from campaigns.matching import match_boxes
from campaigns.models import LABEL_MAX_LENGTH, BoundingBox, CampaignImage, Submission
from core.exceptions import BadRequest, NotFound, Unprocessable
from core.validators import is_valid_id

OUTCOMES = ("kept", "moved", "relabeled", "removed", "added")
MODEL = Submission.Source.MODEL


@dataclass(frozen=True, slots=True)
class NewPredictions:
    model_name: str
    model_version: str
    objects_by_image: ObjectsByImage


def _model_field(model: dict, key: str, *, required: bool) -> str:
    value = model.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        need = "is required and must be a string" if required else "must be a string or null"
        raise BadRequest(f"'model.{key}' {need}")
    if not 1 <= len(value) <= LABEL_MAX_LENGTH or "\x00" in value:
        raise Unprocessable(f"'model.{key}' must be 1-{LABEL_MAX_LENGTH} characters")
    return value


def parse_predictions(body: Any) -> NewPredictions:
    """``{"model": {"name", "version"}, "items": [<the body of PUT .../objects>]}``: 400, 413 or 422 as there."""
    if not isinstance(body, dict):
        raise BadRequest('Expected {"model": {"name": ..., "version": ...}, "items": [...]}')
    model = body.get("model")
    if not isinstance(model, dict):
        raise BadRequest("'model' is required: an object with 'name' and 'version'")
    return NewPredictions(
        model_name=_model_field(model, "name", required=True),
        model_version=_model_field(model, "version", required=False),
        objects_by_image=parse_object_items(body.get("items")),
    )


# --- comparing predicted and submitted boxes ----------------------------------------------------


class Box(NamedTuple):
    label: str
    xmin: int
    ymin: int
    xmax: int
    ymax: int


@dataclass(slots=True)
class Outcome:
    """What became of one box: ``outcome``, the agency's box and the predicted one (either may be None)."""

    outcome: str
    box: Box | None
    prediction: Box | None
    iou: float | None


def compare_boxes(predicted: Sequence[Box], submitted: Sequence[Box], *, threshold: float) -> list[Outcome]:
    """Each agency box in order (kept, moved, relabeled or added), then the predicted boxes removed.

    The matching is ``campaigns.matching.match_boxes`` (the review page's comparison of revisions).
    """
    outcomes = []
    for change in match_boxes(predicted, submitted, threshold=threshold):
        box = submitted[change.after] if change.after is not None else None
        prediction = predicted[change.before] if change.before is not None else None
        paired = box is not None and prediction is not None
        outcomes.append(Outcome(change.kind, box, prediction, round(change.iou, 6) if paired else None))
    return outcomes


def count_outcomes(outcomes: Iterable[Outcome]) -> Counter:
    return Counter(outcome.outcome for outcome in outcomes)


# --- reading one image's predictions and submission ------------------------------------------------


def image_predictions_get(*, campaign_id: int, image_id: int) -> tuple[CampaignImage, list, list]:
    """The campaign image, its predicted boxes and its current boxes (each with its submission): two queries.

    404 when the image is not part of the campaign.
    """
    campaign_image = (
        CampaignImage.objects.filter(campaign_id=campaign_id, image_id=image_id).first()
        if is_valid_id(campaign_id) and is_valid_id(image_id)
        else None
    )
    if campaign_image is None:
        raise NotFound(f"Image {image_id} is not part of campaign {campaign_id}", extra={"image_id": image_id})
    boxes = list(
        campaign_image.boxes.filter(Q(submission__source=MODEL) | Q(submission_id=campaign_image.current_submission_id))
        .select_related("submission")
        .order_by("submission_id", "position", "id")
    )
    predicted = [box for box in boxes if box.submission.source == MODEL]
    current = [box for box in boxes if box.submission_id == campaign_image.current_submission_id]
    return campaign_image, predicted, current


def model_box_rows(*, campaign_id: int, chunk_size: int = 5000) -> Iterator[tuple]:
    """``(image_id, label, xmin, ymin, xmax, ymax, model_name, model_version)`` of every predicted box, by image id."""
    return (
        BoundingBox.objects.filter(campaign_image__campaign_id=campaign_id, submission__source=MODEL)
        .order_by("campaign_image__image_id", "position", "id")
        .values_list(
            "campaign_image__image_id",
            "label",
            "xmin",
            "ymin",
            "xmax",
            "ymax",
            "submission__model_name",
            "submission__model_version",
        )
        .iterator(chunk_size=chunk_size)
    )
