"""The storage interface every backend implements.

Paths are ``<container>/<key>`` strings, the same on both backends: the
local backend keeps ``MEDIA_ROOT/<container>/<key>``, Azure a blob ``<key>``
in container ``<container>``. Backends raise ``StorageError`` subclasses only.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO


def split_path(path: str) -> tuple[str, str]:
    """``"<container>/<key>"`` -> ``(container, key)``; the key may be empty."""
    container, _, key = path.partition("/")
    return container, key


class BlobPathMixin:
    """The parts of a stored file's ``blobstorage_path`` (``<container>/<key>``), for models and rows."""

    __slots__ = ()
    blobstorage_path: str

    @property
    def container(self) -> str:
        return split_path(self.blobstorage_path)[0]

    @property
    def path_in_container(self) -> str:
        """The path inside its container (the labels CSV's ``image_url``)."""
        return split_path(self.blobstorage_path)[1]

    @property
    def name(self) -> str:
        return self.blobstorage_path.rsplit("/", 1)[-1]


def relative_name(key: str, key_prefix: str) -> str:
    """A listed key as seen from the listed prefix: ``uploads/t/car.png`` under ``uploads/t/`` -> ``car.png``."""
    return key[len(key_prefix) :].lstrip("/")


@dataclass(frozen=True)
class StoredFile:
    """One listing entry: size and content type come from the listing itself."""

    name: str  # key inside the listed container/prefix, e.g. "car.png"
    path: str  # full "<container>/<key>"
    size: int
    content_type: str | None = None


class Storage(abc.ABC):
    """Small interface over blob storage (see ``integrations.storage.get_storage``)."""

    # Whether a file can still land in a dropbox after its set is finished. Azure:
    # yes, for a while (a revoked SAS may keep working up to 30 s; keyless, until
    # the finish job deletes the dropbox). Local: no, an
    # upload is moved into the dropbox under the set's row lock, only while created.
    uploads_may_land_after_finish = True

    # --- files -------------------------------------------------------------
    @abc.abstractmethod
    def list(
        self, prefix: str, *, page_size: int | None = None, first_page_size: int | None = None
    ) -> Iterator[StoredFile]:
        """Every file under ``<container>/<key prefix>`` in name order, following every listing page.

        ``first_page_size`` asks for a smaller first page (the caller can start
        on it sooner); ``ObjectNotFound`` when the container does not exist.
        """

    @abc.abstractmethod
    def copy(self, source: str, destination: str, *, source_storage: Storage | None = None) -> None:
        """Server-side copy; returns once the copy has completed.

        ``source`` is a path in ``source_storage`` when given (another storage
        account or folder of the same backend), else in this storage.
        """

    @abc.abstractmethod
    def read_range(self, path: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end of the file)."""

    @abc.abstractmethod
    def open(self, path: str) -> BinaryIO:
        """A readable stream of the whole file."""

    @abc.abstractmethod
    def write(self, path: str, chunks: Iterable[bytes], *, content_type: str | None = None) -> int:
        """Write (overwrite) a file from an iterable of chunks, streaming; returns bytes written."""

    @abc.abstractmethod
    def delete(self, path: str) -> None:
        """Delete one file; a missing file is not an error."""

    @abc.abstractmethod
    def exists(self, path: str) -> bool: ...

    @abc.abstractmethod
    def size(self, path: str) -> int: ...

    @abc.abstractmethod
    def ping(self, *, timeout: float) -> None:
        """Check, cheaply and without retries, that the backend answers; ``StorageError`` if not (``/readyz``)."""

    @abc.abstractmethod
    def read_url(self, path: str, *, valid_for: timedelta) -> str:
        """A short-lived URL that reads exactly this one file (absolute, or site-relative for local)."""

    # --- dropboxes ---------------------------------------------------------
    @abc.abstractmethod
    def create_dropbox(self, name: str) -> None:
        """Create the dropbox container ``name`` (e.g. ``dropbox-<title>``); idempotent."""

    @abc.abstractmethod
    def dropbox_upload_url(self, name: str, *, key: str, valid_for: timedelta) -> str:
        """Authorise uploads to dropbox ``name`` for ``valid_for`` and return their URL.

        A client PUTs ``<url path>/<filename>?<url query>``. ``key`` is the
        per-set secret the URL is tied to (``ImageSet.dropbox_key``): Azure
        (re)writes the container's stored access policy ``key`` (so every URL of
        the set expires ``valid_for`` from now, and ``revoke_dropbox_uploads``
        or deleting the container revokes them all); local storage signs it into
        the token, which the upload view checks against the set. Because it
        re-opens a revoked dropbox, call it only while holding the set's row
        lock with the set still ``created`` (``imagesets.services.imageset_dropbox_url``).
        Keyless Azure signs a user-delegation SAS of the container instead (it
        cannot name a stored policy; see ``integrations.storage.azure``).
        """

    @abc.abstractmethod
    def revoke_dropbox_uploads(self, name: str) -> None:
        """Make every upload URL issued for dropbox ``name`` refuse further uploads.

        The dropbox and its files stay. Azure removes the container's stored
        access policies (Azure documents up to 30 s until that takes effect);
        local storage has nothing to do: its upload view checks the set's
        status, under the set's row lock, before a file lands. Keyless Azure
        has nothing to remove either: its URLs stop working when the finish
        job deletes the dropbox. A missing dropbox is not an error.
        """

    @abc.abstractmethod
    def delete_dropbox(self, name: str) -> None:
        """Remove the dropbox and everything in it; a missing dropbox is not an error."""

    @abc.abstractmethod
    def dropbox_exists(self, name: str) -> bool: ...
