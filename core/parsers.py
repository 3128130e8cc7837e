"""The one input layer of every JSON request body of the API.

Every ``request.data`` of the API goes through ``JSONParser`` before a view hands
anything to a service. It answers, with the contract's JSON error body:

- ``413`` for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (never read past it);
- ``400`` for a body that is not UTF-8 JSON, holds ``NaN``/``Infinity`` or a number
  too large for a float, nests deeper than ``JSON_MAX_DEPTH`` levels, or holds a
  string (a value or an object key) that is not valid Unicode: a lone surrogate such
  as ``"\\ud800"``, which no UTF-8 encoder accepts (it could be stored but never
  answered again).

It does not subclass DRF's ``JSONParser``: DRF reads such a parser's body through
``HttpRequest.body``, which raises Django's ``RequestDataTooBig`` (an HTML 400 page)
before any parser runs. This one reads the request stream itself, up to the limit.
"""

from __future__ import annotations

import json
import math
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, get_encoding
from rest_framework.renderers import JSONRenderer

from core.exceptions import too_large
from core.validators import SURROGATE_PROBLEM, has_surrogate, json_problem

# A \uXXXX escape of a surrogate: besides a surrogate in the decoded text itself (UTF-8
# refuses them, a charset such as unicode_escape does not), only such an escape puts one
# into the parsed value, so bodies without either skip the walk's string check.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_CHUNK = 64 * 1024


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def json_body_limit() -> int | None:
    """The largest JSON body accepted, in bytes (``None``: no limit, as Django's setting allows)."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _read(stream, limit: int | None) -> bytes:
    if limit is None:
        return stream.read()
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise too_large(limit)
    return b"".join(chunks)


class JSONParser(BaseParser):
    """``application/json`` bodies, checked as the module says."""

    media_type = "application/json"
    renderer_class = JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = get_encoding(parser_context)  # DRF's: only text codecs (400 otherwise)
        limit = json_body_limit()
        request = parser_context.get("request")
        if limit is not None and request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:  # refused before reading a byte
                raise too_large(limit)
        raw = _read(stream, limit)
        try:
            text = raw.decode(encoding)
        except UnicodeError as exc:  # UnicodeDecodeError, or a codec's own (idna, punycode, ...)
            reason = getattr(exc, "reason", None) or str(exc)[:100]
            raise ParseError(f"JSON parse error - the body is not valid {encoding}: {reason}") from None
        if has_surrogate(text):
            raise ParseError(f"JSON parse error - the body {SURROGATE_PROBLEM}")
        try:
            data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except RecursionError:
            # The C scanner gives up past Python's recursion limit; the depth check below
            # answers anything shallower.
            depth = settings.JSON_MAX_DEPTH
            raise ParseError(f"JSON parse error - the body is nested deeper than {depth} levels") from None
        except ValueError as exc:  # JSONDecodeError, and int() of more than 4300 digits
            raise ParseError(f"JSON parse error - {exc}") from None
        problem = json_problem(
            data, max_depth=settings.JSON_MAX_DEPTH, surrogates=_SURROGATE_ESCAPE.search(text) is not None
        )
        if problem:
            raise ParseError(f"JSON parse error - the body {problem}")
        return data
