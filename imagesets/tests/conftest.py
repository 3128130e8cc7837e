"""Fixtures of the imagesets tests: a spy on the storage backend, helpers to fill a dropbox, the stored state."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest

from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.naming import dropbox_name
from imagesets.services import imageset_create, imageset_finish
from integrations.storage import StorageError


@pytest.fixture(autouse=True)
def _small_job_settings(settings):
    settings.IMAGESET_COPY_WORKERS = 4


def unique_title(prefix: str = "set") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def imageset_state():
    """Everything the image-set endpoints and services can write: compare it before and after a refusal."""
    return (
        list(
            ImageSet.objects.order_by("pk").values_list(
                "pk", "title", "status", "metadata", "blobstorage_path", "dropbox_key", "date_finished"
            )
        ),
        list(Image.objects.order_by("pk").values_list("pk", "imageset_id", "blobstorage_path")),
        list(ImageSetJob.objects.order_by("pk").values_list("pk", "status", "done", "total", "error")),
    )


def put_files(storage, imageset: ImageSet, files: dict[str, bytes]) -> None:
    """Upload ``files`` into the set's dropbox straight through the storage backend."""
    for name, data in files.items():
        storage.write(f"{dropbox_name(imageset.title)}/{name}", [data])


def new_imageset(user, title: str | None = None, files: dict[str, bytes] | None = None, storage=None) -> ImageSet:
    imageset = imageset_create(title=title or unique_title(), metadata=None, created_by=user)
    if files:
        put_files(storage, imageset, files)
    return imageset


def finish_and_run(imageset: ImageSet, capture) -> None:
    """Finish the set the way the API does; the queued job runs inline on commit (sync mode)."""
    with capture(execute=True) as callbacks:
        imageset_finish(imageset_id=imageset.pk)
    assert len(callbacks) == 1


class _CountingReader:
    def __init__(self, stream, spy, path):
        self._stream, self._spy, self._path = stream, spy, path

    def read(self, *args):
        data = self._stream.read(*args)
        self._spy._count(self._path, len(data))
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stream.close()

    def close(self):
        self._stream.close()


class StorageSpy:
    """Counts bytes read and copies on the shared storage instance; can break copies after N."""

    def __init__(self, storage, monkeypatch):
        self.storage = storage
        self.bytes_read: Counter[str] = Counter()
        self.full_reads: Counter[str] = Counter()
        self.copies = 0
        self.fail_copies_after: int | None = None
        self._lock = threading.Lock()
        read_range, open_, copy = storage.read_range, storage.open, storage.copy

        inside = threading.local()  # a backend's read_range may use its own open()

        def spy_read_range(path, offset, length):
            inside.range = True
            try:
                data = read_range(path, offset, length)
            finally:
                inside.range = False
            self._count(path, len(data))
            return data

        def spy_open(path):
            if getattr(inside, "range", False):
                return open_(path)
            with self._lock:
                self.full_reads[path] += 1
            return _CountingReader(open_(path), self, path)

        def spy_copy(source, destination):
            with self._lock:
                if self.fail_copies_after is not None and self.copies >= self.fail_copies_after:
                    raise StorageError("injected failure: the worker died")
                self.copies += 1
            copy(source, destination)

        monkeypatch.setattr(storage, "read_range", spy_read_range)
        monkeypatch.setattr(storage, "open", spy_open)
        monkeypatch.setattr(storage, "copy", spy_copy)

    def _count(self, path: str, n: int) -> None:
        with self._lock:
            self.bytes_read[path] += n


@pytest.fixture
def storage_spy(any_storage, monkeypatch):
    return StorageSpy(any_storage, monkeypatch)
