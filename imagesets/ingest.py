"""The finish job's work: copy every uploaded file, register the images, remove the dropbox.

Called by ``imagesets.services.imageset_finish_run`` (which owns the job's
state). Storage I/O runs in a thread pool; only this thread touches the
database. Idempotent: copies overwrite, rows are unique by path and inserted
with ``ignore_conflicts``, and the dropbox is deleted only after every row is
committed.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import transaction

from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.naming import dropbox_name, final_folder
from imagesets.probe import ImageInfo, probe
from labelhub.storage import ObjectNotFound, get_storage
from labelhub.storage.base import StoredFile

# Image rows inserted per bulk_create round trip.
INSERT_BATCH = 500
# Progress is written at most this often (seconds) or every PROGRESS_STEP files.
PROGRESS_INTERVAL = 1.0
PROGRESS_STEP = 200


class _Progress:
    """Writes ``done`` now and then, not for every file."""

    def __init__(self, job: ImageSetJob, total: int):
        self.job = job
        self.done = 0
        self._written = 0
        self._at = time.monotonic()
        job.set_progress(done=0, total=total)

    def step(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.done - self._written >= PROGRESS_STEP or now - self._at >= PROGRESS_INTERVAL:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        if self.done != self._written:
            self.job.set_progress(done=self.done)
            self._written = self.done
        self._at = now or time.monotonic()


def ingest(imageset: ImageSet, job: ImageSetJob) -> None:
    """Do the whole job for a finished set; raises on any failure (the caller records it)."""
    storage = get_storage()
    dropbox = dropbox_name(imageset.title)
    folder = final_folder(imageset.title)
    page_size = settings.IMAGESET_LIST_PAGE_SIZE

    if storage.dropbox_exists(dropbox):
        files = list(storage.list(dropbox, page_size=page_size))
        progress = _Progress(job, len(files))
        skipped = _copy_and_register(storage, imageset, files, folder, progress)
        progress.flush()
        # Every row is committed (autocommit bulk inserts): now the dropbox may go.
        storage.delete_dropbox(dropbox)
    else:
        # An earlier run already deleted the dropbox after committing every
        # row; the copies in the final folder tell which files were skipped.
        copied = _list_or_empty(storage, folder + "/", page_size)
        registered = set(Image.objects.filter(imageset=imageset).values_list("blobstorage_path", flat=True))
        skipped = [f.name for f in copied if f"{folder}/{f.name}" not in registered]
        job.set_progress(done=len(copied), total=len(copied))

    with transaction.atomic():
        ImageSet.objects.filter(pk=imageset.pk).update(blobstorage_path=folder)
        job.skipped = sorted(skipped)
        job.save(update_fields=["skipped"])
        job.mark_succeeded(
            result={"files": job.total, "images": job.total - len(skipped), "skipped": len(skipped)}
        )
    imageset.blobstorage_path = folder


def _list_or_empty(storage, prefix: str, page_size: int) -> list[StoredFile]:
    try:
        return list(storage.list(prefix, page_size=page_size))
    except ObjectNotFound:
        return []


def _copy_and_register(storage, imageset, files, folder, progress) -> list[str]:
    """Copy and probe in a thread pool; insert rows in batches from this thread."""

    def process(stored: StoredFile):
        destination = f"{folder}/{stored.name}"
        storage.copy(stored.path, destination)
        return stored, destination, probe(storage, destination, stored.size)

    skipped: list[str] = []
    rows: list[Image] = []
    workers = max(1, int(settings.IMAGESET_COPY_WORKERS))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="imageset-copy") as pool:
        futures = [pool.submit(process, stored) for stored in files]
        try:
            # In listing order: a failure stops the job after every earlier file is registered.
            for future in futures:
                stored, destination, info = future.result()
                if info is None:
                    skipped.append(stored.name)
                else:
                    rows.append(_image_row(imageset, stored, destination, info))
                    if len(rows) >= INSERT_BATCH:
                        _insert(rows)
                        rows = []
                progress.step()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    _insert(rows)
    return skipped


def _image_row(imageset, stored: StoredFile, destination: str, info: ImageInfo) -> Image:
    listed = stored.content_type or ""
    content_type = listed if listed.startswith("image/") else (info.content_type or listed)
    return Image(
        imageset=imageset,
        blobstorage_path=destination,
        filetype=info.filetype,
        content_type=content_type[:128],
        filesize=stored.size,
        width=info.width,
        height=info.height,
    )


def _insert(rows: list[Image]) -> None:
    if rows:
        # Unique blobstorage_path + ignore_conflicts: a rerun never duplicates.
        Image.objects.bulk_create(rows, batch_size=INSERT_BATCH, ignore_conflicts=True)
