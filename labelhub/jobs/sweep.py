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

from labelhub import metrics
from labelhub.jobs import queue
from labelhub.jobs.models import JobStatus
from labelhub.jobs.registry import JobKind, kinds

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
                    job.save(update_fields=["status", "worker"])
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
