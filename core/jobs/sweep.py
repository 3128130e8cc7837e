"""Recovering jobs: queue again every job that lost its worker or never reached the broker."""

from __future__ import annotations

import logging
import random
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.conf import Conf

from core import metrics
from core.jobs import queue
from core.jobs.models import JobStatus
from core.jobs.registry import JobKind, kinds

logger = logging.getLogger(__name__)


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
                    job.run_token = ""  # fences the lost run, should it come back (a hung host)
                    job.save(update_fields=["status", "worker", "run_token"])
                    metrics.job_recovered(kind.name)
                    counts["recovered"] += 1
                else:
                    counts["requeued"] += 1
                to_send.append((kind, job.pk))
    for kind, job_pk in to_send:
        queue.job_send(kind, job_pk)
    if any(counts.values()):
        logger.info("job sweep: %s", counts)
    return counts


class PeriodicSweep:
    """A daemon thread of a worker process: ``sweep()`` now, then every ``interval()`` seconds (with jitter).

    A failed round is logged and the next one tries again; the thread's
    database connection is closed between rounds and at the end. In
    django-q2's sync mode (tests, ``DJANGO_Q_SYNC``) no thread starts: every
    task "spawns" a worker in-process there.
    """

    def __init__(self, name: str, sweep, interval):
        self.name = name
        self._sweep = sweep
        self._interval = interval
        self._running: tuple[threading.Thread, threading.Event] | None = None

    def _run(self, stop: threading.Event) -> None:
        try:
            while True:
                try:
                    self._sweep()
                except Exception:  # noqa: BLE001 - the next round tries again
                    logger.exception("%s: sweep failed", self.name)
                finally:
                    close_old_connections()
                if stop.wait(float(self._interval()) * random.uniform(0.8, 1.2)):
                    return
        finally:
            connection.close()

    def start(self, **_kwargs) -> None:
        if Conf.SYNC or (self._running is not None and self._running[0].is_alive()):
            return
        stop = threading.Event()
        thread = threading.Thread(target=self._run, args=(stop,), name=self.name, daemon=True)
        thread.start()
        self._running = (thread, stop)


_job_sweeper = PeriodicSweep("job-sweeper", lambda: job_sweep(), lambda: settings.JOBS_SWEEP_INTERVAL)


def start_sweeper(**_kwargs) -> None:
    """django-q2 ``post_spawn``: every worker process sweeps as it starts and then periodically.

    A worker that replaces a killed one so recovers the dead one's job at
    once (its process is gone), and a job the broker never got is handed over
    within ``JOBS_SWEEP_INTERVAL`` once the broker is back. The sweep does
    not depend on the broker or django-q2's scheduler.
    """
    _job_sweeper.start()
