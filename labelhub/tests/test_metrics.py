"""Operations: /readyz, /metrics, the request log line and JSON logs (in one process)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from prometheus_client.parser import text_string_to_metric_families

from campaigns.models import Campaign
from campaigns.tests.factories import make_campaign, objects_body
from imagesets.models import ImageSet, ImageSetJob
from imagesets.tests.factories import ImageSetFactory
from labelhub import metrics
from labelhub.log import JsonFormatter, RequestIdFilter, request_id_var
from labelhub.testing.azurite import connection_string, free_port

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests"


def sample(name: str, labels: dict | None = None) -> float:
    """One value of this process's metrics (0 when the series does not exist yet)."""
    return metrics.REGISTRY.get_sample_value(name, labels or {}) or 0.0


def scraped(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return scraped(response.content.decode())


# --- /healthz and /readyz ----------------------------------------------------------------


def test_healthz_stays_a_cheap_liveness_answer(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_is_ok_when_database_storage_and_broker_answer(client, local_storage):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok", "broker": "ok"}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.azurite
def test_readyz_is_ok_on_azure_storage_that_answers(client, azure_storage):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["storage"] == "ok"


def test_readyz_names_the_storage_when_azure_does_not_answer(client, settings):
    settings.STORAGE_BACKEND = "azure"
    settings.AZURE_STORAGE_CONNECTION_STRING = connection_string("127.0.0.1", free_port())
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 3, "a refused connection is not retried with backoff"
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == 503 and "storage" in body["detail"]
    assert body["checks"] == {"database": "ok", "storage": "down", "broker": "ok"}


def test_readyz_names_the_storage_when_media_root_cannot_be_written(client, settings, tmp_path):
    # A MEDIA_ROOT below a file can never be created or written (root or not).
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.MEDIA_ROOT = str(blocker / "media")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "storage": "down", "broker": "ok"}


def test_readyz_names_the_broker_when_redis_does_not_answer(client, local_storage, monkeypatch):
    # Q_CLUSTER is read once, at import: the broker is built from django-q2's Conf, so change that.
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{free_port()}/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert "broker" in body["detail"]
    assert body["checks"] == {"database": "ok", "storage": "ok", "broker": "down"}


def test_readyz_is_ok_with_the_redis_broker_up(client, local_storage, monkeypatch):
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0"))
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["broker"] == "ok"


def test_readyz_names_the_database_and_the_orm_broker_when_the_database_fails(client, local_storage, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    # The ORM broker is a table of that database: it is down with it.
    assert response.json()["checks"] == {"database": "down", "storage": "ok", "broker": "down"}


def test_readyz_refuses_other_methods_with_json(client):
    response = client.post("/readyz")
    assert response.status_code == 405
    assert response.json()["status"] == 405


# --- /metrics --------------------------------------------------------------------------


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found", "status": 404}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        f"Basic {TOKEN}",
        "Bearer",
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"bearer {TOKEN[:-1]}",
        "Bearer é",
    ],
)
def test_metrics_refuse_a_missing_or_wrong_bearer_token(client, metrics_token, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response.json()["status"] == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"labelhub_" not in response.content


def test_metrics_answer_prometheus_text_to_the_token(client, metrics_token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert len(names) >= 13
    assert {
        "labelhub_http_requests",
        "labelhub_http_request_duration_seconds",
        "labelhub_jobs_started",
        "labelhub_jobs_succeeded",
        "labelhub_jobs_failed",
        "labelhub_jobs_recovered",
        "labelhub_job_duration_seconds",
        "labelhub_jobs_queued",
        "labelhub_jobs_oldest_queued_age_seconds",
        "labelhub_images_ingested",
        "labelhub_images_skipped",
        "labelhub_objects_submitted",
        "labelhub_api_key_auth_failures",
    } <= names


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


def test_an_invented_method_is_counted_as_other(client):
    before = sample("labelhub_http_requests_total", {"view": "healthz", "method": "other", "status": "200"})
    client.generic("BREW", "/healthz")
    after = sample("labelhub_http_requests_total", {"view": "healthz", "method": "other", "status": "200"})
    assert after - before == 1


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"HTTP_AUTHENTICATION_KEY": "k" * 20}, "missing_header"),
        ({"HTTP_AUTHENTICATION_KEY": "k" * 65, "HTTP_AUTHENTICATION_SECRET": "s"}, "malformed_key"),
        ({"HTTP_AUTHENTICATION_KEY": "no-such-key", "HTTP_AUTHENTICATION_SECRET": "s"}, "unknown_key"),
    ],
)
def test_api_key_failures_are_counted_by_reason(api_client, headers, reason):
    before = sample("labelhub_api_key_auth_failures_total", {"reason": reason})
    response = api_client.get("/api/v1/image_sets", **headers)
    assert response.status_code == 401
    assert sample("labelhub_api_key_auth_failures_total", {"reason": reason}) - before == 1


