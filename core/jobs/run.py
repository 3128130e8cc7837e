"""Running a job: claim its row under a lock, beat a heartbeat while the body runs, store the outcome."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core import metrics
from core.jobs.models import Job, JobFenced, JobStatus
from core.jobs.registry import JobKind, kind_named
from core.jobs.workers import this_worker

logger = logging.getLogger(__name__)


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
        # A new token per claim: a run that claimed the job before (this host's or
        # another's, now hung) finds its token gone at its next write.
        job.run_token = uuid.uuid4().hex
        job.save(
            update_fields=[
                "status",
                "attempts",
                "date_started",
                "heartbeat_at",
                "date_done",
                "error",
                "worker",
                "run_token",
            ]
        )
    return job


class Heartbeat:
    """Writes ``heartbeat_at`` every ``JOBS_HEARTBEAT_INTERVAL`` seconds from a thread of its own.

    The write is fenced like every other of the run: when the row no longer
    names this run, the heartbeat stops and tells the job (``claim_lost``), so
    the body's next cheap check (``raise_if_fenced``) stops it too.

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
        model, pk, token = type(self.job), self.job.pk, self.job.run_token
        try:
            while not self._stop.wait(settings.JOBS_HEARTBEAT_INTERVAL):
                try:
                    beat = model.objects.filter(pk=pk, status=JobStatus.RUNNING, run_token=token)
                    if not beat.update(heartbeat_at=timezone.now()):
                        if self.job.is_finished:
                            return  # the body stored this run's outcome itself (it ends the claim)
                        logger.warning("job %s was taken over by another run; this run stops", pk)
                        self.job.claim_lost()
                        return
                except Exception:  # noqa: BLE001 - a missed beat is not fatal; the next one may pass
                    logger.warning("heartbeat of job %s failed", pk, exc_info=True)
        finally:
            connection.close()


def job_run(kind_name: str, owner_id: int, body: Callable[[Job], dict | None], *, force: bool = False) -> Job | None:
    """Claim the owner's job and run ``body(job)``; the job's outcome is stored, a failure re-raised.

    ``body`` returns the job's result (or marks the job succeeded itself).
    Returns the job, or ``None`` when there was nothing to run (another worker
    has it, it has ended, or it gave up) or when this run was fenced: another
    run took the job over while this one was stalled, so it stops having
    written nothing (``JobFenced``), and the job is as the other run left it.
    """
    kind = kind_named(kind_name)
    job = _claim(kind, owner_id, force=force)
    if job is None:
        return None
    metrics.job_started(kind.name)
    started = time.monotonic()
    try:
        try:
            with Heartbeat(job):
                result = body(job)
        except JobFenced:
            raise
        except Exception as exc:
            # Stored (and reported, tagged with the job) before it is logged: the error report the
            # log line would make is then a duplicate of the same exception, which sentry-sdk drops.
            job.mark_failed(exc)
            logger.exception("%s job %s failed", kind.name, job.pk)
            metrics.job_failed(kind.name, time.monotonic() - started)
            raise
        if job.status == JobStatus.RUNNING:
            job.mark_succeeded(result=result if result is not None else job.result)
    except JobFenced:
        logger.warning(
            "%s job %s was taken over by another run while this one (%s) was stalled; it stopped, writing nothing",
            kind.name,
            job.pk,
            job.worker,
        )
        metrics.job_fenced(kind.name)
        return None
    metrics.job_succeeded(kind.name, time.monotonic() - started)
    return job
