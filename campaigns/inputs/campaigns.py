"""The input of the campaign and object endpoints: the values of ``POST /campaigns`` (its input
serializer, ``campaigns.serializers.CampaignCreateInputSerializer``, and the admin's forms check them
with these) and the body of ``PUT /campaigns/{id}/objects``; the package's docstring says how input is checked."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from campaigns.models import LABEL_MAX_LENGTH
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


def parse_object_items(items: Any) -> ObjectsByImage:
    """The body of ``PUT /campaigns/{id}/objects``: 400 when malformed, 422 when out of range.

    More than ``IMAGES_PER_REQUEST_MAX`` images is a 413, more than
    ``OBJECTS_PER_IMAGE_MAX`` objects for one image a 422 naming it.
    """
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
        if len(raw_objects) > objects_max:
            raise Unprocessable(
                f"Image {image_id}: {len(raw_objects)} objects, at most {objects_max} per image",
                extra={"image_id": image_id, "limit": objects_max},
            )
        parsed.append((image_id, [parse_object(image_id, i, raw) for i, raw in enumerate(raw_objects)]))
    return parsed
