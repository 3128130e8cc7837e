"""The shared job lifecycle (core/jobs/): outbox queueing, claiming, heartbeats, the sweep, retries."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.db import OperationalError
from django.db.models import F
from django.test import RequestFactory
from django.utils import timezone
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.conf import Conf
from django_q.tasks import async_task as real_async_task
from psycopg_pool import PoolTimeout

from campaigns.models import Campaign, CampaignJob
from campaigns.tests.export_data import make_exportable_campaign
from core import jobs
from core.exceptions import exception_handler
from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.tests import samples
from imagesets.tests.conftest import new_imageset
from labelhub.views import server_error
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("IMAGESETS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def dead_pid() -> int:
    """The pid of a process of this host that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def broker_at(url: str, name: str) -> RedisBroker:
    class Broker(RedisBroker):
        @staticmethod
        def get_connection(list_key=None):
            return redis.from_url(url, socket_connect_timeout=1)

    return Broker(list_key=name)


@pytest.fixture
def broker_down(monkeypatch):
    """The broker refuses every task (a Redis at a closed port), as when it is down."""
    dead = broker_at("redis://127.0.0.1:1/0", "labelhub-down")
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(
        jobs.queue, "async_task", lambda func, *args, **kw: real_async_task(func, *args, sync=False, broker=dead, **kw)
    )


@pytest.fixture
def live_broker(monkeypatch):
    """A real Redis queue of this test's own: tasks are handed over, not run."""
    name = f"labelhub-jobs-{uuid.uuid4().hex[:10]}"
    broker = broker_at(REDIS_URL, name)
    try:
        broker.ping()
    except redis.RedisError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(
        jobs.queue,
        "async_task",
        lambda func, *args, **kw: real_async_task(func, *args, sync=False, broker=broker, **kw),
    )
    yield broker
    broker.delete_queue()


# --- queueing: the job row is the outbox ---------------------------------------------------------


def test_finishing_a_campaign_with_the_broker_down_answers_ok_and_keeps_the_export_queued(
    admin_client, broker_down, django_capture_on_commit_callbacks
):
    campaign, _ = make_exportable_campaign(status=Campaign.Status.COMPLETED)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.put(f"/api/v1/campaigns/{campaign.pk}", {"new_status": "finished"}, format="json")

    assert (response.status_code, response.json()) == (200, "ok")
    job = CampaignJob.objects.get(campaign=campaign)
    assert job.status == CampaignJob.Status.QUEUED
    assert job.enqueued_at is None  # the broker never got it: the sweep hands it over
    assert job.error.startswith("The job broker did not take the job (ConnectionError")
    assert job.is_stuck and job.may_retry
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.FINISHED


def test_the_sweep_hands_a_job_the_broker_refused_to_the_broker_once_it_is_back(
    admin_client, monkeypatch, django_capture_on_commit_callbacks
):
    campaign, _ = make_exportable_campaign(status=Campaign.Status.COMPLETED)
    dead = broker_at("redis://127.0.0.1:1/0", "labelhub-down")
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(
        jobs.queue, "async_task", lambda func, *args, **kw: real_async_task(func, *args, sync=False, broker=dead, **kw)
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.put(f"/api/v1/campaigns/{campaign.pk}", {"new_status": "finished"}, format="json")

    name = f"labelhub-jobs-{uuid.uuid4().hex[:10]}"
    back = broker_at(REDIS_URL, name)
    monkeypatch.setattr(
        jobs.queue, "async_task", lambda func, *args, **kw: real_async_task(func, *args, sync=False, broker=back, **kw)
    )
    try:
        assert jobs.job_sweep() == {"recovered": 0, "requeued": 1, "failed": 0}
        assert back.queue_size() == 1
        job = CampaignJob.objects.get(campaign=campaign)
        assert job.status == CampaignJob.Status.QUEUED and job.enqueued_at is not None and job.task_id
        # Handed over just now: the next sweep leaves it alone.
        assert jobs.job_sweep() == {"recovered": 0, "requeued": 0, "failed": 0}
        assert back.queue_size() == 1
    finally:
        back.delete_queue()


def test_a_job_queued_long_ago_but_never_started_is_handed_over_again(live_broker, settings):
    campaign, _ = make_exportable_campaign()
    long_ago = timezone.now() - timedelta(seconds=settings.JOBS_STALE_AFTER + 5)
    CampaignJob.objects.create(campaign=campaign, status="queued", enqueued_at=long_ago)

    assert jobs.job_sweep()["requeued"] == 1
    assert live_broker.queue_size() == 1


# --- running: one claim, heartbeats, outcomes -------------------------------------------------------


def test_a_second_delivery_of_a_running_job_does_nothing(local_storage):
    campaign, _ = make_exportable_campaign()
    now = timezone.now()
    CampaignJob.objects.create(
        campaign=campaign,
        status="running",
        heartbeat_at=now,
        date_started=now,
        worker=jobs.this_worker(),
        attempts=1,
    )
    ran = []

    assert jobs.job_run("campaign_export", campaign.pk, ran.append) is None

    assert ran == []
    assert CampaignJob.objects.get(campaign=campaign).attempts == 1


def test_a_second_delivery_of_an_ended_job_does_nothing(local_storage):
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign, status="succeeded", attempts=1)
    ran = []
    assert jobs.job_run("campaign_export", campaign.pk, ran.append) is None
    assert ran == [] and CampaignJob.objects.get(campaign=campaign).status == "succeeded"


