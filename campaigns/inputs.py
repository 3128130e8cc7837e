"""The campaign endpoints' input, parsed at the edge into the types the services take.

Plain Python, not DRF serializers: a ``PUT /campaigns/{id}/objects`` body may
list 10,000 images with up to 1,000 objects each. (``POST /campaigns/{id}/images``
takes the same image references as image sets: ``imagesets.inputs.parse_image_refs``.) What is malformed is a 400
(``BadRequest``), what is out of range a 422 (``Unprocessable``), a request
listing too many images a 413; nothing here reads the database, so every
check that needs a row (an unknown image, a box outside its image, the
campaign's status) is the services'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware

from campaigns.label_schema import parse_label_schema
from campaigns.models import LABEL_MAX_LENGTH, Campaign, Review, ReviewSample, ReviewState
from campaigns.sampling import AQLS, DEFAULT_AQL, aql_column
from labelhub.exceptions import ApplicationError, BadRequest, Unprocessable
from labelhub.validators import (
    COORDINATE_MAX,
    check_images_per_request,
    contains_nul,
    is_json_int,
    json_problem,
    validate_metadata,
    validate_title,
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
        aql = Decimal(str(value))
        aql_column(aql)
    except (InvalidOperation, ValueError):
        choices = ", ".join(str(a) for a in AQLS)
        raise Unprocessable(f"'aql' must be one of ISO 2859-1's AQLs (percent): {choices}") from None
    return aql.quantize(Decimal("0.001"))


def parse_new_campaign(
    *,
    title: Any,
    labeler_email: Any,
    metadata: Any = None,
    label_translations: Any = None,
    review_required: Any = False,
    aql: Any = None,
    labels: Any = None,
) -> NewCampaign:
    """The fields of ``POST /campaigns``: the title (422), then metadata, translations and e-mail (400),
    then the label schema (``campaigns.label_schema``: 400 or 422)."""
    return NewCampaign(
        title=validate_title(title),
        metadata=validate_metadata(metadata),
        label_translations=validate_label_translations(label_translations),
        labeler_email=validate_labeler_email(labeler_email),
        review_required=validate_review_required(review_required),
        aql=DEFAULT_AQL if aql is None else validate_aql(aql),
        labels=parse_label_schema(labels),
    )


def parse_new_status(new_status: Any) -> str:
    """One of ``Campaign.Status`` (400 otherwise); whether the campaign may go there is the service's 409."""
    if not isinstance(new_status, str) or new_status not in Campaign.Status.values:
        statuses = ", ".join(Campaign.Status.values)
        raise BadRequest(f"'new_status' must be one of {statuses}; got {str(new_status)[:60]!r}")
    return new_status


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
        raise _Refused(Unprocessable, f"'{key}' must be 1-{LABEL_MAX_LENGTH} characters")
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


# --- reviews ---------------------------------------------------------------------

REASON_MAX_LENGTH = 2000
Decision = Review.Decision


@dataclass(frozen=True, slots=True)
class NewReview:
    """One decision of ``PUT /campaigns/{id}/reviews`` on an image's current (or the named) revision."""

    image_id: int
    decision: str
    reason: str
    reason_code: str
    submission_id: int | None


def _reason_code(image_id: int, value: Any) -> str:
    if value is None or value == "":
        return ""
    codes = settings.REVIEW_REASON_CODES
    if not isinstance(value, str) or value not in codes:
        raise Unprocessable(
            f"Image {image_id}: 'reason_code' must be one of {', '.join(codes)}", extra={"image_id": image_id}
        )
    return value


def parse_review_item(index: int, item: Any) -> NewReview:
    if not isinstance(item, dict):
        raise BadRequest(f'Item {index}: expected {{"image_id": <id>, "decision": "accepted"|"rejected"}}')
    image_id = item.get("image_id")
    if not is_json_int(image_id):
        raise BadRequest(f"Item {index}: 'image_id' is required and must be an integer")
    decision = item.get("decision")
    if decision not in Decision.values:
        raise BadRequest(f"Image {image_id}: 'decision' must be 'accepted' or 'rejected'", extra={"image_id": image_id})
    reason = item.get("reason")
    if reason is not None and (not isinstance(reason, str) or contains_nul(reason)):
        raise BadRequest(f"Image {image_id}: 'reason' must be a string or null", extra={"image_id": image_id})
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise Unprocessable(
            f"Image {image_id}: 'reason' must be at most {REASON_MAX_LENGTH} characters", extra={"image_id": image_id}
        )
    reason_code = _reason_code(image_id, item.get("reason_code"))
    if decision == Decision.REJECTED and not (reason or reason_code):
        raise Unprocessable(
            f"Image {image_id}: a rejection needs a 'reason' (or a 'reason_code') for the agency",
            extra={"image_id": image_id},
        )
    submission_id = item.get("submission_id")
    if submission_id is not None and not is_json_int(submission_id):
        raise BadRequest(f"Image {image_id}: 'submission_id' must be an integer or null", extra={"image_id": image_id})
    return NewReview(image_id, decision, reason, reason_code, submission_id)


