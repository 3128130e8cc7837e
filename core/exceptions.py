"""The project's errors and the one handler that turns them into contract bodies.

Services raise ``ApplicationError`` subclasses; views never build error
responses themselves. Every error leaves the API as ``{"detail": ...}`` with
the contract's status code, never as an HTML page or a 500 for bad input.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

# --- the storage layer's own errors (raised by integrations.storage; the API answers 503) ---


class StorageError(Exception):
    """Any failure of the storage backend; the API answers 503."""


class ObjectNotFound(StorageError):
    """The addressed file or container does not exist."""


class InvalidToken(StorageError):
    """A signed URL token that is forged, malformed or expired."""


class InvalidFileName(StorageError):
    """A file name a client chose that cannot be stored safely."""


class FileTooLarge(StorageError):
    """An uploaded body larger than the configured limit."""


# --- the contract's errors ---------------------------------------------------------

UNAUTHORIZED_DETAIL = (
    "Unauthorized request please make sure you set the Authentication-Key and Authentication-Secret in the header"
)


class ApplicationError(Exception):
    """Base of every error a service raises on purpose.

    A subclass names its status and default message in its class line:
    ``class Gone(ApplicationError, status=410, detail="Gone"): ...``
    """

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request"

    def __init_subclass__(cls, *, status: int | None = None, detail: str | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status_code = status
        if detail is not None:
            cls.default_detail = detail

    def __init__(self, detail: str | None = None, *, extra: dict | None = None):
        self.detail = detail or self.default_detail
        self.extra = extra or {}
        super().__init__(self.detail)


# fmt: off
class BadRequest(ApplicationError, status=400, detail="Bad request"): ...
class NotFound(ApplicationError, status=404, detail="Not found"): ...
class Conflict(ApplicationError, status=409, detail="Not allowed in the current status"): ...
class InvalidName(ApplicationError, status=422, detail="Invalid name"): ...
class Unprocessable(ApplicationError, status=422, detail="Unprocessable entity"): ...
# A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, or more items than one request may list.
class RequestTooLarge(ApplicationError, status=413, detail="Request too large"): ...
class StorageUnavailable(ApplicationError, status=503, detail="Storage is unavailable, please try again later"): ...
# Every pooled database connection stayed busy for ``DATABASE_POOL_TIMEOUT`` seconds.
class DatabaseBusy(ApplicationError, status=503, detail="The service is busy, please try again in a moment"): ...
# The signed link of ``GET /api/v1/files/<token>`` (local storage) is forged or expired.
class TokenRejected(ApplicationError, status=403, detail="This link is invalid or has expired"): ...
# The local dropbox upload (``PUT /dropbox/<token>/<filename>``): a bad token or a closed set,
class DropboxClosed(ApplicationError, status=403, detail="This upload URL is invalid, expired or closed"): ...
# a chunked body without a length,
class LengthRequired(ApplicationError, status=411, detail="Content-Length is required"): ...
# a file over ``LOCAL_DROPBOX_MAX_FILE_SIZE``.
class PayloadTooLarge(ApplicationError, status=413, detail="File too large"): ...
# fmt: on


def is_pool_exhausted(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it wraps) is psycopg's pool giving up waiting for a connection."""
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # SQLite-only installs
        return False
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, PoolTimeout):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _body(detail, code: int, extra: dict | None = None) -> dict:
    body = {"detail": detail, "status": code}
    if extra:
        body.update(extra)
    return body


def _flatten_validation(detail) -> tuple[str, dict | list | None]:
    """A readable one-line reason plus DRF's per-field detail."""
    if isinstance(detail, dict):
        parts = []
        for field, errors in detail.items():
            if isinstance(errors, (list, tuple)) and errors and not isinstance(errors[0], (dict, list)):
                parts.append(f"{field}: {' '.join(str(e) for e in errors)}")
            else:
                parts.append(f"{field}: invalid")
        return "; ".join(parts) or "Invalid request", detail
    if isinstance(detail, list):
        flat = [str(e) for e in detail if not isinstance(e, (dict, list))]
        if flat and len(flat) == len(detail):
            return " ".join(flat), None
        return "Invalid request", detail
    return str(detail), None


# The contract answers 401 for "not allowed" as well as for bad keys.
_UNAUTHORIZED = (
    drf_exceptions.NotAuthenticated,
    drf_exceptions.AuthenticationFailed,
    drf_exceptions.PermissionDenied,
    DjangoPermissionDenied,
)


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(_body(exc.detail, exc.status_code, exc.extra), status=exc.status_code)

    if isinstance(exc, _UNAUTHORIZED):
        response = Response(_body(UNAUTHORIZED_DETAIL, 401), status=401)
        response["WWW-Authenticate"] = 'Authentication-Key realm="api"'
        return response

    if isinstance(exc, RequestDataTooBig):
        # Django's own check (``HttpRequest.body``), were anything to read the body that way:
        # its default answer is an HTML 400 page.
        too_big = too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return Response(_body(too_big.detail, 413), status=413)

    if isinstance(exc, Http404):
        return Response(_body(str(exc) or "Not found", 404), status=404)

    if isinstance(exc, (DjangoValidationError, drf_exceptions.ValidationError)):
        return _validation_response(exc)

    if isinstance(exc, drf_exceptions.APIException):
        detail = exc.detail if isinstance(exc.detail, str) else _flatten_validation(exc.detail)[0]
        response = Response(_body(str(detail), exc.status_code), status=exc.status_code)
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(exc.wait)
        return response

    return _unavailable_response(exc, context)


def _validation_response(exc: DjangoValidationError | drf_exceptions.ValidationError) -> Response:
    if isinstance(exc, drf_exceptions.ValidationError):
        detail, fields = _flatten_validation(exc.detail)
    elif hasattr(exc, "message_dict"):
        detail, fields = _flatten_validation(exc.message_dict)
    else:
        detail, fields = " ".join(exc.messages), None
    return Response(_body(detail, 400, {"errors": fields} if fields else None), status=400)


def _unavailable_response(exc, context) -> Response | None:
    """503 for a database pool that stayed busy or a storage failure; ``None`` (a 500) for anything else."""
    if is_pool_exhausted(exc):
        logger.warning("no database connection free within the pool timeout in %s", context.get("view"))
        response = Response(_body(DatabaseBusy.default_detail, 503), status=503)
        response["Retry-After"] = "1"
        return response

    if isinstance(exc, StorageError):
        logger.warning("storage error in %s: %s", context.get("view"), exc)
        return Response(_body(StorageUnavailable.default_detail, 503), status=503)

    return None


def too_large(limit: int) -> RequestTooLarge:
    """The 413 of a JSON body over ``limit`` bytes (the parser's, and Django's own check's)."""
    return RequestTooLarge(f"Request body too large: at most {limit} bytes of JSON")
