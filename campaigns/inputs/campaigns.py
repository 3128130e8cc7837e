"""The input of the campaign and object endpoints: the values of ``POST /campaigns`` (its input
serializer, ``campaigns.serializers.CampaignCreateInputSerializer``, and the admin's forms check them
with these) and the body of ``PUT /campaigns/{id}/objects``; the package's docstring says how input is checked."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from campaigns.models import ANNOTATOR_MAX_LENGTH, LABEL_MAX_LENGTH
from campaigns.sampling import AQLS, DEFAULT_AQL, aql_column
from core.exceptions import ApplicationError, BadRequest, Unprocessable
from core.validators import (
    COORDINATE_MAX,
    check_images_per_request,
    contains_nul,
    is_json_int,
    json_problem,
)

EMAIL_MAX_LENGTH = 254
BOX_COORDINATES = ("xmin", "xmax", "ymin", "ymax")


@dataclass(frozen=True, slots=True)
class NewCampaign:
    title: str
    labeler_email: str
    metadata: dict | None
    label_translations: dict[str, str] | None
    review_required: bool = False
    aql: Decimal = DEFAULT_AQL
    labels: list[dict] | None = None
    gold_min_f1: Decimal | None = None


@dataclass(frozen=True, slots=True)
class NewObject:
    """One object (a labeled box) of ``PUT /campaigns/{id}/objects``."""

    label: str
    label_translated: str | None
    confidence: float | None
    xmin: int
    xmax: int
    ymin: int
    ymax: int


# The parsed body of ``PUT /campaigns/{id}/objects``: each image id with its new objects.
ObjectsByImage = list[tuple[int, list[NewObject]]]

# An annotator: the agency's own id of the worker who labeled an image, never a person's e-mail
# (the OpenAPI document publishes the same pattern; Python's ``fullmatch`` anchors it).
ANNOTATOR_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._:-]{{0,{ANNOTATOR_MAX_LENGTH - 1}}}$"
_ANNOTATOR = re.compile(ANNOTATOR_PATTERN.strip("^$"), re.ASCII)
ANNOTATOR_RULE = f"1-{ANNOTATOR_MAX_LENGTH} letters, digits, '.', '_', ':' or '-', starting with a letter or a digit"


@dataclass(frozen=True, slots=True)
class ObjectsDelivery:
    """The parsed body of ``PUT /campaigns/{id}/objects``: the objects, and each annotator named (by image id)."""

    objects_by_image: ObjectsByImage
    annotators: dict[int, str]


# --- campaigns ----------------------------------------------------------------


def validate_label_translations(translations: Any) -> dict[str, str] | None:
    """``null`` or an object mapping a label to the label it becomes (both 1-128 characters)."""
    if translations is None:
        return None
    if not isinstance(translations, dict):
        raise BadRequest("'label_translations' must be a JSON object mapping labels to labels, or null")
    problem = json_problem(translations, nul=True, max_depth=settings.JSON_MAX_DEPTH)
    if problem:
        raise BadRequest(f"'label_translations' must not contain NUL characters or invalid Unicode: it {problem}")
    for label, translated in translations.items():
        if (
            not isinstance(translated, str)
            or not 1 <= len(translated) <= LABEL_MAX_LENGTH
            or not 1 <= len(label) <= LABEL_MAX_LENGTH
        ):
            raise BadRequest(
                f"'label_translations' must map labels to labels of 1-{LABEL_MAX_LENGTH} characters; {label!r} does not"
            )
    return translations


def validate_labeler_email(email: Any) -> str:
    """The labeler's e-mail, stripped; 400 when it is not an address."""
    if not isinstance(email, str) or not email.strip():
        raise BadRequest("'labeler_email' is required")
    email = email.strip()
    try:
        if len(email) > EMAIL_MAX_LENGTH or contains_nul(email):
            raise DjangoValidationError("too long")
        validate_email(email)
    except DjangoValidationError:
        raise BadRequest(f"'labeler_email' is not a valid e-mail address: {email[:100]!r}") from None
    return email


