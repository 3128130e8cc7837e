"""The finish job's work: copy every uploaded file, register the images, remove the dropbox.

Called through ``imagesets.services.imageset_finish_run`` (the job lifecycle
in ``core.jobs`` owns the job's state). It streams: the dropbox listing is
consumed page by page while a thread pool copies and probes the files already
listed (a bounded number in flight), rows are inserted in batches from this
thread (the only one that touches the database), and progress is written at a
bounded rate. Memory does not grow with the set.

Idempotent and resumable: copies overwrite, rows are unique by path and
inserted with ``ignore_conflicts``, and a rerun skips every file whose image
is already registered (or that an earlier attempt already found not to be an
image), so a job interrupted at image 60,000 goes on from there. Each file is
treated on its own: an unreadable, absurd, empty or vanished file is named in
``job.skipped`` with its reason, and the rest of the set registers. Before the
dropbox is deleted it is listed once more, so a file that arrived while the
job ran is registered too, not deleted unseen (on storage where one can:
``Storage.uploads_may_land_after_finish``).

Fenced (``core.jobs``): progress and skipped files are conditional
UPDATEs of the job row, image rows are inserted under the lock of the row
still naming this run, the dropbox is deleted only after asking whether the
job is still this run's, and the outcome is stored with the set's final
folder in one fenced transaction. A run stalled long enough for another to
take the job over stops at its first write (or at the next file it would
copy, once its heartbeat has found out), having written nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict

from django.conf import settings

from core import metrics
from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.naming import dropbox_name, final_folder
from imagesets.probe import ImageInfo, NotAnImage, probe
from imagesets.selectors import imageset_facts_counts
from integrations.storage import ObjectNotFound, get_storage
from integrations.storage.base import StoredFile

# Files looked up, and image rows inserted, per database round trip.
INSERT_BATCH = 500
# The first listing page and chunk are smaller: copying starts after one short round trip.
FIRST_CHUNK = 64
# Progress (and the skipped files so far) is written at most this often (seconds)
# or every PROGRESS_STEP files.
PROGRESS_INTERVAL = 1.0
PROGRESS_STEP = 1000
# Listing passes over the dropbox at most (the last one normally finds nothing new).
MAX_PASSES = 3


class _Progress:
    """Counts files and writes ``done``/``total`` (and the skipped files) now and then, not per file."""

    def __init__(self, job: ImageSetJob):
        self.job = job
        self.done = 0
        self.total = 0
        self.skipped: dict[str, str] = dict((job.result or {}).get("skipped_reasons") or {})
        for name in job.skipped or []:
            self.skipped.setdefault(name, "not an image")
        self._written = (-1, -1, -1)
        self._at = time.monotonic()
        self.flush()

    def listed(self, count: int = 1) -> None:
        self.total += count

    def step(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.done - self._written[0] >= PROGRESS_STEP or now - self._at >= PROGRESS_INTERVAL:
            self.flush(now)

    def skip(self, name: str, reason: str) -> None:
        self.skipped[name] = reason

    def flush(self, now: float | None = None) -> None:
        state = (self.done, self.total, len(self.skipped))
        if state != self._written:
            if state[2] != self._written[2]:
                # Kept as the job goes, so a resumed run does not probe these again.
                result = {**(self.job.result or {}), "skipped_reasons": self.skipped}
                self.job.save_fenced(skipped=sorted(self.skipped), result=result)
            self.job.set_progress(done=self.done, total=self.total)
            self._written = state
        self._at = now or time.monotonic()


def ingest(imageset: ImageSet, job: ImageSetJob) -> dict:
    """Do the whole job for a finished set; raises on any failure (the lifecycle records it)."""
    storage = get_storage()
    dropbox = dropbox_name(imageset.title)
    folder = final_folder(imageset.title)
    progress = _Progress(job)

    try:
        try:
            # Another pass only where files can still arrive (see Storage.uploads_may_land_after_finish).
            passes = MAX_PASSES if storage.uploads_may_land_after_finish else 1
            for number in range(passes):
                if not _ingest_pass(storage, imageset, dropbox, folder, progress, first=number == 0):
                    break  # this pass found nothing new: every file is in
        except BaseException:
            # Keep what this attempt learnt (progress, files found not to be images) for the next one.
            with contextlib.suppress(Exception):
                progress.flush()
            raise
    except _DropboxGone:
        # An earlier run already deleted the dropbox after committing every
        # row; the copies in the final folder tell which files were skipped.
        registered = set(Image.objects.filter(imageset=imageset).values_list("blobstorage_path", flat=True))
        count = 0
        for stored in _list_or_empty(storage, folder + "/"):
            count += 1
            if f"{folder}/{stored.name}" not in registered:
                progress.skipped.setdefault(stored.name, "not an image")
        progress.done = progress.total = count
    else:
        progress.flush()
        # Every row is committed (autocommit bulk inserts): now the dropbox may go,
        # unless another run has taken the job over meanwhile (it deletes it).
        job.check_claim()
        storage.delete_dropbox(dropbox)

    skipped = sorted(progress.skipped)
    images = progress.total - len(skipped)
    with job.holding_claim():
        ImageSet.objects.filter(pk=imageset.pk).update(blobstorage_path=folder)
        job.done, job.total = progress.total, progress.total
        job.mark_succeeded(
            skipped=skipped,
            result={
                "files": progress.total,
                "images": images,
                "skipped": len(skipped),
                "skipped_reasons": progress.skipped,
                **imageset_facts_counts(imageset_id=imageset.pk),  # whichever run found them
            },
        )
    imageset.blobstorage_path = folder
    return job.result


class _DropboxGone(Exception):
    """The first listing found no dropbox: an earlier run of this job finished and deleted it."""


def _list_or_empty(storage, prefix: str) -> Iterator[StoredFile]:
    try:
        yield from storage.list(prefix, page_size=settings.IMAGESET_LIST_PAGE_SIZE)
    except ObjectNotFound:
        return


def _list_dropbox(storage, dropbox: str, *, first: bool) -> Iterator[StoredFile]:
    """The dropbox's files; the first pass asks for a short first page so copying starts sooner.

    The listing itself tells whether the dropbox still exists (no round trip
    of its own): missing at the first pass raises ``_DropboxGone``.
    """
    listed = False
    try:
        for stored in storage.list(
            dropbox, page_size=settings.IMAGESET_LIST_PAGE_SIZE, first_page_size=FIRST_CHUNK if first else None
        ):
            listed = True
            yield stored
    except ObjectNotFound:
        if first and not listed:
            raise _DropboxGone from None


def _chunks(files: Iterable[StoredFile], size: int, first_size: int | None = None) -> Iterator[list[StoredFile]]:
    chunk: list[StoredFile] = []
    limit = first_size or size
    for stored in files:
        chunk.append(stored)
        if len(chunk) >= limit:
            yield chunk
            chunk = []
            limit = size
    if chunk:
        yield chunk


def _ingest_pass(storage, imageset: ImageSet, dropbox: str, folder: str, progress: _Progress, *, first: bool) -> int:
    """One pass over the dropbox listing; returns how many files it copied (0: nothing new).

    The listing is read lazily: while this thread waits for the next page,
    the pool is still copying and probing the files of the pages before it
    (at most ``window`` files in flight).
    """
    workers = max(1, int(settings.IMAGESET_COPY_WORKERS))
    window = workers * 8  # files in flight: enough to cover a listing round trip, bounded
    registrar = _Registrar(imageset, progress)
    pending: deque[Future] = deque()
    processed = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="imageset-copy") as pool:
        try:
            for stored in _files_to_copy(storage, dropbox, folder, progress, first=first):
                pending.append(pool.submit(_copy_and_probe, storage, stored, folder, progress.job))
                processed += 1
                while len(pending) >= window:
                    registrar.settle(pending.popleft())
            while pending:
                registrar.settle(pending.popleft())
        except BaseException:
            registrar.salvage(pending)
            raise
    registrar.insert()
    return processed


def _files_to_copy(storage, dropbox: str, folder: str, progress: _Progress, *, first: bool) -> Iterator[StoredFile]:
    """The listed files no earlier attempt has dealt with, chunk by chunk (one lookup query a chunk).

    The first pass counts every listed file in the progress (those already
    done as done); a later one, looking for files that arrived meanwhile,
    counts only the new ones.
    """
    listing = _list_dropbox(storage, dropbox, first=first)
    for chunk in _chunks(listing, INSERT_BATCH, min(FIRST_CHUNK, INSERT_BATCH)):
        progress.job.raise_if_fenced()
        # Registered by an earlier attempt, or found by it not to be an image.
        by_destination = {f"{folder}/{stored.name}": stored.name for stored in chunk}
        registered = Image.objects.filter(blobstorage_path__in=list(by_destination))
        done = {by_destination[path] for path in registered.values_list("blobstorage_path", flat=True)}
        done.update(stored.name for stored in chunk if stored.name in progress.skipped)
        progress.listed(len(chunk) if first else len(chunk) - len(done))
        for stored in chunk:
            if stored.name not in done:
                yield stored
            elif first:
                progress.step()


# A copied file: where it went, what it is (``None``: not an image) and why it is skipped.
_Copied = tuple[StoredFile, str, ImageInfo | None, str]


def _copy_and_probe(storage, stored: StoredFile, folder: str, job: ImageSetJob) -> _Copied:
    """Copy one file to the final folder and read its header (in a pool thread: no database)."""
    job.raise_if_fenced()  # another run has the job: copy nothing more
    destination = f"{folder}/{stored.name}"
    try:
        storage.copy(stored.path, destination)
    except ObjectNotFound:
        return stored, destination, None, "deleted from the dropbox before it was copied"
    try:
        return stored, destination, probe(storage, destination, stored.size), ""
    except NotAnImage as exc:
        return stored, destination, None, str(exc)


class _Registrar:
    """Takes the copied files in order (in the job's thread): image rows in batches, the rest skipped."""

    def __init__(self, imageset: ImageSet, progress: _Progress):
        self.imageset = imageset
        self.progress = progress
        self.rows: list[Image] = []

    def settle(self, future: Future) -> None:
        stored, destination, info, reason = future.result()
        if info is None:
            self.progress.skip(stored.name, reason)
            metrics.images_skipped(1)
        else:
            self.rows.append(self._row(stored, destination, info))
            if len(self.rows) >= INSERT_BATCH:
                self.insert()
        self.progress.step()

    def _row(self, stored: StoredFile, destination: str, info: ImageInfo) -> Image:
        listed = stored.content_type or ""
        content_type = listed if listed.startswith("image/") else (info.content_type or listed)
        return Image(
            imageset=self.imageset,
            blobstorage_path=destination,
            filetype=info.filetype,
            content_type=content_type[:128],
            filesize=stored.size,
            width=info.width,
            height=info.height,
            # date_taken, lat, lon, orientation from the header (imagesets.exif); rows are only ever inserted.
            **asdict(info.facts),
        )

    def salvage(self, pending: Iterable[Future]) -> None:
        """After a failure: what finished before it stays registered, so a rerun goes on from there."""
        pending = list(pending)
        for future in pending:
            future.cancel()
        for future in pending:
            if future.done() and not future.cancelled() and future.exception() is None:
                self.settle(future)
        self.insert()

    def insert(self) -> None:
        if self.rows:
            # Unique blobstorage_path + ignore_conflicts: a rerun never duplicates.
            with self.progress.job.holding_claim():
                Image.objects.bulk_create(self.rows, batch_size=INSERT_BATCH, ignore_conflicts=True)
            metrics.images_ingested(len(self.rows))
        self.rows = []
