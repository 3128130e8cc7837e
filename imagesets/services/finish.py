"""Finishing an image set: the status transition, its background job and the job's retry.

``imageset_finish`` commits the status and queues the finish job on commit;
the job (``imageset_finish_run``) copies every uploaded file to
``<container>/<folder>/<title>/<name>``, registers the images and removes the
dropbox. The job is idempotent: copies overwrite, rows are unique by path and
inserted with ``ignore_conflicts``, and the dropbox is deleted only after
every row is committed, so a rerun after a crash ends in the same state.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.audit import Actor, audit_record
from core.exceptions import Conflict, NotFound
from core.jobs import job_enqueue, job_run
from imagesets.ingest import ingest
from imagesets.inputs import validate_new_status
from imagesets.models import ImageSet, ImageSetJob
from imagesets.naming import dropbox_name
from imagesets.selectors import imageset_lock
from integrations.storage import get_storage

# The kind of job registered in imagesets.apps.
FINISH_JOB = "imageset_finish"


def imageset_set_status(*, imageset_id: int, new_status: str, actor: Actor | None = None) -> ImageSet:
    """The ``PUT /image_sets/{id}`` transition: only ``finished`` exists (400 unknown, 409 not allowed).

    ``finished`` again on a finished set whose job failed or is stuck (its
    worker died, or the broker never got it) queues the job again; while the
    job is queued, running or done it is a 409.
    """
    validate_new_status(new_status)  # the API checks it first (its input serializer); any other caller here
    if new_status == ImageSet.Status.FINISHED:
        with transaction.atomic():
            imageset = imageset_lock(imageset_id=imageset_id)
            if imageset.status == ImageSet.Status.FINISHED:
                imageset.job = imageset_job_retry(imageset_id=imageset_id, actor=actor)
                return imageset
        return imageset_finish(imageset_id=imageset_id, actor=actor)
    # ``finished`` is the only target in ImageSet.TRANSITIONS.
    imageset = ImageSet.objects.filter(pk=imageset_id).first()
    if imageset is None:
        raise NotFound("Image set not found")
    raise Conflict(f"Image set is {imageset.status}; it cannot become {new_status}")


@transaction.atomic
def imageset_finish(*, imageset_id: int, queue: bool = True, actor: Actor | None = None) -> ImageSet:
    """``created`` -> ``finished`` and (re)set the job; the job is queued once this commits.

    ``queue=False`` leaves the job queued in the database for the caller to
    run inline (the ``finish_imageset`` command).
    """
    imageset = imageset_lock(imageset_id=imageset_id)
    if ImageSet.Status.FINISHED not in ImageSet.TRANSITIONS[ImageSet.Status(imageset.status)]:
        raise Conflict(f"Image set is {imageset.status}; it cannot become {ImageSet.Status.FINISHED}")
    imageset.status = ImageSet.Status.FINISHED
    imageset.date_finished = timezone.now()
    imageset.save(update_fields=["status", "date_finished"])
    get_storage().revoke_dropbox_uploads(dropbox_name(imageset.title))  # before commit: no upload URL works after
    job, created = ImageSetJob.objects.get_or_create(imageset=imageset)
    if not created:
        job.reset()
        job.save()
    if queue:
        job_enqueue(job)
    imageset.job = job
    audit_record(actor=actor, action="imageset.finish", target=imageset)
    return imageset


@transaction.atomic
def imageset_job_retry(*, imageset_id: int, queue: bool = True, actor: Actor | None = None) -> ImageSetJob:
    """Queue the finish job again when it failed or is stuck (409 while it is queued, running or done)."""
    imageset = imageset_lock(imageset_id=imageset_id)
    job = ImageSetJob.objects.select_for_update().filter(imageset=imageset).first()
    if job is None or not job.may_retry:
        state = job.status if job else "not started"
        raise Conflict(f"Only a failed or stuck job can be retried; this one is {state}")
    job.reset()
    job.save()
    if queue:
        job_enqueue(job)
    audit_record(actor=actor, action="imageset.job_retry", target=imageset)
    return job


def imageset_finish_run(*, imageset_id: int, force: bool = False) -> ImageSetJob | None:
    """The body of the finish job, run through the shared job lifecycle (``core.jobs.job_run``).

    ``NotFound``/``Conflict`` for a set that is gone or not finished. Returns
    the job, or ``None`` when there was nothing to run (another worker has
    it, or it has ended); a failure is stored on the job and re-raised.
    """
    imageset = ImageSet.objects.filter(pk=imageset_id).first()
    if imageset is None:
        raise NotFound("Image set not found")
    if imageset.status != ImageSet.Status.FINISHED:
        raise Conflict("Only a finished image set is ingested")
    ImageSetJob.objects.get_or_create(imageset=imageset)
    return job_run(FINISH_JOB, imageset.pk, lambda job: ingest(imageset, job), force=force)