def parse_review_items(items: Any) -> list[NewReview]:
    """The body of ``PUT /campaigns/{id}/reviews``: 400 when malformed, 422 when out of range, 413 when too long."""
    if not isinstance(items, list):
        raise BadRequest('Expected a list of {"image_id": <id>, "decision": "accepted"|"rejected", "reason": ...}')
    check_images_per_request(items)
    parsed = [parse_review_item(index, item) for index, item in enumerate(items)]
    seen: set[int] = set()
    for review in parsed:
        if review.image_id in seen:
            raise BadRequest(f"Image {review.image_id} is listed more than once", extra={"image_id": review.image_id})
        seen.add(review.image_id)
    return parsed


def parse_image_state(value: Any) -> str | None:
    """``?state=`` of the agency's image list: unlabeled, rejected, labeled (awaiting review) or accepted."""
    if value is None or value == "":
        return None
    if value not in AGENCY_STATES:
        raise BadRequest(f"'state' must be one of {', '.join(AGENCY_STATES)}")
    return AGENCY_STATES[value]


# The agency's words for the review states: "labeled" is a delivered image awaiting review.
AGENCY_STATES = {
    "unlabeled": ReviewState.UNLABELED,
    "rejected": ReviewState.REJECTED,
    "labeled": ReviewState.PENDING,
    "accepted": ReviewState.ACCEPTED,
}


@dataclass(frozen=True, slots=True)
class ReviewFilters:
    """Filters of ``GET /campaigns/{id}/reviews``."""

    decision: str | None = None
    image_id: int | None = None
    reviewer: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _query_date(params, name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    value = None
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            value = datetime(day.year, day.month, day.day) if day is not None else None
    except ValueError:
        value = None
    if value is None:
        raise BadRequest(f"'{name}' must be a date (YYYY-MM-DD) or an ISO 8601 date and time")
    return make_aware(value) if is_naive(value) else value


def parse_review_filters(params) -> ReviewFilters:
    decision = params.get("decision") or None
    if decision is not None and decision not in Decision.values:
        raise BadRequest("'decision' must be 'accepted' or 'rejected'")
    image_id = params.get("image_id") or None
    if image_id is not None:
        if not image_id.isdigit():
            raise BadRequest("'image_id' must be an integer")
        image_id = int(image_id)
    return ReviewFilters(
        decision=decision,
        image_id=image_id,
        reviewer=params.get("reviewer") or None,
        since=_query_date(params, "since"),
        until=_query_date(params, "until"),
    )


@dataclass(frozen=True, slots=True)
class DateRange:
    """``?since=&until=`` of the statistics: events on or after ``since`` and before ``until``."""

    since: datetime | None = None
    until: datetime | None = None


def parse_date_range(params) -> DateRange:
    since, until = _query_date(params, "since"), _query_date(params, "until")
    if since is not None and until is not None and since > until:
        raise Unprocessable("'since' must not be after 'until'")
    return DateRange(since, until)


# --- samples ---------------------------------------------------------------------

SAMPLE_SEED_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class NewSample:
    size: int | None
    seed: int | None


def parse_new_sample(data: Any) -> NewSample:
    """``POST /campaigns/{id}/samples``: ``{"size"?: n, "seed"?: n}``; without a size, the standard's plan."""
    if data is None or data == "":
        data = {}
    if not isinstance(data, dict):
        raise BadRequest('Expected an object: {"size": <images, optional>, "seed": <integer, optional>}')
    size, seed = data.get("size"), data.get("seed")
    if size is not None:
        if not is_json_int(size):
            raise BadRequest("'size' must be an integer or null")
        if not 1 <= size <= settings.IMAGES_PER_REQUEST_MAX:
            raise Unprocessable(f"'size' must be between 1 and {settings.IMAGES_PER_REQUEST_MAX}")
    if seed is not None:
        if not is_json_int(seed):
            raise BadRequest("'seed' must be an integer or null")
        if not 0 <= seed <= SAMPLE_SEED_MAX:
            raise Unprocessable(f"'seed' must be between 0 and {SAMPLE_SEED_MAX}")
    return NewSample(size, seed)


@dataclass(frozen=True, slots=True)
class LotDecision:
    decision: str
    reason: str


def parse_lot_decision(data: Any) -> LotDecision:
    """``POST .../samples/{id}/decision``: ``{"decision": "accept"|"reject", "reason"?}``."""
    if not isinstance(data, dict):
        raise BadRequest('Expected an object: {"decision": "accept"|"reject", "reason": <text, optional>}')
    decision = data.get("decision")
    if decision not in ReviewSample.Verdict.values:
        raise BadRequest("'decision' must be 'accept' or 'reject'")
    reason = data.get("reason")
    if reason is not None and (not isinstance(reason, str) or contains_nul(reason)):
        raise BadRequest("'reason' must be a string or null")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise Unprocessable(f"'reason' must be at most {REASON_MAX_LENGTH} characters")
    return LotDecision(decision, reason)
