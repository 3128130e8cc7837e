"""Checks of input values shared by the API, the services and the admin."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from core.exceptions import BadRequest, InvalidName, RequestTooLarge

# Anchored at both ends and matched with ``fullmatch``: ``$`` alone also matches before a
# trailing newline, which let "nl\n" through. (The pattern is also the OpenAPI ``pattern``.)
TITLE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TITLE_MAX_LENGTH = 53

# A string PostgreSQL can store: no NUL character (also the OpenAPI ``pattern`` of such strings).
NO_NUL_PATTERN = r"^[^\u0000]*$"

# Primary keys are 64-bit: an id outside 1..ID_MAX names no row and must never reach a
# query (SQLite raises OverflowError on it).
ID_MAX = 2**63 - 1
# Integer columns (PostgreSQL's ``integer``): image widths and heights, box coordinates.
INTEGER_COLUMN_MAX = 2**31 - 1
COORDINATE_MAX = INTEGER_COLUMN_MAX

# A lone surrogate (U+D800..U+DFFF) is not valid Unicode: no UTF-8 encoder accepts it.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
SURROGATE_PROBLEM = "holds a string that is not valid Unicode (a lone surrogate such as \\ud800)"


def is_json_int(value: Any) -> bool:
    """A JSON integer: ``bool`` is an ``int`` in Python but not in JSON; ``1.0`` and ``"1"`` are not."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_valid_id(value: Any) -> bool:
    """A JSON integer that can name a row (1..ID_MAX)."""
    return is_json_int(value) and 0 < value <= ID_MAX


def query_value(params, name: str) -> str | None:
    """A single-valued query parameter: ``None`` when absent or empty, 400 when given more than once.

    An empty value (``?page=``) reads as absent, as it always has here (a client may build its
    URLs that way) and as the OpenAPI document says (``allowEmptyValue``). A repeated one
    (``?page=1&page=x``) is refused rather than read as its last value, which let a malformed
    first value pass unnoticed.
    """
    if hasattr(params, "getlist"):  # a QueryDict; the admin's filters pass a plain dict
        values = params.getlist(name)
    else:
        values = [params[name]] if params.get(name) is not None else []
    if len(values) > 1:
        raise BadRequest(f"'{name}' must be given at most once")
    return values[0] if values and values[0] != "" else None


def utc_bound(moment: datetime, *, later_by: timedelta = timedelta()) -> datetime:
    """An aware ``moment`` (plus ``later_by``) in UTC, for a query filter bound.

    A moment that UTC cannot hold as a ``datetime`` (``0001-01-01T00:00:00+01:00``,
    ``9999-12-31`` plus a day) raised OverflowError inside the query (a 500): it is
    clamped to the first or last moment a ``datetime`` holds, which filters the same.
    """
    try:
        return moment.astimezone(UTC) + later_by
    except OverflowError:
        return (datetime.max if moment.year > 1 else datetime.min).replace(tzinfo=UTC)


def has_surrogate(text: str) -> bool:
    """Whether a string holds a lone surrogate, i.e. is not valid Unicode."""
    return not text.isascii() and _SURROGATE_RE.search(text) is not None


def json_problem(value: Any, *, max_depth: int | None = None, nul: bool = False, surrogates: bool = True) -> str | None:
    """Why a parsed JSON value may not be stored, or ``None``; keys are checked like values.

    ``max_depth`` limits nesting (a bare list or object is depth 1); ``nul`` refuses NUL
    characters (PostgreSQL stores none in text or jsonb); ``surrogates`` refuses strings
    that are not valid Unicode. Iterative: no nesting depth can exhaust the stack.
    """
    # (container, depth of its parent); the value itself is the one child of a virtual list.
    pending: list[tuple[Any, int]] = [([value], -1)]
    while pending:
        node, depth = pending.pop()
        depth += 1
        if max_depth is not None and depth > max_depth:
            return f"is nested deeper than {max_depth} levels"
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, str):
                if nul and "\x00" in child:
                    return "holds a NUL character"
                if surrogates and has_surrogate(child):
                    return SURROGATE_PROBLEM
            elif isinstance(child, (dict, list)):
                pending.append((child, depth))
    return None


NOT_AN_OBJECT = "is not a JSON object"


def json_object_problem(value: Any) -> str | None:
    """Why a free-form JSON field (``metadata``: an object or null) may not be stored, or ``None``.

    ``NOT_AN_OBJECT`` for any other JSON value; then what PostgreSQL or a JSON
    answer cannot hold: NUL, invalid Unicode, nesting deeper than ``JSON_MAX_DEPTH``
    (the API's parser already refuses the last two; the admin's forms do not).
    """
    if value is not None and not isinstance(value, dict):
        return NOT_AN_OBJECT
    return json_problem(value, nul=True, max_depth=settings.JSON_MAX_DEPTH)


def validate_metadata(metadata: Any) -> dict | None:
    """The ``metadata`` of an image set or a campaign: a JSON object or null that can be stored; 400 otherwise."""
    problem = json_object_problem(metadata)
    if problem == NOT_AN_OBJECT:
        raise BadRequest("'metadata' must be a JSON object or null")
    if problem:
        raise BadRequest(f"'metadata' must not contain NUL characters or invalid Unicode: it {problem}")
    return metadata


def check_images_per_request(items: list) -> None:
    """``413`` for a request listing more images than ``IMAGES_PER_REQUEST_MAX``."""
    limit = settings.IMAGES_PER_REQUEST_MAX
    if len(items) > limit:
        raise RequestTooLarge(
            f"Too many images in one request: {len(items)} listed, at most {limit}; send them in several requests",
            extra={"limit": limit},
        )


def contains_nul(value) -> bool:
    """Whether a JSON value holds a NUL character anywhere (keys included).

    PostgreSQL stores no NUL in text or jsonb: such input must be refused (or found
    unknown) before it reaches a query, never end as a 500.
    (Iterative: any nesting depth is answered, never a RecursionError.)
    """
    return json_problem(value, nul=True, surrogates=False) is not None


def validate_title(title) -> str:
    """Image-set and campaign titles become container and dataset names.

    1-53 lowercase ASCII letters, digits and single dashes, not starting or
    ending with a dash; anything else is a 422.
    """
    if not isinstance(title, str) or not (1 <= len(title) <= TITLE_MAX_LENGTH) or not TITLE_RE.fullmatch(title):
        raise InvalidName(
            "Invalid title: use 1-53 lowercase letters, digits and single dashes, not starting or ending with a dash"
        )
    return title
