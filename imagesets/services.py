"""Everything that writes image sets and images, including the finish job.

An image set starts ``created`` with a dropbox (``dropbox-<title>``) clients
upload to; ``imageset_finish`` commits the status and queues the finish job
on commit; the job (``imageset_finish_run``) copies every uploaded file to
``<container>/<folder>/<title>/<name>``, registers the images and removes the
dropbox. The job is idempotent: copies overwrite, rows are unique by path and
inserted with ``ignore_conflicts``, and the dropbox is deleted only after
every row is committed, so a rerun after a crash ends in the same state.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from imagesets.ingest import ingest
from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.naming import dropbox_name, final_folder
from labelhub.exceptions import BadRequest, Conflict, NotFound
from labelhub.jobs import job_enqueue, job_run
from labelhub.storage import ObjectNotFound, get_storage
from labelhub.validators import check_images_per_request, contains_nul, is_json_int, is_valid_id, validate_title

logger = logging.getLogger(__name__)

# The kind of job registered in imagesets.apps.
FINISH_JOB = "imageset_finish"


# --- image sets -----------------------------------------------------------------


def imageset_create(*, title: Any, metadata: Any = None, created_by) -> ImageSet:
    """A new set in ``created`` with its dropbox; 422 invalid title, 409 duplicate, 400 bad metadata.

    The set comes back with ``dropbox_url`` set (see ``imageset_dropbox_url``).
    """
    validate_title(title)
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("'metadata' must be a JSON object or null")
    if contains_nul(metadata):
        raise BadRequest("'metadata' must not contain NUL characters")
    if ImageSet.objects.filter(title=title).exists():
        raise Conflict(f"An image set titled '{title}' already exists")
    name = dropbox_name(title)
    try:
        with transaction.atomic():
            imageset = ImageSet.objects.create(
                title=title, metadata=metadata, created_by=created_by, blobstorage_path=name
            )
            # Inside the transaction: if storage fails the row is rolled back.
            storage = get_storage()
            storage.create_dropbox(name)
            imageset.dropbox_url = _open_dropbox(storage, imageset)
    except IntegrityError:
        # Lost a race with a concurrent create of the same title.
        raise Conflict(f"An image set titled '{title}' already exists") from None
    return imageset


@transaction.atomic
def imageset_dropbox_url(*, imageset_id: int) -> str:
    """Authorise uploads to the set's dropbox and return its URL; 409 once the set is finished.

    Valid ``IMAGESET_UPLOAD_TOKEN_VALID_DAYS`` days and tied to the set's
    ``dropbox_key``, not its title. Taken under the set's row lock, as
    ``imageset_finish`` and ``imageset_delete``: Azure (re)writes the
    container's stored access policy here, which finishing removes, so a
    finished or deleted set's dropbox is never re-opened.
    """
    imageset = _imageset_locked(imageset_id)
    if imageset.status != ImageSet.Status.CREATED:
        raise Conflict(f"Image set is {imageset.status}; its dropbox is closed")
    return _open_dropbox(get_storage(), imageset)


def _open_dropbox(storage, imageset: ImageSet) -> str:
    return storage.dropbox_upload_url(
        dropbox_name(imageset.title),
        key=imageset.dropbox_key,
        valid_for=timedelta(days=settings.IMAGESET_UPLOAD_TOKEN_VALID_DAYS),
    )


def _dropbox_imageset(queryset, dropbox: str) -> ImageSet:
    """The set a local upload token names; 404 when it is gone, 409 when it is no longer ``created``."""
    imageset = queryset.only("pk", "title", "status").first()
    if imageset is None or dropbox_name(imageset.title) != dropbox:
        raise NotFound("Image set not found")
    if imageset.status != ImageSet.Status.CREATED:
        raise Conflict(f"Image set is {imageset.status}; its dropbox is closed")
    return imageset


def imageset_dropbox_check(*, dropbox_key: str, dropbox: str) -> ImageSet:
    """Before a local upload streams its body: 404 if the token's set is gone, 409 if it is finished."""
    return _dropbox_imageset(ImageSet.objects.filter(dropbox_key=dropbox_key), dropbox)


