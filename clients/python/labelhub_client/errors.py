"""The exceptions of the labelhub client: one base class, one class per kind of failure.

Every error the server answers is an :class:`ApiError` carrying the contract's
``detail`` (``{"detail": str, "status": int}``); the subclass says which status.
"""

from __future__ import annotations

import math
import time
from email.utils import parsedate_to_datetime

import httpx

# How much of a body that is not the contract's JSON (a proxy's HTML page, Azure's XML) becomes the detail.
_DETAIL_MAX_CHARS = 500


class LabelhubError(Exception):
    """Base class of every error this package raises."""


class ConfigError(LabelhubError):
    """The client's URL, key or secret is missing or malformed, or the config file cannot be read."""


class TransportError(LabelhubError):
    """The server could not be reached, or the connection broke, and retrying did not help."""


class WaitTimeout(LabelhubError, TimeoutError):
    """A background job did not end within the time a ``*_wait`` method was given."""


class WebhookVerificationError(LabelhubError):
    """A webhook delivery's signature is wrong, missing or too old: do not trust its body."""


class ApiError(LabelhubError):
    """The server (or a storage URL it handed out) answered an error status.

    Attributes:
        status: the HTTP status code.
        detail: the contract's human readable reason (or the start of a body that is not the contract's JSON).
        response: the ``httpx.Response`` (its body already read).
    """

    def __init__(self, status: int, detail: str, response: httpx.Response | None = None):
        super().__init__(f"{detail} (HTTP {status})")
        self.status = status
        self.detail = detail
        self.response = response


class BadRequest(ApiError):
    """400: a malformed request (wrong types, missing fields, a bad query parameter)."""


class Unauthorized(ApiError):
    """401: no valid key, or the key's role may not do this."""


class NotFound(ApiError):
    """404: the addressed object, or an object named in the body, does not exist."""


class Conflict(ApiError):
    """409: a duplicate title, or not allowed in the object's current status."""


class PayloadTooLarge(ApiError):
    """413: the body, or the number of images in it, is over the server's limit."""


class Unprocessable(ApiError):
    """422: a value out of range (a title that is not a valid name, a box outside the image, ...)."""


class TooManyRequests(ApiError):
    """429: throttled; ``retry_after`` is the number of seconds the server asked to wait, if it said."""

    def __init__(
        self, status: int, detail: str, response: httpx.Response | None = None, *, retry_after: float | None = None
    ):
        super().__init__(status, detail, response)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: the server failed or is unavailable."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: Unprocessable,
}


def error_for(response: httpx.Response) -> ApiError:
    """The typed error of an error ``response`` (whose body has been read)."""
    status = response.status_code
    detail = _detail(response)
    if status == 429:
        return TooManyRequests(status, detail, response, retry_after=retry_after_seconds(response))
    if status >= 500:
        return ServerError(status, detail, response)
    return _BY_STATUS.get(status, ApiError)(status, detail, response)


def _detail(response: httpx.Response) -> str:
    """The contract's ``detail``; else the start of the body; else the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"]
    text = response.text.strip()
    return text[:_DETAIL_MAX_CHARS] if text else response.reason_phrase or f"HTTP {response.status_code}"


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The wait ``Retry-After`` asks for, in seconds (it may be a number or an HTTP date); ``None`` without one."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)