def test_a_claimed_job_records_its_worker_attempt_and_outcome(local_storage):
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign, status="queued")
    seen = {}

    def body(job):
        seen.update(status=job.status, worker=job.worker, attempts=job.attempts)
        return {"answer": 42}

    job = jobs.job_run("campaign_export", campaign.pk, body)

    assert seen == {"status": "running", "worker": jobs.this_worker(), "attempts": 1}
    job.refresh_from_db()
    assert (job.status, job.result, job.error) == ("succeeded", {"answer": 42}, None)
    assert job.date_started <= job.date_done


@pytest.mark.django_db(transaction=True)
def test_a_running_job_writes_a_heartbeat_from_its_own_thread(local_storage, settings):
    settings.JOBS_HEARTBEAT_INTERVAL = 0.05
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign, status="queued")
    beats = []

    def body(job):
        started = CampaignJob.objects.get(pk=job.pk).heartbeat_at
        deadline = timezone.now() + timedelta(seconds=5)
        while timezone.now() < deadline:
            current = CampaignJob.objects.get(pk=job.pk).heartbeat_at
            if current > started:
                beats.append(current)
                break
        return {}

    jobs.job_run("campaign_export", campaign.pk, body)

    assert beats, "no heartbeat was written while the job ran"


# --- recovering -------------------------------------------------------------------------------------


def test_the_sweep_reruns_a_job_whose_worker_process_died_and_it_resumes(
    local_storage, admin_user, django_capture_on_commit_callbacks
):
    files = {f"img-{i}.png": samples.png(10 + i, 10) for i in range(6)} | {"notes.txt": b"text"}
    imageset = new_imageset(admin_user, files=files, storage=local_storage)
    ImageSet.objects.filter(pk=imageset.pk).update(status=ImageSet.Status.FINISHED)
    # The dead worker had registered two images before it was killed.
    Image.objects.create(
        imageset=imageset,
        blobstorage_path=f"images/uploads/{imageset.title}/img-0.png",
        filetype="PNG",
        width=10,
        height=10,
    )
    job = ImageSetJob.objects.create(
        imageset=imageset,
        status="running",
        attempts=1,
        heartbeat_at=timezone.now(),
        date_started=timezone.now(),
        worker=f"{os.uname().nodename}:{dead_pid()}",
    )
    assert job.is_stuck  # at once: its process is gone, no need to wait for staleness

    with django_capture_on_commit_callbacks(execute=True):
        counts = jobs.job_sweep()  # sync mode: the handed-over job runs right here

    assert counts == {"recovered": 1, "requeued": 0, "failed": 0}
    job.refresh_from_db()
    assert (job.status, job.attempts, job.skipped) == ("succeeded", 2, ["notes.txt"])
    names = sorted(Image.objects.filter(imageset=imageset).values_list("blobstorage_path", flat=True))
    assert names == sorted(f"images/uploads/{imageset.title}/img-{i}.png" for i in range(6))


