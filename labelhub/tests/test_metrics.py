"""core/metrics/: the series /metrics answers, and that each counts what it says it counts."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import OperationalError, connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from campaigns.models import BoundingBox, Campaign
from campaigns.tests.conftest import image_ids
from campaigns.tests.factories import CampaignImageFactory, make_campaign, objects_body
from core import jobs, metrics
from core.metrics import gauges
from core.metrics.multiprocess import prepare_multiproc_dir
from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.tests.factories import ImageSetFactory
from labelhub.tests.conftest import METRICS_TOKEN, sample, scrape

pytestmark = pytest.mark.django_db


def test_metrics_answer_prometheus_text_to_the_token(client, metrics_token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
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


def test_metrics_speak_openmetrics_to_a_scraper_that_asks_for_it(client, metrics_token):
    response = client.get(
        "/metrics",
        HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}",
        HTTP_ACCEPT="application/openmetrics-text; version=1.0.0",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.rstrip().endswith(b"# EOF")


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
    ids = image_ids(campaign)
    url = f"/api/v1/campaigns/{campaign.pk}/objects"
    before = sample("labelhub_objects_submitted_total")
    assert admin_client.put(url, objects_body(ids, per_image=3), format="json").status_code == 200
    assert sample("labelhub_objects_submitted_total") - before == 6
    # Refused (an image listed twice): nothing stored, nothing counted.
    body = objects_body([ids[0], ids[0]])
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
    assert prepare_multiproc_dir(folder) == folder and folder.is_dir()
    (folder / "counter_123.db").write_bytes(b"old")
    (folder / "histogram_9.db").write_bytes(b"old")
    (folder / "README").write_text("keep me")
    prepare_multiproc_dir(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["README"]


# --- domain gauges (campaigns.metrics, served and cached by core.metrics.gauges) ------------

DOMAIN_GAUGES = (
    "labelhub_campaigns",
    "labelhub_campaign_images_awaiting_labeling",
    "labelhub_campaign_images_labeled",
    "labelhub_campaign_boxes",
    "labelhub_campaign_boxes_per_labeled_image",
    "labelhub_images_stored_bytes",
)


def domain_values(values: dict) -> dict:
    return {key: value for key, value in values.items() if key[0].startswith(DOMAIN_GAUGES)}


@pytest.fixture
def labeled_world(admin_client):
    """An active campaign of 5 images, 2 labeled (one of them twice); a created one of 3; image sizes known."""
    active = make_campaign(images=5, status=Campaign.Status.ACTIVE)
    make_campaign(images=3, status=Campaign.Status.CREATED)
    Image.objects.update(filesize=1000)
    Image.objects.filter(pk=image_ids(active)[0]).update(filesize=None)  # unknown size: counts 0
    ids = image_ids(active)
    url = f"/api/v1/campaigns/{active.pk}/objects"
    assert admin_client.put(url, objects_body(ids[:2], per_image=3), format="json").status_code == 200
    # A new revision of the first image: only its 1 box is current, the 3 before are superseded.
    assert admin_client.put(url, objects_body(ids[:1], per_image=1), format="json").status_code == 200
    return active


def test_the_domain_gauges_count_what_labeling_left(client, metrics_token, labeled_world):
    assert domain_values(scrape(client)) == {
        ("labelhub_campaigns", (("status", "created"),)): 1,
        ("labelhub_campaigns", (("status", "active"),)): 1,
        ("labelhub_campaigns", (("status", "completed"),)): 0,
        ("labelhub_campaigns", (("status", "finished"),)): 0,
        # The created campaign's 3 images do not await labeling: it has not started.
        ("labelhub_campaign_images_awaiting_labeling", ()): 3,
        ("labelhub_campaign_images_labeled", ()): 2,
        ("labelhub_campaign_boxes", ()): 4,
        ("labelhub_campaign_boxes_per_labeled_image", ()): 2.0,
        ("labelhub_images_stored_bytes", ()): 7000,
    }


def test_a_rejected_image_awaits_labeling_again_and_its_boxes_leave_the_count(labeled_world):
    rejected = labeled_world.campaign_images.get(image_id=image_ids(labeled_world)[1])
    rejected.labeled = False  # what a rejection does (campaigns.services.reviews)
    rejected.save(update_fields=["labeled"])
    values = {g.name: g.samples for g in gauges.read_domain_gauges()}
    assert values["labelhub_campaign_images_awaiting_labeling"] == (((), 4.0),)
    assert values["labelhub_campaign_images_labeled"] == (((), 1.0),)
    assert values["labelhub_campaign_boxes"] == (((), 1.0),)


def test_the_domain_gauges_of_an_empty_database_are_zero():
    values = {g.name: g.samples for g in gauges.read_domain_gauges()}
    assert values["labelhub_campaign_boxes_per_labeled_image"] == (((), 0.0),)
    assert values["labelhub_images_stored_bytes"] == (((), 0.0),)
    assert {v for _, v in values["labelhub_campaigns"]} == {0.0}


def test_a_scrape_reads_the_domain_gauges_in_one_query_then_from_the_cache(
    client, metrics_token, labeled_world, django_assert_num_queries
):
    job_queries = len(jobs.kinds())  # JobQueueCollector: one per kind of job, every scrape
    with django_assert_num_queries(job_queries + 1):
        first = scrape(client)
    with django_assert_num_queries(job_queries):
        assert domain_values(scrape(client)) == domain_values(first)


def test_the_cached_domain_gauges_expire_after_the_cache_interval(
    settings, labeled_world, monkeypatch, django_assert_num_queries
):
    settings.METRICS_DOMAIN_CACHE_SECONDS = 15
    now = time.time()
    with django_assert_num_queries(1):
        gauges.read_domain_gauges()
    CampaignImageFactory(campaign=labeled_world)  # one more to label
    monkeypatch.setattr(time, "time", lambda: now + 14)
    with django_assert_num_queries(0):
        stale = {g.name: g.samples for g in gauges.read_domain_gauges()}
    assert stale["labelhub_campaign_images_awaiting_labeling"] == (((), 3.0),)
    monkeypatch.setattr(time, "time", lambda: now + 16)
    with django_assert_num_queries(1):
        fresh = {g.name: g.samples for g in gauges.read_domain_gauges()}
    assert fresh["labelhub_campaign_images_awaiting_labeling"] == (((), 4.0),)


def test_without_a_cache_interval_every_scrape_reads_the_database(settings, django_assert_num_queries):
    settings.METRICS_DOMAIN_CACHE_SECONDS = 0
    for _ in range(2):
        with django_assert_num_queries(1):
            gauges.read_domain_gauges()


def test_a_failing_domain_query_leaves_the_gauges_out_and_the_scrape_answers(
    client, metrics_token, labeled_world, caplog
):
    box_table = BoundingBox._meta.db_table

    def refuse(execute, sql, params, many, context):
        if box_table in sql:
            raise OperationalError("canceling statement due to statement timeout")
        return execute(sql, params, many, context)

    failures = sample("labelhub_domain_gauges_failures_total")
    with connection.execute_wrapper(refuse):
        values = scrape(client)
    assert domain_values(values) == {}
    assert ("labelhub_jobs_queued", (("kind", "imageset_finish"),)) in values  # the rest still answers
    assert values[("labelhub_domain_gauges_failures_total", ())] == failures + 1
    assert "could not read the domain gauges of domain_gauges" in caplog.text
    # A failure is not cached: the next scrape asks again.
    assert domain_values(scrape(client))[("labelhub_campaign_boxes", ())] == 4


def test_an_unavailable_cache_costs_a_query_not_the_scrape(labeled_world, monkeypatch, django_assert_num_queries):
    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    backend = caches["default"]
    monkeypatch.setattr(backend, "get", down)
    monkeypatch.setattr(backend, "set", down)
    with django_assert_num_queries(1):
        values = {g.name: g.samples for g in gauges.read_domain_gauges()}
    assert values["labelhub_campaign_images_labeled"] == (((), 2.0),)


def test_campaigns_registers_its_domain_gauges_when_the_apps_load():
    from campaigns.metrics import domain_gauges

    assert domain_gauges in gauges._domain_readers
