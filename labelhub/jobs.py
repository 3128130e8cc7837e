"""Background jobs: their stored state and the one lifecycle both jobs share.

The job row is the source of truth (an outbox): a status change that starts
a job commits it as ``queued`` in its own transaction and hands it to the
django-q2 broker only after the commit (``job_enqueue``). If the broker is
down the row simply stays queued, and the sweep hands it over again later,
so a request never fails because of the broker and no job is lost.

A queued task calls ``job_run``, which claims the row under a lock (a second
delivery of the same task does nothing), counts the attempt, runs the job's
body with a heartbeat, and stores the outcome. A worker that dies (SIGKILL,
the OOM killer, a deploy, django-q2's timeout) leaves its job ``running``;
``job_sweep`` finds it, by its process being gone on this host or by its
heartbeat going stale (``JOBS_STALE_AFTER``), and queues it again, until
``JOBS_MAX_ATTEMPTS`` attempts have been made, after which the job is
``failed`` with a clear error and the retry paths accept it. The bodies are
idempotent, so running one again is always safe.

Every django-q2 worker process sweeps when it starts (so a worker that
replaces a killed one recovers its job at once) and then every
``JOBS_SWEEP_INTERVAL`` seconds from a thread of its own.

Apps register their kind of job (``register``) from their ``AppConfig``;
this module never imports them (apps depend one way: on ``labelhub``).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from labelhub import metrics

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Job(models.Model):
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: no error; "" is not one)
    result = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True, default="")
    date_queued = models.DateTimeField(default=timezone.now)
    date_started = models.DateTimeField(null=True, blank=True)
    date_done = models.DateTimeField(null=True, blank=True)
    # Written by the running job every few seconds; a running job whose
    # heartbeat is older than JOBS_STALE_AFTER lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When the job was last handed to the broker (null: not yet, or the broker
    # refused it): a queued job not picked up since is handed over again.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # "<host>:<pid>" of the worker process running it: a running job whose
    # process is gone on this host is recovered without waiting for staleness.
    worker = models.CharField(max_length=128, blank=True, default="")

    Status = JobStatus

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def is_stuck(self) -> bool:
        """Queued or running, but nothing is working on it (what staff may retry besides a failure)."""
        stale = timezone.now() - timedelta(seconds=settings.JOBS_STALE_AFTER)
        if self.status == JobStatus.RUNNING:
            return (self.heartbeat_at or self.date_started or self.date_queued) < stale or _worker_is_dead(self.worker)
        if self.status == JobStatus.QUEUED:
            if self.enqueued_at is None and self.error:
                return True  # the broker refused it (job_send recorded why)
            # Not handed over since long (lost between its commit and the hand-over,
            # or the broker lost it): a job just committed is not stuck.
            return (self.enqueued_at or self.date_queued) < stale
        return False

    @property
    def may_retry(self) -> bool:
        return self.status == JobStatus.FAILED or self.is_stuck

    def reset(self) -> None:
        """Back to queued for a (re)run; counts, attempts and errors of the last run are cleared."""
        self.status = JobStatus.QUEUED
        self.done = 0
        self.total = 0
        self.error = None
        self.result = {}
        self.attempts = 0
        self.date_queued = timezone.now()
        self.date_started = None
        self.date_done = None
        self.heartbeat_at = None
        self.enqueued_at = None
        self.worker = ""

    def set_progress(self, *, done: int | None = None, total: int | None = None) -> None:
        """Store progress (and so a heartbeat); callers write it at a bounded rate."""
        fields = {"heartbeat_at": timezone.now()}
        if done is not None:
            fields["done"] = self.done = done
        if total is not None:
            fields["total"] = self.total = total
        type(self).objects.filter(pk=self.pk).update(**fields)

    def mark_succeeded(self, *, result: dict | None = None) -> None:
        self.status = JobStatus.SUCCEEDED
        self.result = result if result is not None else self.result
        self.error = None
        self.date_done = timezone.now()
        self.save(update_fields=["status", "result", "error", "date_done", "done", "total"])

    def mark_failed(self, exc: BaseException | str) -> None:
        self.status = JobStatus.FAILED
        if isinstance(exc, BaseException):
            self.error = f"{type(exc).__name__}: {exc}"
            self.result = {**(self.result or {}), "traceback": traceback.format_exc(limit=8)}
        else:
            self.error = exc
        self.date_done = timezone.now()
        self.save(update_fields=["status", "error", "result", "date_done", "done", "total"])

    def as_contract(self) -> dict:
        """The contract's ``job`` object (subclasses add their own keys)."""
        return {
            "status": self.status,
            "progress": {"done": self.done, "total": self.total},
            "error": self.error,
            "date_queued": self.date_queued,
            "date_started": self.date_started,
            "date_done": self.date_done,
            "attempts": self.attempts,
        }


# --- kinds of job -----------------------------------------------------------------------