def validate_review_required(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadRequest("'review_required' must be true or false")
    return value


def validate_aql(value: Any) -> Decimal:
    """An AQL of ISO 2859-1's series, in percent (a number or a decimal string); 422 for another value."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadRequest("'aql' must be a number")
    try:
        if len(str(value)) > 32:
            raise ValueError("too long")
        aql = Decimal(str(value))
        aql_column(aql)
        aql = aql.quantize(Decimal("0.001"))
    except (ArithmeticError, ValueError):
        choices = ", ".join(str(a) for a in AQLS)
        raise Unprocessable(f"'aql' must be one of ISO 2859-1's AQLs (percent): {choices}") from None
    return aql


def validate_gold_min_f1(value: Any) -> Decimal | None:
    """The lowest pooled F1 a lot's gold images may score (0 to 1, three decimals kept), or null: no gate."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise BadRequest("'gold_min_f1' must be a number from 0 to 1, or null")
    try:
        if len(str(value)) > 32:
            raise ValueError("too long")
        gold_min_f1 = Decimal(str(value))
        if not gold_min_f1.is_finite() or not 0 <= gold_min_f1 <= 1:
            raise ValueError("out of range")
    except (ArithmeticError, ValueError):
        raise Unprocessable(f"'gold_min_f1' must be a number from 0 to 1, got {str(value)[:40]!r}") from None
    return gold_min_f1.quantize(Decimal("0.001"))


# --- objects ---------------------------------------------------------------------


class _Refused(Exception):
    """An object's field is refused; ``parse_object`` names the image and the object."""

    def __init__(self, error: type[ApplicationError], message: str):
        super().__init__(message)
        self.error = error
        self.message = message


def _label(raw: dict, key: str, *, required: bool) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        need = "is required and must be a string" if required else "must be a string or null"
        raise _Refused(BadRequest, f"'{key}' {need}")
    if not 1 <= len(value) <= LABEL_MAX_LENGTH or "\x00" in value:
        raise _Refused(Unprocessable, f"'{key}' must be 1-{LABEL_MAX_LENGTH} characters, with no NUL character")
    return value


def _confidence(raw: dict) -> float | None:
    confidence = raw.get("confidence")
    if confidence is None:
        return None
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise _Refused(BadRequest, "'confidence' must be a number or null")
    if not math.isfinite(confidence) or not 0 <= confidence <= 1:
        raise _Refused(Unprocessable, "'confidence' must be between 0 and 1")
    return float(confidence)


def _box(raw: dict) -> dict[str, int]:
    box = raw.get("bounding_box")
    if not isinstance(box, dict):
        raise _Refused(BadRequest, "'bounding_box' is required: an object with xmin, xmax, ymin and ymax")
    coordinates = {}
    for name in BOX_COORDINATES:
        value = box.get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 12.0 is the integer 12 in JSON terms
        if not is_json_int(value):
            raise _Refused(BadRequest, f"'bounding_box.{name}' is required and must be an integer")
        if not 0 <= value <= COORDINATE_MAX:
            raise _Refused(Unprocessable, f"'bounding_box.{name}' must be a non-negative integer, got {value}")
        coordinates[name] = value
    if coordinates["xmin"] > coordinates["xmax"]:
        raise _Refused(Unprocessable, "'bounding_box.xmin' must not be greater than 'xmax'")
    if coordinates["ymin"] > coordinates["ymax"]:
        raise _Refused(Unprocessable, "'bounding_box.ymin' must not be greater than 'ymax'")
    return coordinates


def parse_object(image_id: int, index: int, raw: Any) -> NewObject:
    """Object ``index`` of image ``image_id``; the error names both (``image_id``, ``object_index``)."""
    try:
        if not isinstance(raw, dict):
            raise _Refused(BadRequest, "expected an object with 'label' and 'bounding_box'")
        # Checked in this order: label, label_translated, confidence, bounding_box.
        return NewObject(
            label=_label(raw, "label", required=True),
            label_translated=_label(raw, "label_translated", required=False),
            confidence=_confidence(raw),
            **_box(raw),
        )
    except _Refused as refused:
        raise refused.error(
            f"Image {image_id}, object {index}: {refused.message}", extra={"image_id": image_id, "object_index": index}
        ) from None


def validate_annotator(value: Any, *, image_id: int) -> str | None:
    """An image's ``annotator``: ``None`` (absent or null) or the agency's worker id.

    400 for a value that is not a string; 422 for one outside ``ANNOTATOR_RULE``, with its own
    reason when it looks like an e-mail address (labelhub never stores a worker's address).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"Image {image_id}: 'annotator' must be a string or null", extra={"image_id": image_id})
    if "@" in value:
        raise Unprocessable(
            f"Image {image_id}: 'annotator' looks like an e-mail address; send the agency's own id for the worker "
            f"({ANNOTATOR_RULE}), never a person's e-mail",
            extra={"image_id": image_id},
        )
    if not _ANNOTATOR.fullmatch(value):
        raise Unprocessable(f"Image {image_id}: 'annotator' must be {ANNOTATOR_RULE}", extra={"image_id": image_id})
    return value


def parse_object_delivery(items: Any) -> ObjectsDelivery:
    """The body of ``PUT /campaigns/{id}/objects`` with each image's optional ``annotator``.

    Checked as ``parse_object_items`` checks it; each image's ``annotator``
    (``validate_annotator``) once its ``objects`` is known to be a list, before the objects.
    """
    annotators: dict[int, str] = {}
    return ObjectsDelivery(objects_by_image=_parse_items(items, annotators=annotators), annotators=annotators)


def parse_object_items(items: Any) -> ObjectsByImage:
    """The body of ``PUT /campaigns/{id}/objects``: 400 when malformed, 422 when out of range.

    More than ``IMAGES_PER_REQUEST_MAX`` images is a 413, more than
    ``OBJECTS_PER_IMAGE_MAX`` objects for one image a 422 naming it. An item's
    ``annotator`` is ignored here, like any other key (the predictions' items,
    a file's labels): ``parse_object_delivery`` reads it.
    """
    return _parse_items(items, annotators=None)


def _parse_items(items: Any, *, annotators: dict[int, str] | None) -> ObjectsByImage:
    """The items; ``annotators``, when given, receives each image's annotator (images naming none left out)."""
    if not isinstance(items, list):
        raise BadRequest('Expected a list of {"image_id": <id>, "objects": [...]}')
    check_images_per_request(items)
    objects_max = settings.OBJECTS_PER_IMAGE_MAX
    parsed: ObjectsByImage = []
    seen: set[int] = set()
    for item_index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f'Item {item_index}: expected {{"image_id": <id>, "objects": [...]}}')
        image_id = item.get("image_id")
        if not is_json_int(image_id):
            raise BadRequest(f"Item {item_index}: 'image_id' is required and must be an integer")
        if image_id in seen:
            raise BadRequest(f"Image {image_id} is listed more than once", extra={"image_id": image_id})
        seen.add(image_id)
        raw_objects = item.get("objects")
        if not isinstance(raw_objects, list):
            raise BadRequest(
                f"Image {image_id}: 'objects' is required and must be a list", extra={"image_id": image_id}
            )
        if annotators is not None and (annotator := validate_annotator(item.get("annotator"), image_id=image_id)):
            annotators[image_id] = annotator
        if len(raw_objects) > objects_max:
            raise Unprocessable(
                f"Image {image_id}: {len(raw_objects)} objects, at most {objects_max} per image",
                extra={"image_id": image_id, "limit": objects_max},
            )
        parsed.append((image_id, [parse_object(image_id, i, raw) for i, raw in enumerate(raw_objects)]))
    return parsed
