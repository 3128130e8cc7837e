"""labelhub/middleware.py: every request counted by route, method and status, and logged in one line with its id."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from labelhub.tests.conftest import scrape

pytestmark = pytest.mark.django_db


def test_requests_are_counted_by_route_method_and_status(client, admin_client, metrics_token):
    ok = {"view": "v1:imageset-list", "method": "GET", "status": "200"}
    refused = {"view": "v1:imageset-list", "method": "GET", "status": "401"}
    unknown = {"view": "api-not-found", "method": "PUT", "status": "404"}
    before = scrape(client)
    for _ in range(3):
        admin_client.get("/api/v1/image_sets")
    client.get("/api/v1/image_sets")
    client.put("/api/v1/no-such-thing", data="{}", content_type="application/json")
    after = scrape(client)

    def delta(name, labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert delta("labelhub_http_requests_total", ok) == 3
    assert delta("labelhub_http_requests_total", refused) == 1
    assert delta("labelhub_http_requests_total", unknown) == 1
    latency = {"view": "v1:imageset-list", "method": "GET"}
    assert delta("labelhub_http_request_duration_seconds_count", latency) == 4
    assert delta("labelhub_http_request_duration_seconds_bucket", {**latency, "le": "+Inf"}) == 4


# --- the request log line ------------------------------------------------------------------


def request_records(caplog):
    return [r for r in caplog.records if r.name == "labelhub.request"]


def test_each_api_request_logs_one_line_with_its_key_id_and_request_id(admin_client, caplog):
    caplog.set_level(logging.INFO, logger="labelhub.request")
    response = admin_client.get("/api/v1/image_sets?per_page=1")
    (record,) = request_records(caplog)
    api_key = admin_client.user.api_keys.get()
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    assert (record.method, record.path, record.status, record.api_key_id, record.request_id) == (
        "GET",
        "/api/v1/image_sets",
        200,
        api_key.pk,
        request_id,
    )
    assert isinstance(record.duration_ms, float) and record.duration_ms >= 0
    message = record.getMessage()
    assert message.startswith("GET /api/v1/image_sets 200 ")
    assert f"api_key={api_key.pk}" in message and f"request_id={request_id}" in message
    assert admin_client.issued.secret not in caplog.text


def test_a_refused_request_logs_no_key_id_and_never_the_secret(api_client, admin_client, caplog):
    caplog.set_level(logging.INFO, logger="labelhub.request")
    api_client.get(
        "/api/v1/image_sets",
        HTTP_AUTHENTICATION_KEY=admin_client.issued.apikey,
        HTTP_AUTHENTICATION_SECRET="a-wrong-secret-value",
    )
    (record,) = request_records(caplog)
    assert record.status == 401 and record.api_key_id is None and "api_key=-" in record.getMessage()
    assert "a-wrong-secret-value" not in caplog.text


def test_a_sane_client_request_id_is_kept_and_returned(client, caplog):
    caplog.set_level(logging.INFO, logger="labelhub.request")
    given = "req-2024.07_abc-" + "x" * 112  # 128 characters
    response = client.get("/api/v1/image_sets", HTTP_X_REQUEST_ID=given)
    assert response["X-Request-ID"] == given
    assert request_records(caplog)[0].request_id == given


@pytest.mark.parametrize("given", ["", "has space", "x" * 129, "line\nbreak", "naïve", "a/b", "<script>"])
def test_an_unusable_client_request_id_is_replaced_by_a_new_one(client, caplog, given):
    caplog.set_level(logging.INFO, logger="labelhub.request")
    response = client.get("/api/v1/image_sets", HTTP_X_REQUEST_ID=given)
    request_id = response["X-Request-ID"]
    assert request_id != given and len(request_id) == 32
    assert request_records(caplog)[0].request_id == request_id


def test_two_requests_get_different_request_ids(client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_signed_url_tokens_are_not_written_to_the_log(client, caplog):
    caplog.set_level(logging.INFO, logger="labelhub.request")
    token = "eyJwIjoiaW1hZ2VzL3NlY3JldCJ9:1sXyZq:signature-part"
    client.get(reverse("v1:storage-file", kwargs={"token": token}))
    client.put(f"/api/v1/dropbox/{token}/car.png", data=b"x", content_type="image/png")
    records = request_records(caplog)
    assert [r.path for r in records] == ["/api/v1/files/<token>", "/api/v1/dropbox/<token>/car.png"]
    assert token not in caplog.text


def test_control_characters_in_a_path_cannot_forge_a_log_line(client, caplog):
    caplog.set_level(logging.INFO, logger="labelhub.request")
    client.get("/api/v1/x%0AGET /api/v1/fake 200")
    (record,) = request_records(caplog)
    assert "\n" not in record.getMessage() and "\\x0a" in record.path


def test_probe_requests_log_at_debug_only(client, caplog):
    caplog.set_level(logging.INFO, logger="labelhub.request")
    client.get("/healthz")
    client.get("/readyz")
    assert request_records(caplog) == []
