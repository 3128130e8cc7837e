"""Two hosts sharing PostgreSQL, Redis and Azurite: one freezes mid-job, the other finishes it, the first comes back.

Each host is a django-q2 cluster (``manage.py qcluster``) in a UTS namespace
of its own with its own hostname, as two VMs or two pods would be, on one
Redis queue. Host A takes the job and is frozen with SIGSTOP half way (a hung
VM, a network partition); host B's sweep finds its heartbeat stale, queues the
job again and runs it to the end. Then A is resumed: it must find the job
taken over at once and stop, and the job's row, its webhook events, the audit
trail and what the job made (images, exported files) must be exactly as B
left them (``core.jobs``: fencing by ``run_token``).

Host A reaches Azurite through a proxy that holds every chunk a little (a
slow link), so its run is still going when it is frozen; B talks to Azurite
directly. PostgreSQL only: SQLite is one host's database.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import sys
import threading
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import redis
from django.db import connection, transaction
from django_q.conf import Conf

from accounts.models import AuditEvent
from campaigns.models import CampaignJob
from campaigns.services.campaigns import campaign_export_queue
from campaigns.tests.export_data import make_exportable_campaign
from core import jobs
from imagesets import services as imageset_services
from imagesets.models import Image, ImageSetJob
from imagesets.naming import dropbox_name, final_folder
from imagesets.tests import samples
from imagesets.tests.conftest import new_imageset
from imagesets.tests.test_tasks import REDIS_URL, _RedisBroker, test_database_url
from testing.processes import process_group
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.slow, pytest.mark.azurite, pytest.mark.django_db(transaction=True)]

REPO_ROOT = Path(__file__).resolve().parents[2]
# The job settings of both hosts: a frozen host is given up on after a few seconds.
HEARTBEAT = 0.5
STALE_AFTER = 3
TIMEOUT = 90.0
# What host A's link holds every chunk of data, each way.
SLOW_LINK_DELAY = 0.03
QCLUSTER = [sys.executable, "manage.py", "qcluster"]


@pytest.fixture(autouse=True)
def two_hosts_can_run():
    if connection.vendor != "postgresql":
        pytest.skip("two hosts share a PostgreSQL database; SQLite is one host's")
    if shutil.which("unshare") is None or os.geteuid() != 0:
        message = "a host of its own needs `unshare --uts` as root"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")


class SlowLink:
    """A TCP proxy to ``port`` on 127.0.0.1 that holds every chunk ``delay`` seconds, both ways."""

    def __init__(self, port: int, delay: float):
        self.target = ("127.0.0.1", port)
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                time.sleep(self.delay)
                sink.sendall(chunk)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._closed.set()
        self.listener.close()


def via(link: SlowLink, connection_string: str, azurite_port: int) -> str:
    return connection_string.replace(f":{azurite_port}/", f":{link.port}/")


@contextmanager
def host(name: str, *, queue: str, storage_env: dict, log_path: Path):
    """A django-q2 cluster in a UTS namespace of its own, named ``name``; stopped (and resumed) at the end."""
    env = {
        **os.environ,
        **storage_env,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "replica-test-" + "x" * 40,
        "DJANGO_Q_SYNC": "0",
        "DJANGO_Q_NAME": queue,
        "DJANGO_Q_WORKERS": "1",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": REDIS_URL,
        "JOBS_HEARTBEAT_INTERVAL": str(HEARTBEAT),
        "JOBS_STALE_AFTER": str(STALE_AFTER),
        "JOBS_SWEEP_INTERVAL": str(HEARTBEAT),
        "IMAGESET_COPY_WORKERS": "4",
    }
    env.pop("DATABASE_TEST_NAME", None)
    # A UTS namespace: this host's own hostname, so its workers are "<name>:<pid>".
    command = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', name, *QCLUSTER]
    with process_group(command, env=env, log_path=log_path) as process:
        yield process


def wait_for(check, *, what: str, logs: list[Path], timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-2500:]}" for log in logs)
    pytest.fail(f"timed out waiting for {what}\n{tails}")


@pytest.fixture
def cluster(request, monkeypatch, azure_storage, azurite_server, settings, tmp_path):
    """Queue jobs to one real Redis queue from here; ``start(name, slow=...)`` starts a host on it."""
    queue = f"labelhub-replicas-{uuid.uuid4().hex[:10]}"
    broker = _RedisBroker(list_key=queue)
    real_async_task = jobs.queue.async_task
    monkeypatch.setattr(Conf, "PREFIX", queue)  # django-q2 signs its packages with the cluster's name
    monkeypatch.setattr(
        jobs.queue,
        "async_task",
        lambda func, *args, **kw: real_async_task(func, *args, sync=False, broker=broker, **kw),
    )
    link = SlowLink(azurite_server.port, request.param if hasattr(request, "param") else SLOW_LINK_DELAY)
    storage_env = {
        "STORAGE_BACKEND": "azure",
        "AZURE_STORAGE_IMAGESET_CONTAINER": settings.AZURE_STORAGE_IMAGESET_CONTAINER,
    }
    logs: list[Path] = []

    @contextmanager
    def start(name: str, *, slow: bool):
        conn = settings.AZURE_STORAGE_CONNECTION_STRING
        if slow:
            conn = via(link, conn, azurite_server.port)
        logs.append(tmp_path / f"{name}.log")
        env = {**storage_env, "AZURE_STORAGE_CONNECTION_STRING": conn}
        with host(name, queue=queue, storage_env=env, log_path=logs[-1]) as process:
            yield process

    start.logs = logs
    try:
        yield start
    finally:
        link.close()
        broker.delete_queue()


def freeze(process) -> None:
    os.killpg(process.pid, signal.SIGSTOP)


def resume(process) -> None:
    os.killpg(process.pid, signal.SIGCONT)


def snapshot(job) -> dict:
    """Everything a job run may write, as stored now."""
    return {
        "job": type(job).objects.filter(pk=job.pk).values().get(),
        "events": list(WebhookEvent.objects.order_by("pk").values()),
        "audit": list(AuditEvent.objects.order_by("pk").values()),
        "images": list(Image.objects.order_by("pk").values()),
    }


def run_frozen_and_taken_over(cluster, job, *, frozen_when) -> dict:
    """A takes the (queued) job and freezes; B finishes it; A resumes and must stop. Returns B's snapshot."""
    with cluster("host-a", slow=True) as host_a:
        wait_for(
            lambda: frozen_when(type(job).objects.get(pk=job.pk)),
            what="host A to be half way through the job",
            logs=cluster.logs,
        )
        freeze(host_a)
        taken = type(job).objects.get(pk=job.pk)
        assert taken.worker.startswith("host-a:") and taken.status == "running"
        with cluster("host-b", slow=False):
            done = wait_for(
                lambda: (j := type(job).objects.get(pk=job.pk)).is_finished and j,
                what="host B to finish the job",
                logs=cluster.logs,
            )
            assert done.worker.startswith("host-b:") and done.attempts == 2, (done.worker, done.attempts)
            assert done.status == "succeeded", done.error
            survivor = snapshot(job)
            resume(host_a)
            wait_for(
                lambda: "it stopped, writing nothing" in cluster.logs[0].read_text(errors="replace"),
                what="host A to find the job taken over",
                logs=cluster.logs,
                timeout=30,
            )
            time.sleep(2 * HEARTBEAT)  # anything A still did would be stored by now
            assert snapshot(job) == survivor
    return survivor


