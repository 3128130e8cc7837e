"""``LocalStorage``: the ``Storage`` interface over ``MEDIA_ROOT`` (see the package's docstring)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import timedelta
from typing import BinaryIO

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage
from django.urls import get_script_prefix, reverse

from integrations.storage import FileTooLarge, InvalidFileName, ObjectNotFound, StorageError
from integrations.storage.base import Storage, StoredFile, relative_name, split_path
from integrations.storage.local.listing import remove_tree, sorted_in_bounded_memory, walk_keys
from integrations.storage.local.names import check_container_name, check_file_name, guess_content_type
from integrations.storage.local.tokens import sign_dropbox_token, sign_read_token

CHUNK_SIZE = 256 * 1024
PARTIAL_DIR = ".partial"  # not a valid container name on Azure, so never a dropbox


class LocalStorage(Storage):
    # An upload enters a dropbox under its set's row lock, only while the set is
    # created (imagesets.services.imageset_dropbox_store): none lands after finish.
    uploads_may_land_after_finish = False

    def __init__(self, *, location: str):
        self.location = os.path.abspath(location)
        self._fs = FileSystemStorage(location=self.location)

    # helpers
    def _abs(self, path: str) -> str:
        container, key = split_path(path)
        check_container_name(container)
        check_file_name(key)
        try:
            return self._fs.path(f"{container}/{key}")
        except SuspiciousFileOperation as exc:  # defence in depth; names are checked above
            raise InvalidFileName(str(exc)) from None

    def _container_dir(self, name: str) -> str:
        check_container_name(name)
        return os.path.join(self.location, name)

    def _write_partial(self, chunks: Iterable[bytes], *, max_size: int | None = None) -> tuple[str, int]:
        """Write ``chunks`` to a new file under ``.partial/``; returns its path and size (nothing left on error)."""
        partial_dir = os.path.join(self.location, PARTIAL_DIR)
        os.makedirs(partial_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=partial_dir)
        written = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    if not chunk:
                        continue
                    written += len(chunk)
                    if max_size is not None and written > max_size:
                        raise FileTooLarge(f"The file is larger than {max_size} bytes.")
                    out.write(chunk)
            os.chmod(tmp, self._fs.file_permissions_mode or 0o644)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return tmp, written

    def _write_atomic(self, destination: str, chunks: Iterable[bytes], *, max_size: int | None = None) -> int:
        tmp, written = self._write_partial(chunks, max_size=max_size)
        try:
            self._makedirs(os.path.dirname(destination))
            os.replace(tmp, destination)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return written

    def _makedirs(self, directory: str) -> None:
        mode = self._fs.directory_permissions_mode
        if mode is None:
            os.makedirs(directory, exist_ok=True)
        else:
            old_umask = os.umask(0o777 & ~mode)
            try:
                os.makedirs(directory, mode, exist_ok=True)
            finally:
                os.umask(old_umask)

    # files
    def list(
        self, prefix: str, *, page_size: int | None = None, first_page_size: int | None = None
    ) -> Iterator[StoredFile]:
        container, key_prefix = split_path(prefix)
        root = self._container_dir(container)
        if not os.path.isdir(root):
            raise ObjectNotFound(f"Container {container!r} does not exist.")
        folder = key_prefix.rpartition("/")[0]
        if folder:
            check_file_name(folder)
        keys = (key for key in walk_keys(os.path.join(root, folder), folder) if key.startswith(key_prefix))
        for key in sorted_in_bounded_memory(keys):  # the order Azure lists in
            try:
                size = os.stat(os.path.join(root, key)).st_size
            except FileNotFoundError:  # deleted since the walk
                continue
            yield StoredFile(
                name=relative_name(key, key_prefix),
                path=f"{container}/{key}",
                size=size,
                content_type=guess_content_type(key),
            )

    def copy(self, source: str, destination: str, *, source_storage: Storage | None = None) -> None:
        if source_storage is not None and not isinstance(source_storage, LocalStorage):
            raise StorageError("Local storage copies only from local storage.")
        src = (source_storage or self)._abs(source)
        dst = self._abs(destination)
        try:
            with open(src, "rb") as f:
                self._write_atomic(dst, iter(lambda: f.read(CHUNK_SIZE), b""))
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(f"{source} does not exist.") from None
        except OSError as exc:
            raise StorageError(f"Copying {source} to {destination} failed: {exc}") from exc

    def read_range(self, path: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise StorageError("offset and length must not be negative.")
        with self.open(path) as f:
            f.seek(offset)
            return f.read(length)

    def open(self, path: str) -> BinaryIO:
        try:
            return open(self._abs(path), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(f"{path} does not exist.") from None
        except OSError as exc:
            raise StorageError(f"Opening {path} failed: {exc}") from exc

    def write(self, path: str, chunks: Iterable[bytes], *, content_type: str | None = None) -> int:
        # The content type is not stored: local storage derives it from the name.
        try:
            return self._write_atomic(self._abs(path), chunks)
        except OSError as exc:
            raise StorageError(f"Writing {path} failed: {exc}") from exc

    def delete(self, path: str) -> None:
        try:
            os.remove(self._abs(path))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            pass
        except OSError as exc:
            raise StorageError(f"Deleting {path} failed: {exc}") from exc

    def exists(self, path: str) -> bool:
        return os.path.isfile(self._abs(path))

    def size(self, path: str) -> int:
        full = self._abs(path)
        if not os.path.isfile(full):
            raise ObjectNotFound(f"{path} does not exist.")
        return os.path.getsize(full)

    def ping(self, *, timeout: float) -> None:
        # MEDIA_ROOT can be written: a file created and removed where uploads are staged.
        try:
            partial_dir = os.path.join(self.location, PARTIAL_DIR)
            self._makedirs(partial_dir)
            fd, tmp = tempfile.mkstemp(dir=partial_dir, prefix="ping-")
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            raise StorageError(f"MEDIA_ROOT {self.location} is not writable: {exc}") from exc

    def read_url(self, path: str, *, valid_for: timedelta) -> str:
        self._abs(path)  # only ever sign a valid path
        return reverse("v1:storage-file", kwargs={"token": sign_read_token(path, valid_for=valid_for)})

    # dropboxes
    def create_dropbox(self, name: str) -> None:
        try:
            self._makedirs(self._container_dir(name))
        except OSError as exc:
            raise StorageError(f"Creating dropbox {name} failed: {exc}") from exc

    def dropbox_upload_url(self, name: str, *, key: str, valid_for: timedelta) -> str:
        check_container_name(name)
        token = sign_dropbox_token(name, key=key, valid_for=valid_for)
        # Served by the image-set app's upload view (PUT <this url>/<filename>).
        return f"{get_script_prefix()}api/v1/dropbox/{token}"

    def revoke_dropbox_uploads(self, name: str) -> None:
        # Nothing is stored to revoke: the upload view honours a token only
        # while its set is ``created``, checked under the set's row lock.
        check_container_name(name)

    def delete_dropbox(self, name: str) -> None:
        try:
            remove_tree(self._container_dir(name))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"Deleting dropbox {name} failed: {exc}") from exc

    def dropbox_exists(self, name: str) -> bool:
        return os.path.isdir(self._container_dir(name))

    def stage_dropbox_file(self, dropbox: str, filename: str, stream, *, max_size: int) -> StagedUpload:
        """Stream an uploaded body to a temporary file, to be moved into ``dropbox/filename`` later.

        ``stream`` is a file-like object (e.g. the Django request) or an
        iterable of bytes. Nothing is in the dropbox until ``commit()``; use
        the result as a context manager so an uncommitted file is removed.
        Raises ``InvalidFileName``, ``FileTooLarge`` (no partial file is left)
        or ``ObjectNotFound`` when the dropbox is gone.
        """
        destination = self._dropbox_destination(dropbox, filename)
        chunks = iter(lambda: stream.read(CHUNK_SIZE), b"") if hasattr(stream, "read") else stream
        try:
            tmp, size = self._write_partial(chunks, max_size=max_size)
        except OSError as exc:
            raise StorageError(f"Saving {filename} failed: {exc}") from exc
        return StagedUpload(self, dropbox, filename, destination, tmp, size)

    def save_dropbox_file(self, dropbox: str, filename: str, stream, *, max_size: int) -> int:
        """Stream an uploaded body into ``dropbox/filename`` at once; returns its size (see ``stage_dropbox_file``)."""
        with self.stage_dropbox_file(dropbox, filename, stream, max_size=max_size) as staged:
            staged.commit()
        return staged.size

    def _dropbox_destination(self, dropbox: str, filename: str) -> str:
        check_file_name(filename)
        root = self._container_dir(dropbox)
        if not os.path.isdir(root):
            raise ObjectNotFound(f"Dropbox {dropbox!r} does not exist.")
        destination = self._abs(f"{dropbox}/{filename}")
        if os.path.isdir(destination):
            raise InvalidFileName(f"{filename!r} is a folder in this dropbox.")
        return destination


class StagedUpload:
    """An uploaded file waiting in ``.partial/``: ``commit()`` moves it into its dropbox, ``discard()`` drops it."""

    def __init__(self, storage: LocalStorage, dropbox: str, filename: str, destination: str, tmp: str, size: int):
        self._storage = storage
        self.dropbox = dropbox
        self.filename = filename
        self.size = size
        self._destination = destination
        self._tmp: str | None = tmp

    def commit(self) -> None:
        """Atomically rename the file into the dropbox (``ObjectNotFound`` if the dropbox is gone)."""
        if self._tmp is None:
            raise StorageError("This upload was already committed or discarded.")
        # Checked again: the dropbox may have changed while the body streamed.
        destination = self._storage._dropbox_destination(self.dropbox, self.filename)
        try:
            self._storage._makedirs(os.path.dirname(destination))
            os.replace(self._tmp, destination)
        except (NotADirectoryError, FileExistsError):
            raise InvalidFileName(f"A part of {self.filename!r} is a file in this dropbox, not a folder.") from None
        except IsADirectoryError:
            raise InvalidFileName(f"{self.filename!r} is a folder in this dropbox.") from None
        except OSError as exc:
            raise StorageError(f"Saving {self.filename} failed: {exc}") from exc
        self._tmp = None

    def discard(self) -> None:
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            with suppress(FileNotFoundError):
                os.unlink(tmp)

    def __enter__(self) -> StagedUpload:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()
