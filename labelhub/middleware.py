"""One middleware per request: its id, its log line and its metrics.

First in ``MIDDLEWARE``, so the time measured covers every other middleware
and every answer is counted, including the ones other middleware give
(redirects, static files).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from core import metrics
from core.log import request_id_var

logger = logging.getLogger("labelhub.request")

REQUEST_ID_HEADER = "X-Request-ID"
# A client's own id is kept when it is a plain token; anything else could forge log lines.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Probes call these every few seconds: logged at DEBUG, so they do not drown the log.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
UNMATCHED_VIEW = "unmatched"


def request_id_from(request) -> str:
    """The client's ``X-Request-ID`` when it is a token of at most 128 ``[A-Za-z0-9._-]``, else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if _SANE_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def loggable_path(request) -> str:
    """The path with signed URL tokens (read and dropbox URLs) replaced, since a token in a log is a key,
    and control characters escaped, so a path cannot forge a second log line."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    token = match.kwargs.get("token") if match is not None else None
    if isinstance(token, str) and token:
        path = path.replace(token, "<token>")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", path)


def view_name(request) -> str:
    """The route's name (``v1:campaign-images``) as the metrics label; ``unmatched`` when no route answered."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED_VIEW
    return match.view_name or UNMATCHED_VIEW


class RequestMiddleware:
    """Request id (``X-Request-ID`` in and out), one log line and the request metrics.

    The log line: method, path (tokens hidden), status, duration in ms, the
    API key's id (``ApiKey.pk``, put on the request by the API key
    authentication; never the secret) and the request id. The request id is
    also on every other record logged while the request is served.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request)
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response[REQUEST_ID_HEADER] = request_id
            self._record(request, response.status_code, seconds)
            return response
        finally:
            request_id_var.reset(token)

    def _record(self, request, status: int, seconds: float) -> None:
        metrics.request_finished(view=view_name(request), method=request.method, status=status, seconds=seconds)
        try:
            path = loggable_path(request)
            duration_ms = round(seconds * 1000, 1)
            api_key_id = getattr(request, "api_key_id", None)
            level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
            logger.log(
                level,
                "%s %s %s %.1fms api_key=%s request_id=%s",
                request.method,
                path,
                status,
                duration_ms,
                api_key_id if api_key_id is not None else "-",
                request.request_id,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "api_key_id": api_key_id,
                    "request_id": request.request_id,
                },
            )
        except Exception:  # noqa: BLE001 - a log line must never cost the client its answer
            pass