def test_the_sweep_reruns_a_job_whose_heartbeat_went_stale(local_storage, settings, monkeypatch):
    campaign, _ = make_exportable_campaign()
    silent = timezone.now() - timedelta(seconds=settings.JOBS_STALE_AFTER + 1)
    CampaignJob.objects.create(
        campaign=campaign,
        status="running",
        attempts=1,
        heartbeat_at=silent,
        date_started=silent,
        worker="another-host:1234",
    )
    sent = []
    monkeypatch.setattr(jobs.queue, "job_send", lambda kind, pk: sent.append((kind.name, pk)))

    assert jobs.job_sweep() == {"recovered": 1, "requeued": 0, "failed": 0}

    job = CampaignJob.objects.get(campaign=campaign)
    assert (job.status, job.worker) == ("queued", "")
    assert sent == [("campaign_export", job.pk)]


def test_a_running_job_with_a_fresh_heartbeat_on_another_host_is_left_alone(local_storage, monkeypatch):
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(
        campaign=campaign,
        status="running",
        attempts=1,
        heartbeat_at=timezone.now(),
        date_started=timezone.now(),
        worker="another-host:1234",
    )
    monkeypatch.setattr(jobs.queue, "job_send", lambda kind, pk: pytest.fail("nothing to send"))
    assert jobs.job_sweep() == {"recovered": 0, "requeued": 0, "failed": 0}
    assert CampaignJob.objects.get(campaign=campaign).status == "running"


