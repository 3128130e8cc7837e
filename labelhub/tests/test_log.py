"""core/log.py: JSON log lines, the request id on every record, signed URL tokens kept out of the log."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from django.urls import resolve
from django.utils import timezone

from core.log import JsonFormatter, RedactTokenFilter, RequestIdFilter, request_id_var

pytestmark = pytest.mark.django_db


def test_the_json_formatter_writes_one_object_per_line_with_extras_and_the_request_id():
    formatter = JsonFormatter()
    record = logging.LogRecord("labelhub.test", logging.ERROR, __file__, 1, "two\nlines %s", ("here",), None)
    record.status = 503
    record.when = timezone.now()  # not JSON: written as text, never a failure
    token = request_id_var.set("abc123")
    try:
        RequestIdFilter().filter(record)
        try:
            raise ValueError("boom")
        except ValueError:
            record.exc_info = sys.exc_info()
        line = formatter.format(record)
    finally:
        request_id_var.reset(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "labelhub.test"
    assert entry["message"] == "two\nlines here"
    assert entry["request_id"] == "abc123" and entry["status"] == 503
    assert isinstance(entry["when"], str)
    assert "ValueError: boom" in entry["exc"]
    assert entry["time"].endswith("+00:00")


def test_the_request_line_in_json_has_every_field(admin_client):
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("labelhub.request")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        response = admin_client.put(
            "/api/v1/image_sets/999999", {"title": "x"}, format="json", HTTP_X_REQUEST_ID="trace-42"
        )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    (line,) = lines
    entry = json.loads(line)
    assert entry["request_id"] == "trace-42" == response["X-Request-ID"]
    assert entry["method"] == "PUT" and entry["path"] == "/api/v1/image_sets/999999"
    assert entry["status"] == response.status_code
    assert entry["api_key_id"] == admin_client.user.api_keys.get().pk
    assert entry["duration_ms"] >= 0 and entry["logger"] == "labelhub.request"


def test_a_server_error_record_of_django_hides_the_url_token(rf):
    token = "eyJwIjoiaW1hZ2VzL3NlY3JldCJ9:1sXyZq:signature-part"
    request = rf.get(f"/api/v1/files/{token}")
    request.resolver_match = resolve(request.path)
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", (request.path,), None
    )
    record.request = request
    assert RedactTokenFilter().filter(record)
    assert record.getMessage() == "Internal Server Error: /api/v1/files/<token>"