@dataclass(frozen=True)
class JobKind:
    """One kind of background job: its row model, the row's owner and its django-q2 task."""

    name: str  # "imageset_finish", also the metrics label
    model: type[Job]
    owner_field: str  # the job row's foreign key to what it works on, e.g. "imageset_id"
    task: str  # dotted path of the django-q2 entry point; called with the owner's id

    def task_name(self, owner_id: int) -> str:
        return f"{self.name}-{owner_id}"


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    _KINDS[kind.name] = kind
    return kind


def kinds() -> list[JobKind]:
    return list(_KINDS.values())


def kind_of(job: Job) -> JobKind:
    for kind in _KINDS.values():
        if isinstance(job, kind.model):
            return kind
    raise LookupError(f"{type(job).__name__} is not a registered kind of job")


# --- queueing --------------------------------------------------------------------------


def job_enqueue(job: Job) -> None:
    """Hand the (queued, saved) job to the broker once the current transaction commits.

    Call it inside the transaction that made the job ``queued``. The request
    that caused it never fails because of the broker: if handing over fails
    the job stays queued with no ``enqueued_at`` and the sweep tries again.
    """
    kind = kind_of(job)
    job_pk = job.pk
    # robust: a broker error (or, in sync mode, a failing job) must not turn the
    # committed status change into a 500; the job row tells what happened.
    transaction.on_commit(lambda: job_send(kind, job_pk), robust=True)


def job_send(kind: JobKind, job_pk: int) -> bool:
    """Give a queued job to the broker now; ``False`` (and the job left for the sweep) if it refused."""
    job = kind.model.objects.filter(pk=job_pk, status=JobStatus.QUEUED).first()
    if job is None:
        return False  # already running, done or gone
    owner_id = getattr(job, kind.owner_field)
    kind.model.objects.filter(pk=job_pk).update(enqueued_at=timezone.now())
    if Conf.SYNC:
        # Tests (and DJANGO_Q_SYNC) run the task right here: an error is the job's, not the broker's.
        task_id = async_task(kind.task, owner_id, task_name=kind.task_name(owner_id))
    else:
        try:
            task_id = async_task(kind.task, owner_id, task_name=kind.task_name(owner_id))
        except Exception as exc:  # noqa: BLE001 - any broker failure leaves the job to the sweep
            logger.warning("could not queue %s job %s (%s); the sweep will retry", kind.name, job_pk, exc)
            kind.model.objects.filter(pk=job_pk, status=JobStatus.QUEUED).update(
                enqueued_at=None,
                error=f"The job broker did not take the job ({type(exc).__name__}: {str(exc)[:200]}); "
                "it is handed over again automatically",
            )
            metrics.job_enqueue_failed(kind.name)
            return False
    kind.model.objects.filter(pk=job_pk, status=JobStatus.QUEUED).update(task_id=str(task_id or "")[:64], error=None)
    return True


