"""Making derived copies on first request, keeping them in storage, deleting them with their image.

A copy is made once: requests for it in one process wait for the first
(a lock per path), and a process that finds another one making it (a claim
in the shared cache, ``cache.add``: Redis, or the file cache's ``flock``)
waits for the file to appear instead of decoding the original as well. A
process makes at most ``IMAGE_DERIVED_WORKERS`` copies at once (the other
requests wait their turn): a list page of 25 cold thumbnails makes them two
at a time, not 25 decodes at once. A claim expires after ``WAIT_SECONDS``
(its process died) and a cache that does not answer claims nothing: then
two processes may both make the copy; the later write replaces the file
whole, a reader never sees a partial one.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from tempfile import SpooledTemporaryFile

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from imagesets.derived.kinds import KINDS, DerivedKind, derived_path
from imagesets.derived.render import render_derived
from imagesets.models import Image
from integrations.storage import StorageError, get_storage

logger = logging.getLogger(__name__)

# How long a request waits for the copy another request is making, or for a free slot, before it
# gives up (its answer is a placeholder the browser does not keep).
WAIT_SECONDS = 30
# An original is read into memory up to this size, past it into a temporary file.
SPOOL_BYTES = 16 * 1024 * 1024
READ_CHUNK = 256 * 1024
# How often a request waiting for another process's copy looks for it.
POLL_SECONDS = 0.2


class DerivedBusy(Exception):
    """No copy could be made within ``WAIT_SECONDS``: every slot stayed taken."""


def image_derived_ensure(*, image: Image, kind: DerivedKind) -> str:
    """The storage path of ``image``'s ``kind`` copy, made and stored first if it is not there yet.

    Raises ``Unrenderable`` (the original is no image Pillow can decode
    within the bounds), ``StorageError`` (``ObjectNotFound``: the original is
    gone) or ``DerivedBusy``. Reads the original whole, so it is for a
    request that needs the copy, never for the finish job.
    """
    storage = get_storage()
    path = derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=kind)
    if storage.exists(path):
        return path
    with _one_at_a_time(path):
        if storage.exists(path):  # made by the request this one waited for
            return path
        with _claimed(path) as claimed:
            if not claimed and _appeared(storage, path):  # another process made it
                return path
            with _slot():
                started = time.perf_counter()
                data = _render(storage, image, kind)
                storage.write(path, [data], content_type="image/jpeg")
        logger.info(
            "made the %s copy of image %s: %d bytes in %.0f ms",
            kind.name,
            image.pk,
            len(data),
            (time.perf_counter() - started) * 1000,
        )
    return path


def image_derived_delete(*, image_id: int, blobstorage_path: str) -> None:
    """Delete the image's derived copies once the transaction deleting the image commits.

    A copy that cannot be deleted (storage unavailable) is left: it is small,
    and its path names the deleted file, so no other image ever shows it.
    Copies made at earlier size settings stay too.
    """
    paths = [derived_path(image_id=image_id, blobstorage_path=blobstorage_path, kind=k) for k in KINDS.values()]

    def delete() -> None:
        storage = get_storage()
        for path in paths:
            try:
                storage.delete(path)
            except StorageError as exc:
                logger.warning("derived copy %s of a deleted image left in storage: %s", path, exc)

    transaction.on_commit(delete)


def _render(storage, image: Image, kind: DerivedKind) -> bytes:
    with storage.open(image.blobstorage_path) as stream, SpooledTemporaryFile(SPOOL_BYTES) as copy:
        shutil.copyfileobj(stream, copy, READ_CHUNK)
        copy.seek(0)
        return render_derived(copy, longest_side=kind.longest_side, orientation=image.orientation, quality=kind.quality)


# --- one copy at a time per path, a bounded number at once per process ----------------------------------------


def claim_key(path: str) -> str:
    """The shared cache's key of the claim on making ``path``."""
    return "derived-claim:" + hashlib.sha256(path.encode()).hexdigest()


@contextmanager
def _claimed(path: str) -> Iterator[bool]:
    """Claim making ``path`` across processes: ``True`` if this one may make it (the claim is dropped after)."""
    key = claim_key(path)
    try:
        claimed = cache.add(key, 1, timeout=WAIT_SECONDS)
    except Exception as exc:  # a cache that does not answer: make it here rather than fail the request
        logger.warning("no claim on %s (the cache did not answer): %s", path, exc)
        yield True
        return
    try:
        yield claimed
    finally:
        if claimed:
            try:
                cache.delete(key)
            except Exception:  # it expires by itself
                logger.warning("the claim on %s stays until it expires", path, exc_info=True)


def _appeared(storage, path: str) -> bool:
    """Whether ``path`` is stored within ``WAIT_SECONDS`` (another process is making it)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        if storage.exists(path):
            return True
    return False


_guard = threading.Lock()
_making: dict[str, list] = {}  # path -> [lock, requests holding or waiting for it]
_slots: tuple[int, threading.BoundedSemaphore] | None = None


@contextmanager
def _one_at_a_time(path: str) -> Iterator[None]:
    with _guard:
        entry = _making.setdefault(path, [threading.Lock(), 0])
        entry[1] += 1
    try:
        if not entry[0].acquire(timeout=WAIT_SECONDS):
            raise DerivedBusy(f"the copy {path} is still being made")
        try:
            yield
        finally:
            entry[0].release()
    finally:
        with _guard:
            entry[1] -= 1
            if not entry[1]:
                del _making[path]


@contextmanager
def _slot() -> Iterator[None]:
    global _slots
    workers = max(1, int(settings.IMAGE_DERIVED_WORKERS))
    with _guard:
        if _slots is None or _slots[0] != workers:
            _slots = (workers, threading.BoundedSemaphore(workers))
        slots = _slots[1]
    if not slots.acquire(timeout=WAIT_SECONDS):
        raise DerivedBusy(f"{workers} copies were being made for {WAIT_SECONDS} s")
    try:
        yield
    finally:
        slots.release()
