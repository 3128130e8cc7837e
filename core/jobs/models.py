"""The stored state of a background job: an abstract row each app's job model extends."""

from __future__ import annotations

import logging
import threading
import traceback
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from core import error_reports
from core.jobs.registry import announce_outcome, kind_of
from core.jobs.workers import worker_is_dead

logger = logging.getLogger(__name__)


class JobFenced(Exception):
    """This run of a job no longer owns its row: the row names another run (or none), so it must stop.

    A run's every write is conditional on ``run_token``; the sweep, a retry
    and another run's claim change or clear it. A run that was frozen (a hung
    host, a network partition) and comes back after another host took its job
    over finds out at its next write, writes nothing and stops.
    """


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
    # Names the run that owns the job (a new random token per claim; "" when no
    # run does). Every write a run makes is an UPDATE filtered on it, so a run
    # whose job was taken over (its token replaced or cleared) changes nothing.
    run_token = models.CharField(max_length=32, blank=True, default="")

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
        self.run_token = ""

    # --- fencing: every write of a run is conditional on the row still naming it

    @property
    def _lost(self) -> threading.Event:
        """Set once this run is known to be fenced (by the heartbeat, or by a write that found it)."""
        lost = self.__dict__.get("_lost_event")
        if lost is None:
            lost = self.__dict__["_lost_event"] = threading.Event()
        return lost

    def _fenced(self) -> JobFenced:
        self._lost.set()
        return JobFenced(f"{type(self).__name__} {self.pk} is no longer this run's (run {self.run_token or '-'})")

    def raise_if_fenced(self) -> None:
        """Stop now if this run is already known to be fenced (no query: cheap enough per file or chunk)."""
        if self._lost.is_set():
            raise self._fenced()

    def check_claim(self) -> None:
        """Ask the database whether this run still owns the job (before a side effect outside it)."""
        self.raise_if_fenced()
        if not type(self).objects.filter(pk=self.pk, run_token=self.run_token).exists():
            raise self._fenced()

    def claim_lost(self) -> None:
        """The heartbeat found the row naming another run: every later check stops this one."""
        self._lost.set()

    def save_fenced(self, **fields) -> None:
        """Store ``fields`` on the row if it still names this run; ``JobFenced`` (nothing written) if not."""
        self.raise_if_fenced()
        if not type(self).objects.filter(pk=self.pk, run_token=self.run_token).update(**fields):
            raise self._fenced()
        for name, value in fields.items():
            setattr(self, name, value)

    @contextmanager
    def holding_claim(self):
        """A transaction in which the row is locked and names this run: writes inside stand or fall with it.

        Another run's claim (or the sweep) waits for the lock, so nothing can
        take the job over between the check and the commit.
        """
        self.raise_if_fenced()
        with transaction.atomic():
            if not type(self).objects.select_for_update().filter(pk=self.pk, run_token=self.run_token).exists():
                raise self._fenced()
            yield

    def set_progress(self, *, done: int | None = None, total: int | None = None) -> None:
        """Store progress (and so a heartbeat); callers write it at a bounded rate."""
        fields = {"heartbeat_at": timezone.now()}
        if done is not None:
            fields["done"] = done
        if total is not None:
            fields["total"] = total
        self.save_fenced(**fields)

    # --- the outcome: stored with its event in one transaction, and it ends the claim

    def mark_succeeded(self, *, result: dict | None = None, **fields) -> None:
        """Store success (with the kind's own ``fields``, e.g. ``skipped``) and its event; ``JobFenced`` if not ours."""
        self._store_outcome(
            status=JobStatus.SUCCEEDED,
            result=result if result is not None else self.result,
            error=None,
            **fields,
        )

    def mark_failed(self, exc: BaseException | str) -> None:
        """Store the failure and its event (the sweep and a claim call it too, holding the row's lock)."""
        # Reported first: a database that is down (and fails the save) must not hide the failure.
        try:
            error_reports.job_failure_report(kind_of(self), self, exc)
        except LookupError:
            pass  # not a registered kind (a test model): nothing to tag the report with
        if isinstance(exc, BaseException):
            error = f"{type(exc).__name__}: {exc}"
            result = {**(self.result or {}), "traceback": traceback.format_exc(limit=8)}
        else:
            error, result = exc, self.result
        self._store_outcome(status=JobStatus.FAILED, error=error, result=result)

    def _store_outcome(self, **fields) -> None:
        """One conditional UPDATE of the outcome (clearing the claim), then its event, atomically."""
        fields.update(date_done=timezone.now(), done=self.done, total=self.total)
        with transaction.atomic():
            # The outcome ends the claim: nothing of this run may be written after it.
            self.save_fenced(**fields, run_token="")
            self._announce()

    def _announce(self) -> None:
        """The outcome is stored: its kind records what follows (a webhook event) in the same transaction."""
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