# --- running ---------------------------------------------------------------------------


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def _worker_is_dead(worker: str) -> bool:
    """Whether ``worker`` ("host:pid") names a process of this host that no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdecimal():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def _claim(kind: JobKind, owner_id: int, *, force: bool) -> Job | None:
    """Mark the owner's job running for this process, or ``None`` when there is nothing to run.

    A job another live worker is running is left alone (a duplicate delivery),
    unless ``force``; one that ran out of attempts is failed here.
    """
    with transaction.atomic():
        job = kind.model.objects.select_for_update().filter(**{kind.owner_field: owner_id}).first()
        if job is None:
            return None
        if job.status == JobStatus.RUNNING and not force and not job.is_stuck:
            logger.info("%s job %s is already running on %s", kind.name, job.pk, job.worker)
            return None
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) and not force:
            return None  # a duplicate delivery of a job that has ended
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            job.reset()
        if job.attempts >= settings.JOBS_MAX_ATTEMPTS and not force:
            job.mark_failed(
                f"Gave up after {job.attempts} attempts: the worker running it stopped each time "
                f"(killed, out of memory or over the {settings.Q_CLUSTER['timeout']} s time limit)"
            )
            metrics.job_failed(kind.name, 0.0)
            return None
        now = timezone.now()
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.date_started = now
        job.heartbeat_at = now
        job.date_done = None
        job.error = None
        job.worker = this_worker()
        job.save(update_fields=["status", "attempts", "date_started", "heartbeat_at", "date_done", "error", "worker"])
    return job


class _Heartbeat:
    """Writes ``heartbeat_at`` every ``JOBS_HEARTBEAT_INTERVAL`` seconds from a thread of its own.

    Not started inside an open transaction (tests running a job inline): a
    second connection could not see the uncommitted row, and on SQLite would
    wait on its lock.
    """

    def __init__(self, job: Job):
        self.job = job
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self):
        if not connection.in_atomic_block:
            self._thread = threading.Thread(target=self._beat, name=f"job-heartbeat-{self.job.pk}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _beat(self) -> None:
        model, pk, worker = type(self.job), self.job.pk, self.job.worker
        try:
            while not self._stop.wait(settings.JOBS_HEARTBEAT_INTERVAL):
                try:
                    model.objects.filter(pk=pk, status=JobStatus.RUNNING, worker=worker).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:  # noqa: BLE001 - a missed beat is not fatal; the next one may pass
                    logger.warning("heartbeat of job %s failed", pk, exc_info=True)
        finally:
            connection.close()


def job_run(kind_name: str, owner_id: int, body: Callable[[Job], dict | None], *, force: bool = False) -> Job | None:
    """Claim the owner's job and run ``body(job)``; the job's outcome is stored, a failure re-raised.

    ``body`` returns the job's result (or marks the job succeeded itself).
    Returns the job, or ``None`` when there was nothing to run (another worker
    has it, it has ended, or it gave up).
    """
    kind = _KINDS[kind_name]
    job = _claim(kind, owner_id, force=force)
    if job is None:
        return None
    metrics.job_started(kind.name)
    started = time.monotonic()
    try:
        with _Heartbeat(job):
            result = body(job)
    except Exception as exc:
        logger.exception("%s job %s failed", kind.name, job.pk)
        job.mark_failed(exc)
        metrics.job_failed(kind.name, time.monotonic() - started)
        raise
    if job.status == JobStatus.RUNNING:
        job.mark_succeeded(result=result if result is not None else job.result)
    metrics.job_succeeded(kind.name, time.monotonic() - started)
    return job


# --- recovering ---------------------------------------------------------------------------


def job_sweep() -> dict[str, int]:
    """Queue again every job that lost its worker or never reached the broker; returns counts.

    Safe to run anywhere, any number of times at once: rows are taken under a
    lock (``skip_locked``), and a job handed over twice is run once.
    """
    stale = timezone.now() - timedelta(seconds=settings.JOBS_STALE_AFTER)
    counts = {"recovered": 0, "requeued": 0, "failed": 0}
    to_send: list[tuple[JobKind, int]] = []
    for kind in kinds():
        with transaction.atomic():
            candidates = kind.model.objects.select_for_update(skip_locked=True).filter(
                Q(status=JobStatus.RUNNING)
                | Q(status=JobStatus.QUEUED, enqueued_at__isnull=True)
                | Q(status=JobStatus.QUEUED, enqueued_at__lt=stale)
            )  # narrowed by ``is_stuck`` below
            for job in candidates:
                if not job.is_stuck:
                    continue  # e.g. committed a moment ago, its hand-over under way
                if job.status == JobStatus.RUNNING:
                    lost = job.worker or "an unknown worker"
                    if job.attempts >= settings.JOBS_MAX_ATTEMPTS:
                        job.mark_failed(
                            f"Gave up after {job.attempts} attempts: its worker ({lost}) stopped without "
                            f"finishing it each time (killed, out of memory or over the time limit)"
                        )
                        metrics.job_failed(kind.name, 0.0)
                        counts["failed"] += 1
                        continue
                    logger.warning("%s job %s lost its worker %s; queueing it again", kind.name, job.pk, lost)
                    job.status = JobStatus.QUEUED
                    job.worker = ""
                    job.save(update_fields=["status", "worker"])
                    metrics.job_recovered(kind.name)
                    counts["recovered"] += 1
                else:
                    counts["requeued"] += 1
                to_send.append((kind, job.pk))
    for kind, job_pk in to_send:
        job_send(kind, job_pk)
    if any(counts.values()):
        logger.info("job sweep: %s", counts)
    return counts


def _sweep_forever(stop: threading.Event) -> None:
    """A worker's sweeper thread: sweep now, then every ``JOBS_SWEEP_INTERVAL`` seconds (with jitter)."""
    interval = float(settings.JOBS_SWEEP_INTERVAL)
    try:
        while True:
            try:
                job_sweep()
            except Exception:  # noqa: BLE001 - the next round tries again
                logger.exception("job sweep failed")
            finally:
                close_old_connections()
            if stop.wait(interval * random.uniform(0.8, 1.2)):
                return
    finally:
        connection.close()


_sweeper: tuple[threading.Thread, threading.Event] | None = None


def start_sweeper(**_kwargs) -> None:
    """django-q2 ``post_spawn``: every worker process sweeps as it starts and then periodically.

    A worker that replaces a killed one so recovers the dead one's job at
    once (its process is gone), and a job the broker never got is handed over
    within ``JOBS_SWEEP_INTERVAL`` once the broker is back. The sweep does
    not depend on the broker or django-q2's scheduler.
    """
    global _sweeper
    if Conf.SYNC or (_sweeper is not None and _sweeper[0].is_alive()):
        return  # django-q2 "spawns" a worker in-process for every task in sync mode
    stop = threading.Event()
    thread = threading.Thread(target=_sweep_forever, args=(stop,), name="job-sweeper", daemon=True)
    thread.start()
    _sweeper = (thread, stop)