def test_a_frozen_host_that_comes_back_after_another_finished_its_set_changes_nothing(
    cluster, azure_storage, admin_user, outcome_webhook
):
    files = {f"img-{i:04d}.png": samples.png(16 + i % 7, 12) for i in range(300)}
    files.update({f"notes-{i}.txt": b"not an image" for i in range(3)})
    imageset = new_imageset(admin_user, files=files, storage=azure_storage)
    imageset_services.imageset_finish(imageset_id=imageset.pk)  # queued: host A takes it when it starts
    job = ImageSetJob.objects.get(imageset=imageset)
    folder = final_folder(imageset.title)

    survivor = run_frozen_and_taken_over(
        cluster,
        job,
        frozen_when=lambda j: j.status == "running" and 30 <= j.done < j.total // 2,
    )

    assert survivor["job"]["done"] == survivor["job"]["total"] == 303
    assert sorted(survivor["job"]["skipped"]) == [f"notes-{i}.txt" for i in range(3)]
    assert len(survivor["images"]) == 300
    assert [event["type"] for event in survivor["events"]] == ["imageset.finished"]
    assert not azure_storage.dropbox_exists(dropbox_name(imageset.title))
    assert sum(1 for _ in azure_storage.list(folder + "/")) == 303


@pytest.mark.parametrize("cluster", [0.3], indirect=True)  # a slower link: the export writes a few small files
def test_a_frozen_host_that_comes_back_after_another_exported_the_campaign_changes_nothing(
    cluster, azure_storage, outcome_webhook
):
    campaign, _ = make_exportable_campaign()
    with transaction.atomic():
        job = campaign_export_queue(campaign=campaign)  # handed to the broker when this commits
    assert job.status == "queued"

    survivor = run_frozen_and_taken_over(
        cluster,
        job,
        frozen_when=lambda j: j.status == "running" and 1 <= j.done < j.total - 2,
    )

    result = survivor["job"]["result"]
    assert [event["type"] for event in survivor["events"]] == ["export.succeeded"]
    for written in result["files"]:
        with azure_storage.open(written["path"]) as stored_file:
            stored = stored_file.read()
        assert hashlib.sha256(stored).hexdigest() == written["sha256"], written["path"]
    assert CampaignJob.objects.get(pk=job.pk).status == "succeeded"