def test_a_wrong_secret_an_expired_key_and_a_disabled_user_are_counted_apart(api_client, admin_client):
    key = admin_client.issued.apikey
    api_key = admin_client.user.api_keys.get()

    def failures(reason):
        return sample("labelhub_api_key_auth_failures_total", {"reason": reason})

    before = {r: failures(r) for r in ("wrong_secret", "expired_key", "inactive_user")}
    assert (
        api_client.get(
            "/api/v1/image_sets", HTTP_AUTHENTICATION_KEY=key, HTTP_AUTHENTICATION_SECRET="wrong"
        ).status_code
        == 401
    )
    api_key.expires_at = timezone.now() - timedelta(days=1)
    api_key.save(update_fields=["expires_at"])
    assert admin_client.get("/api/v1/image_sets").status_code == 401
    api_key.expires_at = None
    api_key.save(update_fields=["expires_at"])
    admin_client.user.is_active = False
    admin_client.user.save(update_fields=["is_active"])
    assert admin_client.get("/api/v1/image_sets").status_code == 401
    assert {r: failures(r) - before[r] for r in before} == {"wrong_secret": 1, "expired_key": 1, "inactive_user": 1}


def test_a_valid_key_and_no_key_at_all_are_not_failures(api_client, admin_client):
    before = sum(sample("labelhub_api_key_auth_failures_total", {"reason": r}) for r in metrics.AUTH_FAILURE_REASONS)
    assert admin_client.get("/api/v1/image_sets").status_code == 200
    assert api_client.get("/api/v1/image_sets").status_code == 401  # no headers: the permission refuses
    after = sum(sample("labelhub_api_key_auth_failures_total", {"reason": r}) for r in metrics.AUTH_FAILURE_REASONS)
    assert after == before


def test_submitted_objects_are_counted_once_stored(admin_client):
    campaign = make_campaign(images=2, status=Campaign.Status.ACTIVE)
    image_ids = list(campaign.campaign_images.values_list("image_id", flat=True))
    url = f"/api/v1/campaigns/{campaign.pk}/objects"
    before = sample("labelhub_objects_submitted_total")
    assert admin_client.put(url, objects_body(image_ids, per_image=3), format="json").status_code == 200
    assert sample("labelhub_objects_submitted_total") - before == 6
    # Refused (an image listed twice): nothing stored, nothing counted.
    body = objects_body([image_ids[0], image_ids[0]])
    assert admin_client.put(url, body, format="json").status_code == 400
    assert sample("labelhub_objects_submitted_total") - before == 6


def test_queue_depth_and_oldest_queued_age_are_read_from_the_job_tables(client, metrics_token):
    now = timezone.now()
    for minutes in (2, 10):
        ImageSetJob.objects.create(
            imageset=ImageSetFactory(status=ImageSet.Status.FINISHED),
            status=ImageSetJob.Status.QUEUED,
            date_queued=now - timedelta(minutes=minutes),
        )
    ImageSetJob.objects.create(
        imageset=ImageSetFactory(status=ImageSet.Status.FINISHED),
        status=ImageSetJob.Status.RUNNING,
        date_queued=now - timedelta(hours=5),
    )
    values = scrape(client)
    assert values[("labelhub_jobs_queued", (("kind", "imageset_finish"),))] == 2
    assert 600 <= values[("labelhub_jobs_oldest_queued_age_seconds", (("kind", "imageset_finish"),))] < 700
    assert values[("labelhub_jobs_queued", (("kind", "campaign_export"),))] == 0
    assert values[("labelhub_jobs_oldest_queued_age_seconds", (("kind", "campaign_export"),))] == 0