def test_a_job_that_lost_its_worker_too_often_fails_with_a_clear_error_and_can_be_retried(
    admin_client, local_storage, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_MAX_ATTEMPTS = 2
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(
        campaign=campaign,
        status="running",
        attempts=2,
        heartbeat_at=timezone.now(),
        date_started=timezone.now(),
        worker=f"{os.uname().nodename}:{dead_pid()}",
    )

    assert jobs.job_sweep()["failed"] == 1
    job = CampaignJob.objects.get(campaign=campaign)
    assert job.status == "failed"
    assert job.error.startswith("Gave up after 2 attempts")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.put(f"/api/v1/campaigns/{campaign.pk}", {"new_status": "finished"}, format="json")
    assert (response.status_code, response.json()) == (200, "ok")
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("succeeded", 1)


# --- retrying a stuck job from the API --------------------------------------------------------------


def test_finishing_a_set_again_reruns_its_stuck_job(
    admin_client, local_storage, admin_user, django_capture_on_commit_callbacks
):
    imageset = new_imageset(admin_user, files={"a.png": samples.png()}, storage=local_storage)
    ImageSet.objects.filter(pk=imageset.pk).update(status=ImageSet.Status.FINISHED)
    # The broker refused it (as job_send records it).
    ImageSetJob.objects.create(
        imageset=imageset,
        status="queued",
        enqueued_at=None,
        error="The job broker did not take the job (ConnectionError: refused)",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.put(f"/api/v1/image_sets/{imageset.pk}", {"new_status": "finished"}, format="json")

    assert (response.status_code, response.json()) == (200, "ok")
    assert ImageSetJob.objects.get(imageset=imageset).status == "succeeded"
    assert Image.objects.filter(imageset=imageset).count() == 1


def test_a_job_committed_a_moment_ago_and_not_yet_handed_over_is_not_stuck(admin_client, admin_user, monkeypatch):
    imageset = new_imageset(admin_user)
    ImageSet.objects.filter(pk=imageset.pk).update(status=ImageSet.Status.FINISHED)
    # Between its commit and the on_commit hand-over: a second "finished" must not queue it twice.
    ImageSetJob.objects.create(imageset=imageset, status="queued", enqueued_at=None)
    monkeypatch.setattr(jobs.queue, "job_send", lambda kind, pk: pytest.fail("nothing to send"))

    response = admin_client.put(f"/api/v1/image_sets/{imageset.pk}", {"new_status": "finished"}, format="json")

    assert response.status_code == 409
    assert jobs.job_sweep() == {"recovered": 0, "requeued": 0, "failed": 0}


@pytest.mark.parametrize("status", ["running", "succeeded"])
def test_finishing_a_set_again_while_its_job_runs_or_after_it_succeeded_is_a_409(admin_client, admin_user, status):
    imageset = new_imageset(admin_user)
    ImageSet.objects.filter(pk=imageset.pk).update(status=ImageSet.Status.FINISHED)
    now = timezone.now()
    ImageSetJob.objects.create(
        imageset=imageset, status=status, heartbeat_at=now, date_started=now, enqueued_at=now, worker=jobs.this_worker()
    )

    response = admin_client.put(f"/api/v1/image_sets/{imageset.pk}", {"new_status": "finished"}, format="json")

    assert response.status_code == 409
    assert "Only a failed or stuck job" in response.json()["detail"]
    assert ImageSetJob.objects.get(imageset=imageset).status == status


# --- a busy connection pool is a 503, never a 500 ---------------------------------------------------


def _pool_timeout() -> OperationalError:
    try:
        try:
            raise PoolTimeout("couldn't get a connection after 10.00 sec")
        except PoolTimeout as cause:
            raise OperationalError(str(cause)) from cause
    except OperationalError as exc:
        return exc


def test_an_api_request_that_finds_the_pool_exhausted_answers_503_json():
    response = exception_handler(_pool_timeout(), {"view": None})
    assert response.status_code == 503
    assert response.data["detail"].startswith("The service is busy")
    assert response["Retry-After"] == "1"


def test_a_plain_view_that_finds_the_pool_exhausted_answers_503_json():
    request = RequestFactory().put("/dropbox/token/a.png")
    try:
        raise _pool_timeout()
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert b"The service is busy" in response.content


# --- fencing: a run stalled while another took its job over writes nothing -----------------------


@pytest.fixture
def outcome_events(outcome_webhook):
    """The webhook events recorded: each stored outcome records one (``outcome_webhook``)."""
    return WebhookEvent.objects


def take_over(job) -> None:
    """What another host's claim does to the row while this run is stalled: a new token, its own worker."""
    type(job).objects.filter(pk=job.pk).update(
        run_token=uuid.uuid4().hex, worker="other-host:99", attempts=F("attempts") + 1, done=7
    )


def row(job) -> dict:
    return type(job).objects.filter(pk=job.pk).values().get()


def test_a_run_whose_job_was_taken_over_stops_at_its_next_progress_write_having_written_nothing(
    local_storage, outcome_events
):
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign, status="queued")
    taken_over = {}

    def body(job):
        job.set_progress(done=1, total=3)
        take_over(job)
        taken_over.update(row(job))
        job.set_progress(done=2)
        raise AssertionError("a fenced run goes on")

    assert jobs.job_run("campaign_export", campaign.pk, body) is None

    job = CampaignJob.objects.get(campaign=campaign)
    assert row(job) == taken_over
    assert (job.status, job.done, job.worker, job.attempts) == ("running", 7, "other-host:99", 2)
    assert not outcome_events.exists()


@pytest.mark.parametrize("ending", ["returns", "raises"])
def test_the_outcome_of_a_run_whose_job_was_taken_over_is_not_stored_nor_announced(
    ending, local_storage, outcome_events
):
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign, status="queued")
    taken_over = {}

    def body(job):
        take_over(job)
        taken_over.update(row(job))
        if ending == "raises":
            raise ValueError("the export broke")
        return {"files": []}

    assert jobs.job_run("campaign_export", campaign.pk, body) is None

    assert row(CampaignJob.objects.get(campaign=campaign)) == taken_over
    assert not outcome_events.exists()


def test_the_outcome_of_the_run_that_owns_the_job_ends_its_claim(local_storage, outcome_events):
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign, status="queued")
    tokens = []

    job = jobs.job_run("campaign_export", campaign.pk, lambda job: tokens.append(job.run_token) or {})

    assert len(tokens[0]) == 32
    job.refresh_from_db()
    assert (job.status, job.run_token) == ("succeeded", "")
    assert list(outcome_events.values_list("type", flat=True)) == ["export.succeeded"]


