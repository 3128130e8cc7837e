"""Request bodies that name images, and the image lists' filters, parsed at the edge in plain Python.

A 10,000-item body stays fast. (The small bodies, an image set and its status, are
parsed by their input serializers, ``imagesets.serializers``; the status check they
share with the service is here.)

The API views (and campaigns' own "add images" endpoint) parse with these and
hand the services typed values; the services never see raw JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from core.exceptions import BadRequest
from core.validators import check_images_per_request, is_json_int, query_value, utc_bound
from imagesets.models import ImageSet


def validate_new_status(new_status: Any) -> str:
    """One of ``ImageSet.Status`` (400 otherwise); whether the set may go there is the service's 409."""
    if new_status not in ImageSet.Status.values:
        raise BadRequest(f"'new_status' must be one of {', '.join(ImageSet.Status.values)}")
    return new_status


IMAGE_REFS_SHAPE = 'Expected a list of {"id": n} or {"filepath": "..."} objects'


@dataclass(frozen=True, slots=True)
class ImageRefs:
    """Images named by id or by ``blobstorage_path``, each once, in the order first listed.

    An id is any JSON integer: one that names no image (``0``, ``2**63``) is the
    services' 404, not a malformed body.
    """

    ids: tuple[int, ...] = ()
    paths: tuple[str, ...] = ()


def parse_image_refs(items: Any) -> ImageRefs:
    """``[{"id": n} | {"filepath": "<path>"}, ...]``; 400 for any other shape, 413 over ``IMAGES_PER_REQUEST_MAX``.

    The count is checked before any item is, so an oversized body costs no parsing.
    """
    if not isinstance(items, list):
        raise BadRequest(IMAGE_REFS_SHAPE)
    check_images_per_request(items)
    ids: dict[int, None] = {}
    paths: dict[str, None] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or len(item.keys() & {"id", "filepath"}) != 1:
            raise BadRequest(f"Item {index}: give exactly one of 'id' or 'filepath'")
        if "id" in item:
            value = item["id"]
            if not is_json_int(value):  # not "1", 1.0 or true
                raise BadRequest(f"Item {index}: 'id' must be an integer")
            ids[value] = None
        else:
            value = item["filepath"]
            if not isinstance(value, str) or not value:
                raise BadRequest(f"Item {index}: 'filepath' must be a non-empty string")
            paths[value] = None
    return ImageRefs(ids=tuple(ids), paths=tuple(paths))


# --- the filters of the image lists (GET /images, the image admin) -------------------------------------------

LAT_LIMIT, LON_LIMIT = 90.0, 180.0
DATE_PARAMS = ("date_taken_from", "date_taken_to")
BOX_PARAMS = ("lat_min", "lat_max", "lon_min", "lon_max")
IMAGE_FILTER_PARAMS = (*DATE_PARAMS, *BOX_PARAMS)


@dataclass(frozen=True, slots=True)
class ImageFilters:
    """Images taken in ``[taken_from, taken_before)`` and located inside a latitude/longitude box.

    Every bound is optional; an image without the value a bound asks about
    does not match it. ``lon_min > lon_max`` is a box across the 180th meridian.
    """

    taken_from: datetime | None = None
    taken_before: datetime | None = None
    lat_min: float | None = None
    lat_max: float | None = None
    lon_min: float | None = None
    lon_max: float | None = None


def parse_image_filters(params: Mapping[str, str]) -> ImageFilters:
    """The filters of a query string; 400 naming the parameter for a malformed or impossible value.

    ``date_taken_from``/``date_taken_to``: an ISO 8601 date (``2024-03-14``, the
    whole day for ``_to``) or date-time (``2024-03-14T08:00:00Z``; without an
    offset, UTC), both inclusive. ``lat_min``/``lat_max`` in -90..90,
    ``lon_min``/``lon_max`` in -180..180, decimal degrees.
    """
    taken_from = _moment(params, "date_taken_from", end_of_day=False)
    taken_before = _moment(params, "date_taken_to", end_of_day=True)
    if taken_from and taken_before and taken_from >= taken_before:
        raise BadRequest("date_taken_from must not be later than date_taken_to")
    lat_min, lat_max = (_degrees(params, name, LAT_LIMIT) for name in ("lat_min", "lat_max"))
    if lat_min is not None and lat_max is not None and lat_min > lat_max:
        raise BadRequest("lat_min must not be greater than lat_max")
    lon_min, lon_max = (_degrees(params, name, LON_LIMIT) for name in ("lon_min", "lon_max"))
    return ImageFilters(taken_from, taken_before, lat_min, lat_max, lon_min, lon_max)


def _moment(params: Mapping[str, str], name: str, *, end_of_day: bool) -> datetime | None:
    raw = (query_value(params, name) or "").strip()
    if not raw:
        return None
    try:  # a date first: parse_datetime reads "2024-03-14" as its midnight
        day = parse_date(raw)
        moment = None if day else parse_datetime(raw)
    except ValueError:  # well formed but impossible: 2024-02-30
        moment = day = None
    if day is not None:
        later_by = timedelta(days=1) if end_of_day else timedelta()
        moment = datetime.combine(day, time.min)
    else:
        later_by = timedelta(microseconds=1) if end_of_day else timedelta()  # inclusive: the first moment after
    if moment is None:
        raise BadRequest(f"{name}: expected an ISO 8601 date or date-time, e.g. 2024-03-14 or 2024-03-14T08:00:00Z")
    return utc_bound(moment if moment.tzinfo else moment.replace(tzinfo=UTC), later_by=later_by)


def _degrees(params: Mapping[str, str], name: str, limit: float) -> float | None:
    raw = (query_value(params, name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        raise BadRequest(f"{name}: expected decimal degrees between {-limit:g} and {limit:g}")
    return value