def test_the_job_functions_record_counts_and_durations():
    kind = "campaign_export"

    def value(name, **labels):
        return sample(name, {"kind": kind, **labels})

    before = {
        "started": value("labelhub_jobs_started_total"),
        "succeeded": value("labelhub_jobs_succeeded_total"),
        "failed": value("labelhub_jobs_failed_total"),
        "recovered": value("labelhub_jobs_recovered_total"),
        "ok_runs": value("labelhub_job_duration_seconds_count", outcome="succeeded"),
        "ok_seconds": value("labelhub_job_duration_seconds_sum", outcome="succeeded"),
        "failed_runs": value("labelhub_job_duration_seconds_count", outcome="failed"),
    }
    metrics.job_started(kind)
    metrics.job_succeeded(kind, 12.5)
    metrics.job_started(kind)
    metrics.job_failed(kind, 3.0)
    metrics.job_failed(kind, None)  # gave up without running: counted, no duration
    metrics.job_recovered(kind)
    assert value("labelhub_jobs_started_total") - before["started"] == 2
    assert value("labelhub_jobs_succeeded_total") - before["succeeded"] == 1
    assert value("labelhub_jobs_failed_total") - before["failed"] == 2
    assert value("labelhub_jobs_recovered_total") - before["recovered"] == 1
    assert value("labelhub_job_duration_seconds_count", outcome="succeeded") - before["ok_runs"] == 1
    assert value("labelhub_job_duration_seconds_sum", outcome="succeeded") - before["ok_seconds"] == 12.5
    assert value("labelhub_job_duration_seconds_count", outcome="failed") - before["failed_runs"] == 1


def test_images_ingested_and_skipped_are_counted():
    before = (sample("labelhub_images_ingested_total"), sample("labelhub_images_skipped_total"))
    metrics.images_ingested(40)
    metrics.images_skipped(3)
    metrics.images_skipped(0)
    after = (sample("labelhub_images_ingested_total"), sample("labelhub_images_skipped_total"))
    assert (after[0] - before[0], after[1] - before[1]) == (40, 3)


def test_recording_a_metric_never_raises_into_the_caller(caplog):
    metrics.job_succeeded("imageset_finish", "not a number")
    metrics.images_ingested(None)
    metrics.request_finished(view="x", method="GET", status=200, seconds=object())
    assert "could not record metric" in caplog.text


def test_prepare_multiproc_dir_creates_the_folder_and_removes_only_old_metric_files(tmp_path):
    folder = tmp_path / "var" / "prometheus"
    assert metrics.prepare_multiproc_dir(folder) == folder and folder.is_dir()
    (folder / "counter_123.db").write_bytes(b"old")
    (folder / "histogram_9.db").write_bytes(b"old")
    (folder / "README").write_text("keep me")
    metrics.prepare_multiproc_dir(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["README"]


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


# --- JSON lines -----------------------------------------------------------------------------


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


def run_manage(*args, env):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LOG_"))}
    full.update({"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{ROOT}/var/settings-check.sqlite3", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120
    )


def test_log_format_json_switches_every_log_line_to_json():
    result = run_manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('labelhub.probe').warning('hello %s', 'world')",
        env={"LOG_FORMAT": "json"},
    )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "labelhub.probe" in line]
    entry = json.loads(line)
    assert entry["message"] == "hello world" and entry["level"] == "WARNING"


def test_an_unknown_log_format_fails_at_start_up():
    result = run_manage("check", env={"LOG_FORMAT": "xml"})
    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr


def test_metrics_speak_openmetrics_to_a_scraper_that_asks_for_it(client, metrics_token):
    response = client.get(
        "/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.rstrip().endswith(b"# EOF")


def test_a_server_error_record_of_django_hides_the_url_token(rf):
    from django.urls import resolve

    from labelhub.log import RedactTokenFilter

    token = "eyJwIjoiaW1hZ2VzL3NlY3JldCJ9:1sXyZq:signature-part"
    request = rf.get(f"/api/v1/files/{token}")
    request.resolver_match = resolve(request.path)
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", (request.path,), None
    )
    record.request = request
    assert RedactTokenFilter().filter(record)
    assert record.getMessage() == "Internal Server Error: /api/v1/files/<token>"
