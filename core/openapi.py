"""OpenAPI pieces every app's views share: the error body and responses, and the shapes several endpoints repeat.

- ``ErrorSerializer`` is the ``{"detail", "status"}`` body of every error,
  ``errors(...)`` the documented error responses of an operation and ``ok``
  the ``"ok"`` string body.
- ``add_images_responses`` documents the "add images" answers once, so two
  endpoints doing the same job are documented the same way.

Each app declares its operations in its own ``openapi`` module (``campaigns/openapi/``,
``imagesets/openapi.py``, ``webhooks/openapi.py``), one decorator per operation that its views apply.

The document itself (key scheme, description, tags, links) is assembled by
the project (``labelhub/schema.py``).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    detail = serializers.CharField(help_text="A human readable reason.")
    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    errors = serializers.JSONField(
        required=False,
        help_text="Validation errors only: the per-field detail (field name -> list of messages).",
    )

    class Meta:
        ref_name = "Error"


ERROR_DESCRIPTIONS = {
    400: "Malformed request: the body is not JSON (or holds a string that is not valid Unicode, "
    "such as a lone surrogate `\\ud800`, or nests deeper than `JSON_MAX_DEPTH` levels) or has wrong "
    "types or missing fields, or a query parameter (`page`, `per_page`, ...) is not a valid value or is "
    "given twice.",
    401: "No key, an unknown key or a wrong secret, a revoked or expired key, a disabled user, or "
    "a role that may not do this (a labeler outside its own campaigns). Nothing is revealed "
    "about objects the key may not see.",
    403: "The signed URL is invalid, expired or closed.",
    404: "The addressed object does not exist.",
    409: "Not allowed in the object's current status, or a duplicate title.",
    411: "A chunked upload without Content-Length.",
    413: "The file is larger than the server accepts.",
    415: "The request body is not `application/json`.",
    422: "A value that is well-formed but not acceptable (see the operation).",
    503: "The storage backend is unavailable; try again later.",
}


# Every operation taking a JSON body (added to each by postprocess_schema).
JSON_BODY_TOO_LARGE = "The body is larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` bytes (default 10 MiB); nothing is stored."
# The malformed-body answers of the JSON input layer (core.parsers), for operations
# that describe their own 400.
JSON_BODY_MALFORMED = (
    "The body is not JSON, holds a string that is not valid Unicode (a lone surrogate such as "
    "`\\ud800`) or nests deeper than `JSON_MAX_DEPTH` (default 32) levels."
)


# A rule JSON Schema cannot state in OpenAPI 3.0 (it has no ``propertyNames`` for the keys):
# free-form JSON is stored in PostgreSQL, which holds no NUL character.
JSON_NUL_REFUSED = (
    "Free-form JSON (`metadata`, `label_translations`) holding a NUL character (`\\u0000`) in a string "
    "or an object key: the database stores none."
)
JSON_NUL_EXAMPLE = {
    "a NUL character in metadata": "'metadata' must not contain NUL characters or invalid Unicode: it holds "
    "a NUL character"
}


# A query parameter read as a date (``2024-03-14``) or an RFC 3339 date-time
# (``2024-03-14T08:00:00Z``): what labelhub's date filters parse, and nothing else.
DATE_OR_DATE_TIME = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}


def errors(*codes: int | tuple[int, str] | tuple[int, str, dict[str, str]]) -> dict[int, OpenApiResponse]:
    """The documented error responses of an operation: ``errors(400, 401, (404, "Unknown set"))``.

    A third item names example ``detail`` texts (example name -> detail): how the rules the
    request schema cannot express (between two fields, or against stored data) are answered.
    """
    responses = {}
    for code in codes:
        code, description, *more = code if isinstance(code, tuple) else (code, ERROR_DESCRIPTIONS[code])
        examples = [
            OpenApiExample(name, value={"detail": detail, "status": code}, status_codes=[code], response_only=True)
            for name, detail in (more[0] if more else {}).items()
        ]
        responses[code] = OpenApiResponse(ErrorSerializer, description=description, examples=examples)
    return responses


def ok(description: str) -> OpenApiResponse:
    """The contract's bare JSON string ``"ok"``."""
    return OpenApiResponse({"type": "string", "enum": ["ok"], "example": "ok"}, description=description)


# --- shapes several endpoints share ----------------------------------------------

TOO_MANY_IMAGES = (
    "More than `IMAGES_PER_REQUEST_MAX` (default 10,000) images listed (send them in several "
    "requests), or a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` bytes. Nothing is stored."
)


def add_images_responses(*, to: str, conflict: str, unknown: str = "") -> dict:
    """The answers of a ``POST`` adding images named by id or path (``[{"id": n} | {"filepath": "..."}]``).

    ``to`` names the object the images are added to (``"image set"``), ``conflict``
    its 409, ``unknown`` what the 404's body tells beyond the detail.
    """
    not_found = (
        f"The {to}, or one of the listed images, does not exist ({unknown}an `id` outside 1..2^63-1 "
        'included). `id` must be a JSON integer: `"1"` and `1.0` are a 400.'
    )
    return {
        200: ok(f"The images are in the {to.split()[-1]}."),  # "image set": "in the set"
        **errors(400, 401, (404, not_found), (409, conflict), (413, TOO_MANY_IMAGES)),
    }
