"""labelhub as docs/configuration.md starts it: ``manage.py serve`` (gunicorn + the django-q2 cluster), faults included.

The seed flow runs against the real server with two web worker processes and
two job worker processes (PostgreSQL with the Redis broker, or SQLite with the
ORM broker, as the suite's database is); then a job worker is killed with
SIGKILL in the middle of a finish job, and the job must finish by itself.
Another test finishes a campaign while the broker is down and sees the export
run once it is back.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import redis
import requests
from django.db import connection

from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from campaigns.models import Campaign, CampaignJob
from campaigns.tests.export_data import make_exportable_campaign
from imagesets.models import Image, ImageSetJob
from imagesets.naming import dropbox_name
from imagesets.tests import samples
from imagesets.tests.conftest import put_files
from imagesets.tests.test_tasks import test_database_url
from labelhub.tests.test_full_flow import run_seed_flow
from testing.azurite import free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REPO_ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("IMAGESETS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
START_TIMEOUT = 60.0


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def server_env(media_root: str, tmp_path: Path, *, redis_url: str | None) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DJANGO_DEBUG": "0",
        "DJANGO_Q_SYNC": "0",
        "DJANGO_Q_NAME": f"labelhub-serve-{uuid.uuid4().hex[:8]}",
        "DJANGO_Q_WORKERS": "2",
        "WEB_WORKERS": "2",
        "WEB_THREADS": "4",
        "STORAGE_BACKEND": "local",
        "MEDIA_ROOT": media_root,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "JOBS_SWEEP_INTERVAL": "1",
        "JOBS_HEARTBEAT_INTERVAL": "1",
        "JOBS_STALE_AFTER": "30",
        "IMAGESET_COPY_WORKERS": "1",
    }
    env.pop("DATABASE_TEST_NAME", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


@contextmanager
def serve(env: dict, log_path: Path):
    """``python manage.py serve``, as docs/configuration.md runs it; yields its base URL, stops it with SIGTERM."""
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, f"serve exited:\n{log_path.read_text(errors='replace')[-3000:]}"
            with suppress(requests.RequestException):
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"serve did not start:\n{log_path.read_text(errors='replace')[-3000:]}"
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            stopped_in = time.monotonic()
            process.wait(timeout=20)
            stop_seconds = time.monotonic() - stopped_in
        except subprocess.TimeoutExpired:
            stop_seconds = None
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    # Ctrl-C / SIGTERM stops web server and workers within a few seconds.
    assert stop_seconds is not None and stop_seconds < 12, f"serve took {stop_seconds} s to stop"


def admin_headers() -> dict:
    issued = apikey_issue(user=UserFactory(email="jayke@test.com", is_staff=True))
    return {"Authentication-Key": issued.apikey, "Authentication-Secret": issued.secret}


def wait_until(check, *, timeout: float, interval: float = 0.05, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(message or "timed out")


def test_the_seed_flow_runs_on_the_real_server_and_a_killed_job_worker_loses_nothing(local_storage, settings, tmp_path):
    redis_url = REDIS_URL if is_postgres() else None
    if redis_url:
        redis.from_url(redis_url).ping()  # the machine's Redis must be up (CI starts it)
    env = server_env(settings.MEDIA_ROOT, tmp_path, redis_url=redis_url)
    # The production commands of docs/configuration.md: collected static files served by WhiteNoise, /metrics on.
    env |= {"STATIC_ROOT": str(tmp_path / "static"), "WHITENOISE_USE_FINDERS": "0", "METRICS_TOKEN": "scrape-me"}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=REPO_ROOT, env=env, check=True
    )
    headers = admin_headers()
    log_path = tmp_path / "serve.log"

    with serve(env, log_path) as base, requests.Session() as http:
        api = f"{base}/api/v1"
        assert http.get(f"{base}/static/admin/css/base.css").status_code == 200
        run_seed_flow(
            http,
            api,
            headers,
            container=settings.AZURE_STORAGE_IMAGESET_CONTAINER,
            read_stored=lambda path: local_storage.open(path).read(),
        )
        # The jobs ran in the job workers, the requests in two web workers: one scrape sums them all.
        scraped = http.get(f"{base}/metrics", headers={"Authorization": "Bearer scrape-me"}).text
        assert 'labelhub_jobs_succeeded_total{kind="imageset_finish"} 1.0' in scraped
        assert 'labelhub_jobs_succeeded_total{kind="campaign_export"} 1.0' in scraped
        assert "labelhub_images_ingested_total 3.0" in scraped

        # A set large enough that its finish job is still running when its worker is killed.
        response = http.post(f"{api}/image_sets", json={"title": "killed-worker"}, headers=headers)
        assert response.status_code == 200, response.text
        imageset_id = response.json()["imageset_id"]
        from imagesets.models import ImageSet

        imageset = ImageSet.objects.get(pk=imageset_id)
        png = samples.png(16, 12)
        files = {f"img-{i:05}.png": png for i in range(3000)}
        files |= {f"junk-{i}.bin": b"\0" * (100 + i) for i in range(3)}
        put_files(local_storage, imageset, files)

        response = http.put(f"{api}/image_sets/{imageset_id}", json={"new_status": "finished"}, headers=headers)
        assert (response.status_code, response.json()) == (200, "ok")
        job = wait_until(
            lambda: ImageSetJob.objects.filter(imageset_id=imageset_id, status="running").exclude(worker="").first(),
            timeout=30,
            message="the finish job never started",
        )
        pid = int(job.worker.rpartition(":")[2])
        os.kill(pid, signal.SIGKILL)
        registered_at_kill = Image.objects.filter(imageset_id=imageset_id).count()

        job = wait_until(
            lambda: ImageSetJob.objects.filter(imageset_id=imageset_id, status__in=["succeeded", "failed"]).first(),
            timeout=90,
            interval=0.2,
            message=f"the job never ended after its worker was killed:\n{log_path.read_text(errors='replace')[-3000:]}",
        )

    assert job.status == "succeeded", job.error
    assert job.attempts == 2, "the first attempt must have been cut short by the kill"
    assert registered_at_kill < 3000
    assert job.skipped == [f"junk-{i}.bin" for i in range(3)]
    paths = list(Image.objects.filter(imageset_id=imageset_id).values_list("blobstorage_path", flat=True))
    assert len(paths) == len(set(paths)) == 3000  # nothing lost, nothing registered twice
    assert not local_storage.dropbox_exists(dropbox_name("killed-worker"))


# The Redis broker is the production set-up, and production is PostgreSQL (make run's SQLite
# default uses the ORM broker, which cannot be down apart from the database). On SQLite, four
# processes writing one file made this test miss its deadline once in a dozen runs.
def test_a_campaign_finished_while_the_broker_is_down_exports_once_it_is_back(local_storage, settings, tmp_path):
    if not is_postgres():
        pytest.skip("a Redis outage is tested with PostgreSQL, the database Redis is deployed with")
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.fail("redis-server is needed (the machine's Redis package)")
    port = free_port()
    broker_log = tmp_path / "redis.log"

    def start_broker():
        process = subprocess.Popen(
            [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=open(broker_log, "ab"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: _pings(port), timeout=10, message="redis-server did not start")
        return process

    broker = start_broker()
    campaign, _ = make_exportable_campaign(status=Campaign.Status.COMPLETED)
    headers = admin_headers()
    env = server_env(settings.MEDIA_ROOT, tmp_path, redis_url=f"redis://127.0.0.1:{port}/0")
    try:
        log_path = tmp_path / "serve.log"
        with serve(env, log_path) as base:
            broker.terminate()
            broker.wait(timeout=10)

            response = requests.put(
                f"{base}/api/v1/campaigns/{campaign.pk}", json={"new_status": "finished"}, headers=headers, timeout=30
            )
            assert (response.status_code, response.json()) == (200, "ok")
            job = CampaignJob.objects.get(campaign=campaign)
            assert (job.status, job.enqueued_at) == ("queued", None)
            time.sleep(2)  # sweeps run meanwhile; with no broker nothing can start
            assert CampaignJob.objects.get(campaign=campaign).status == "queued"

            broker = start_broker()
            job = wait_until(
                lambda: CampaignJob.objects.filter(campaign=campaign, status__in=["succeeded", "failed"]).first(),
                timeout=60,
                interval=0.2,
                message=f"the export never ran after the broker came back "
                f"({CampaignJob.objects.filter(campaign=campaign).values('status', 'error', 'enqueued_at').first()}):"
                f"\n{log_path.read_text(errors='replace')[-4000:]}",
            )
    finally:
        broker.terminate()
        broker.wait(timeout=10)

    assert job.status == "succeeded", job.error
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.FINISHED


def _pings(port: int) -> bool:
    try:
        return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False
