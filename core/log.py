"""Logging pieces: the request id of the request being served, and JSON lines.

``LOG_FORMAT=json`` (settings.LOGGING) formats every record with
``JsonFormatter``: one JSON object per line with the time, level, logger,
message, the request id of the request that logged it, any ``extra=`` fields
and the traceback. Nothing here imports Django models: logging is configured
before the apps are loaded.
"""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime

# The X-Request-ID of the request this thread is serving (set by labelhub.middleware).
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("labelhub_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None)).keys()) | {
    "message",
    "asctime",
    "request_id",
}


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``None`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class RedactTokenFilter(logging.Filter):
    """Hides the signed URL token of a read or dropbox URL in Django's own request records.

    ``django.request`` names the path of a failed request; in those URLs the
    token is the key to a file or a dropbox, so it must not reach a log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        match = getattr(getattr(record, "request", None), "resolver_match", None)
        token = match.kwargs.get("token") if match is not None else None
        if isinstance(token, str) and token:
            record.msg = record.getMessage().replace(token, "<token>")
            record.args = ()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, ``request_id``, extras, ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: an extra that is not JSON (a datetime, a model) still gives a line.
        return json.dumps(entry, default=str, ensure_ascii=False)
