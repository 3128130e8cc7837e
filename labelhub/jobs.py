"""Stored state of background jobs, shared by the image-set and export jobs.

A job row is created (or reset) in the same transaction as the status change
that starts it and queued on commit; the task re-reads it, marks it running,
reports progress as it goes and ends it as succeeded or failed. The API shows
it as the contract's ``job`` object.
"""

from __future__ import annotations

import traceback

from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Job(models.Model):
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.TextField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True, default="")
    date_queued = models.DateTimeField(default=timezone.now)
    date_started = models.DateTimeField(null=True, blank=True)
    date_done = models.DateTimeField(null=True, blank=True)
    # Written by the running job every few seconds; a running job whose
    # heartbeat is older than JOBS_STALE_AFTER lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When the job was last handed to the broker (or the attempt failed): a
    # queued job not picked up since then is handed over again by the sweep.
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

    def reset(self) -> None:
        """Back to queued for a (re)run; counts and errors of the last run are cleared."""
        self.status = JobStatus.QUEUED
        self.done = 0
        self.total = 0
        self.error = None
        self.result = {}
        self.date_queued = timezone.now()
        self.date_started = None
        self.date_done = None

    def mark_running(self) -> None:
        type(self).objects.filter(pk=self.pk).update(
            status=JobStatus.RUNNING, date_started=timezone.now(), attempts=models.F("attempts") + 1,
            error=None, date_done=None,
        )
        self.refresh_from_db()

    def set_progress(self, *, done: int | None = None, total: int | None = None) -> None:
        fields = {}
        if done is not None:
            fields["done"] = self.done = done
        if total is not None:
            fields["total"] = self.total = total
        if fields:
            type(self).objects.filter(pk=self.pk).update(**fields)

    def mark_succeeded(self, *, result: dict | None = None) -> None:
        self.status = JobStatus.SUCCEEDED
        self.result = result if result is not None else self.result
        self.error = None
        self.date_done = timezone.now()
        self.save(update_fields=["status", "result", "error", "date_done", "done", "total"])

    def mark_failed(self, exc: BaseException) -> None:
        self.status = JobStatus.FAILED
        self.error = f"{type(exc).__name__}: {exc}"
        self.result = {**(self.result or {}), "traceback": traceback.format_exc(limit=8)}
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
        }