@transaction.atomic
def imageset_dropbox_store(*, dropbox_key: str, dropbox: str, upload) -> ImageSet:
    """Move a fully received local upload (``upload.commit()``) into the dropbox while the set is ``created``.

    Holds the set's row lock, which ``imageset_finish`` and ``imageset_delete``
    also take: the file lands before the set is finished (so the finish job,
    queued on that commit, lists it) or not at all (404 gone, 409 finished;
    the caller discards the staged file). Never a 201 for a lost file.
    """
    imageset = _dropbox_imageset(ImageSet.objects.select_for_update().filter(dropbox_key=dropbox_key), dropbox)
    upload.commit()
    return imageset


@transaction.atomic
def imageset_delete(*, imageset_id: int) -> None:
    """Delete a set with its dropbox, which revokes every upload URL of the set; 409 if it cannot go.

    Refused while the set has images (they are protected) or while its
    finish job is queued or running. The dropbox is deleted after the row and
    before the commit, under the set's row lock: if storage fails nothing is
    deleted; no order leaves a working upload URL for a deleted set (a failed
    commit would leave a set without dropbox). A finished set's final folder
    holds only unregistered copies (skipped files): they go too, so a new set
    with the same title starts empty.
    """
    imageset = _imageset_locked(imageset_id)
    job = ImageSetJob.objects.filter(imageset=imageset).first()
    if job is not None and not job.is_finished:
        raise Conflict(f"The set's finish job is {job.status}; delete the set once the job has ended")
    if imageset.images.exists():
        raise Conflict("Image set has images; a set with images cannot be deleted")
    title, finished = imageset.title, imageset.status == ImageSet.Status.FINISHED
    imageset.delete()
    storage = get_storage()
    storage.delete_dropbox(dropbox_name(title))
    if finished:
        _delete_unregistered_files(storage, final_folder(title))


def _delete_unregistered_files(storage, folder: str) -> None:
    try:
        files = list(storage.list(f"{folder}/"))
    except ObjectNotFound:
        return
    registered = set(
        Image.objects.filter(blobstorage_path__in=[f.path for f in files]).values_list("blobstorage_path", flat=True)
    )
    for stored in files:
        if stored.path not in registered:
            storage.delete(stored.path)


def _imageset_locked(imageset_id: int) -> ImageSet:
    imageset = ImageSet.objects.select_for_update().filter(pk=imageset_id).first()
    if imageset is None:
        raise NotFound("Image set not found")
    return imageset


def _check_transition(imageset: ImageSet, new_status: str) -> None:
    if new_status not in ImageSet.TRANSITIONS[ImageSet.Status(imageset.status)]:
        raise Conflict(f"Image set is {imageset.status}; it cannot become {new_status}")


def imageset_set_status(*, imageset_id: int, new_status: Any) -> ImageSet:
    """The ``PUT /image_sets/{id}`` transition: only ``finished`` exists (400 unknown, 409 not allowed).

    ``finished`` again on a finished set whose job failed or is stuck (its
    worker died, or the broker never got it) queues the job again; while the
    job is queued, running or done it is a 409.
    """
    if not isinstance(new_status, str) or new_status not in ImageSet.Status.values:
        raise BadRequest(f"'new_status' must be one of {', '.join(ImageSet.Status.values)}")
    if new_status == ImageSet.Status.FINISHED:
        with transaction.atomic():
            imageset = _imageset_locked(imageset_id)
            if imageset.status == ImageSet.Status.FINISHED:
                imageset.job = imageset_job_retry(imageset_id=imageset_id)
                return imageset
        return imageset_finish(imageset_id=imageset_id)
    # ``finished`` is the only target in ImageSet.TRANSITIONS.
    imageset = ImageSet.objects.filter(pk=imageset_id).first()
    if imageset is None:
        raise NotFound("Image set not found")
    raise Conflict(f"Image set is {imageset.status}; it cannot become {new_status}")


