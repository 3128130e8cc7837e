"""The stored state of a background job: an abstract row each app's job model extends."""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from labelhub import error_reports
from labelhub.jobs.workers import worker_is_dead

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
            return (self.heartbeat_at or self.date_started or self.date_queued) < stale or worker_is_dead(self.worker)
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
        with transaction.atomic():
            self.save(update_fields=["status", "result", "error", "date_done", "done", "total"])
            self._announce()

    def mark_failed(self, exc: BaseException | str) -> None:
        # Reported first: a database that is down (and fails the save) must not hide the failure.
        error_reports.job_failure_report(self, exc)
        self.status = JobStatus.FAILED
        if isinstance(exc, BaseException):
            self.error = f"{type(exc).__name__}: {exc}"
            self.result = {**(self.result or {}), "traceback": traceback.format_exc(limit=8)}
        else:
            self.error = exc
        self.date_done = timezone.now()
        with transaction.atomic():
            self.save(update_fields=["status", "error", "result", "date_done", "done", "total"])
            self._announce()

    def _announce(self) -> None:
        """The outcome is stored: its kind records what follows (a webhook event) in the same transaction."""
        from labelhub.jobs.registry import announce_outcome  # the registry imports this module

        try:
            with transaction.atomic():
                announce_outcome(self)
        except Exception:  # noqa: BLE001 - a notification never costs the job its stored outcome
            logger.exception("recording the outcome event of %s %s failed", type(self).__name__, self.pk)

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
