"""Handing a queued job to the django-q2 broker: after the commit, and never failing the request."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from core import metrics
from core.jobs.models import Job, JobStatus
from core.jobs.registry import JobKind, kind_of

logger = logging.getLogger(__name__)


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