@transaction.atomic
def imageset_finish(*, imageset_id: int, queue: bool = True) -> ImageSet:
    """``created`` -> ``finished`` and (re)set the job; the job is queued once this commits.

    ``queue=False`` leaves the job queued in the database for the caller to
    run inline (the ``finish_imageset`` command).
    """
    imageset = _imageset_locked(imageset_id)
    _check_transition(imageset, ImageSet.Status.FINISHED)
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
    return imageset


@transaction.atomic
def imageset_job_retry(*, imageset_id: int, queue: bool = True) -> ImageSetJob:
    """Queue the finish job again when it failed or is stuck (409 while it is queued, running or done)."""
    imageset = _imageset_locked(imageset_id)
    job = ImageSetJob.objects.select_for_update().filter(imageset=imageset).first()
    if job is None or not job.may_retry:
        state = job.status if job else "not started"
        raise Conflict(f"Only a failed or stuck job can be retried; this one is {state}")
    job.reset()
    job.save()
    if queue:
        job_enqueue(job)
    return job


@transaction.atomic
def imageset_add_images(*, imageset_id: int, items: list[dict]) -> int:
    """Attach existing images to a set still ``created``; all or nothing.

    ``items`` are ``{"id": n}`` or ``{"filepath": "<blobstorage_path>"}``
    (at most ``IMAGES_PER_REQUEST_MAX``: 413 above). 404 if any is unknown (an id
    outside 1..2^63-1 included), 409 if the set is finished or an image belongs to
    another set. Images already in this set are ignored. Returns how many
    were attached.
    """
    ids, paths = _split_refs(items)
    imageset = _imageset_locked(imageset_id)
    if imageset.status != ImageSet.Status.CREATED:
        raise Conflict(f"Image set is {imageset.status}; images can only be added while created")
    if not ids and not paths:
        return 0
    # A path with a NUL names no stored image (and PostgreSQL refuses it in a query).
    images = list(
        Image.objects.select_for_update()
        .filter(
            Q(pk__in=[i for i in ids if is_valid_id(i)])
            | Q(blobstorage_path__in=[p for p in paths if not contains_nul(p)])
        )
        .only("pk", "blobstorage_path", "imageset_id")
    )
    unknown_ids = ids - {image.pk for image in images}
    unknown_paths = paths - {image.blobstorage_path for image in images}
    if unknown_ids or unknown_paths:
        named = [f"id {i}" for i in sorted(unknown_ids)] + [repr(p) for p in sorted(unknown_paths)]
        raise NotFound("Unknown image provided", extra={"unknown": named[:20]})
    taken = [image.pk for image in images if image.imageset_id not in (None, imageset.pk)]
    if taken:
        raise Conflict("Image already belongs to another image set", extra={"image_ids": sorted(taken)[:20]})
    to_attach = [image.pk for image in images if image.imageset_id is None]
    return Image.objects.filter(pk__in=to_attach).update(imageset=imageset)


def _split_refs(items) -> tuple[set[int], set[str]]:
    if not isinstance(items, list):
        raise BadRequest('Expected a list of {"id": n} or {"filepath": "..."} objects')
    check_images_per_request(items)
    ids: set[int] = set()
    paths: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict) or len(item.keys() & {"id", "filepath"}) != 1:
            raise BadRequest(f"Item {index}: give exactly one of 'id' or 'filepath'")
        if "id" in item:
            value = item["id"]
            if not is_json_int(value):  # not "1", 1.0 or true; an integer naming no image is a 404
                raise BadRequest(f"Item {index}: 'id' must be an integer")
            ids.add(value)
        else:
            value = item["filepath"]
            if not isinstance(value, str) or not value:
                raise BadRequest(f"Item {index}: 'filepath' must be a non-empty string")
            paths.add(value)
    return ids, paths


# --- the finish job -----------------------------------------------------------


def imageset_finish_run(*, imageset_id: int, force: bool = False) -> ImageSetJob | None:
    """The body of the finish job, run through the shared job lifecycle (``labelhub.jobs.job_run``).

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
