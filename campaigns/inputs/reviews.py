"""The input of the review endpoints: decisions, filters and date ranges, and the types of samples and lot decisions.

Plain Python like ``campaigns.inputs.campaigns``: a decision body may list
10,000 images. Malformed is a 400, out of range a 422, too many images a 413.
(The small bodies of a sample and a lot decision are parsed by their input
serializers, ``campaigns.serializers.reviews``, into ``NewSample`` and ``LotDecision``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware

from campaigns.models import Review, ReviewState
from core.exceptions import BadRequest, Unprocessable
from core.validators import (
    check_images_per_request,
    contains_nul,
    is_json_int,
    is_valid_id,
    query_value,
    utc_bound,
)

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
    raw = query_value(params, name)
    if raw is None:
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
    return utc_bound(make_aware(value) if is_naive(value) else value)


def parse_review_filters(params) -> ReviewFilters:
    decision = query_value(params, "decision")
    if decision is not None and decision not in Decision.values:
        raise BadRequest("'decision' must be 'accepted' or 'rejected'")
    image_id = query_value(params, "image_id")
    if image_id is not None:
        if not (len(image_id) <= 19 and image_id.isascii() and image_id.isdigit() and is_valid_id(int(image_id))):
            raise BadRequest("'image_id' must be an image id")
        image_id = int(image_id)
    reviewer = query_value(params, "reviewer")
    if reviewer is not None and contains_nul(reviewer):  # PostgreSQL refuses it in a query: a 500
        raise BadRequest("'reviewer' must not contain NUL characters")
    return ReviewFilters(
        decision=decision,
        image_id=image_id,
        reviewer=reviewer,
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


@dataclass(frozen=True, slots=True)
class LotDecision:
    decision: str
    reason: str