def test_the_sweep_fences_the_run_it_gives_up_on(local_storage, settings, monkeypatch, outcome_events):
    """A run silent past JOBS_STALE_AFTER is queued again; should it come back, its writes change nothing."""
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign, status="queued")
    monkeypatch.setattr(jobs.queue, "job_send", lambda kind, pk: None)
    swept = {}

    def body(job):
        silent = timezone.now() - timedelta(seconds=settings.JOBS_STALE_AFTER + 1)
        CampaignJob.objects.filter(pk=job.pk).update(heartbeat_at=silent, worker="frozen-host:1")
        assert jobs.job_sweep() == {"recovered": 1, "requeued": 0, "failed": 0}
        swept.update(row(job))
        return {}

    assert jobs.job_run("campaign_export", campaign.pk, body) is None

    job = CampaignJob.objects.get(campaign=campaign)
    assert row(job) == swept
    assert (job.status, job.worker, job.run_token) == ("queued", "", "")
    assert not outcome_events.exists()


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_finds_the_job_taken_over_and_the_body_stops_without_asking_the_database(
    local_storage, settings, django_assert_num_queries
):
    settings.JOBS_HEARTBEAT_INTERVAL = 0.05
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign, status="queued")
    stopped = []

    def body(job):
        take_over(job)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with django_assert_num_queries(0):
                    job.raise_if_fenced()
            except jobs.JobFenced:
                stopped.append(True)
                raise
            time.sleep(0.01)
        return {}

    assert jobs.job_run("campaign_export", campaign.pk, body) is None
    assert stopped == [True]
    assert CampaignJob.objects.get(campaign=campaign).worker == "other-host:99"


@pytest.mark.django_db(transaction=True)
def test_a_body_that_stores_its_own_outcome_is_not_mistaken_by_its_heartbeat_for_a_taken_over_run(
    local_storage, settings, caplog
):
    settings.JOBS_HEARTBEAT_INTERVAL = 0.05
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign, status="queued")

    def body(job):
        job.mark_succeeded(result={"done": True})  # as the finish job does, inside its body
        time.sleep(0.3)  # heartbeats come and find the claim ended

    job = jobs.job_run("campaign_export", campaign.pk, body)

    assert job is not None and not job._lost.is_set()
    assert not [r for r in caplog.records if "taken over" in r.getMessage()]
    assert (CampaignJob.objects.get(pk=job.pk).status, job.result) == ("succeeded", {"done": True})


def test_a_finish_run_taken_over_mid_copy_registers_nothing_and_leaves_the_dropbox(
    local_storage, admin_user, monkeypatch, outcome_events
):
    from imagesets import ingest
    from imagesets.naming import dropbox_name
    from imagesets.services import imageset_finish_run

    files = {f"img-{i}.png": samples.png(10 + i, 10) for i in range(6)}
    imageset = new_imageset(admin_user, files=files, storage=local_storage)
    ImageSet.objects.filter(pk=imageset.pk).update(status=ImageSet.Status.FINISHED)
    job = ImageSetJob.objects.create(imageset=imageset, status="queued")
    real_settle = ingest._Registrar.settle
    taken_over = {}

    def settle(registrar, future):  # the job's thread, as the first copied file comes back
        if not taken_over:
            take_over(job)
            taken_over.update(row(job))
        return real_settle(registrar, future)

    monkeypatch.setattr(ingest._Registrar, "settle", settle)

    assert imageset_finish_run(imageset_id=imageset.pk) is None

    assert row(job) == taken_over
    assert not Image.objects.filter(imageset=imageset).exists()
    assert local_storage.dropbox_exists(dropbox_name(imageset.title))
    assert ImageSet.objects.get(pk=imageset.pk).blobstorage_path == dropbox_name(imageset.title)  # not moved
    assert not outcome_events.exists()


def test_an_export_run_taken_over_mid_way_writes_no_further_file_and_registers_nothing(
    local_storage, monkeypatch, outcome_events
):
    from campaigns.export import services as export

    campaign, _ = make_exportable_campaign()
    written = []
    real_write = local_storage.write

    def write(path, chunks, **kwargs):
        written.append(path.rsplit("/", 1)[-1])
        if len(written) == 1:
            take_over(CampaignJob.objects.get(campaign=campaign))
        return real_write(path, chunks, **kwargs)

    monkeypatch.setattr(export, "get_storage", lambda: local_storage)
    monkeypatch.setattr(local_storage, "write", write)
    monkeypatch.setattr(export, "_register", lambda *a: pytest.fail("a fenced run registered data assets"))

    assert export.campaign_export_run(campaign_id=campaign.pk) is None

    assert written == ["beach-2024_labels.csv"]  # the file in flight; nothing after it
    job = CampaignJob.objects.get(campaign=campaign)
    assert (job.status, job.worker, job.done) == ("running", "other-host:99", 7)
    assert not outcome_events.exists()
