"""Downloads and uploads in parallel threads, with a progress bar, each file verified.

A download streams to ``<name>.part`` and is renamed to ``<name>`` only once its byte
count equals the answer's ``Content-Length`` (and, for export files, its SHA-256 equals the
listing's), so a file without ``.part`` is never a partial one. Read URLs (the image
redirect's target, an export file's URL) are fetched without the key headers: their
token is their credential.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import posixpath
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from labelhub_client.errors import ApiError, LabelhubError, TransportError, error_for

CHUNK_BYTES = 256 * 1024
DOWNLOAD_ATTEMPTS = 4
DOWNLOAD_BACKOFF = 0.5

# Content types mapped to the extension people expect (mimetypes' first guess is not always it).
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/pjpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/x-ms-bmp": "bmp",
    "image/tiff": "tif",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/avif": "avif",
    "image/x-icon": "ico",
    "image/vnd.microsoft.icon": "ico",
    "image/jp2": "jp2",
}
_GENERIC_TYPES = {"application/octet-stream", "binary/octet-stream", "application/x-www-form-urlencoded", ""}


class IncompleteDownload(Exception):
    """The bytes received are not what the server announced (size) or listed (size, SHA-256)."""


def read_client(timeout: float = 60.0) -> httpx.Client:
    """The HTTP client for read URLs: no key headers, no compression (the bytes counted are the file's)."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=15.0),
        follow_redirects=True,
        headers={"Accept-Encoding": "identity"},
    )


def extension_for(content_type: str | None, url: str) -> str:
    """The file extension (no dot) of a download: from its content type, else the URL path, else ``bin``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _EXTENSIONS:
        return _EXTENSIONS[media]
    path_ext = posixpath.splitext(unquote(urlsplit(url).path))[1].lstrip(".").lower()
    if path_ext and path_ext.isalnum() and len(path_ext) <= 5:
        return path_ext
    if media not in _GENERIC_TYPES:
        guessed = mimetypes.guess_extension(media, strict=False)
        if guessed:
            return guessed.lstrip(".")
    return "bin"


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _retrying(action: Callable[[], Any], what: str, attempts: int) -> Any:
    """``action()``, again after a connection failure or a short body, ``attempts`` times with growing pauses."""
    attempts = max(1, attempts)
    for attempt in range(attempts):
        try:
            return action()
        except (httpx.TransportError, IncompleteDownload) as exc:
            if attempt == attempts - 1:
                if isinstance(exc, IncompleteDownload):
                    raise
                raise TransportError(f"{what}: {type(exc).__name__}: {exc}") from exc
            time.sleep(DOWNLOAD_BACKOFF * 2**attempt)
    raise AssertionError("unreachable")


def _get(http: httpx.Client, url: str) -> closing[httpx.Response]:
    """``GET url`` as a context manager of the answer, its body not read yet (closed at the end)."""
    return closing(http.send(http.build_request("GET", url), stream=True))


def expected_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure of one transfer (reported), not a bug (raised)."""
    return isinstance(exc, (LabelhubError, httpx.HTTPError, OSError, IncompleteDownload))


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code >= 400:
        response.read()
        raise error_for(response)


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


@dataclass
class Fetched:
    file: str
    size: int
    downloaded: bool  # False: the file was already there, complete


def fetch_image(
    http: httpx.Client, url: str, folder: Path, image_id: int, *, attempts: int = DOWNLOAD_ATTEMPTS
) -> Fetched:
    """The image at read URL ``url`` as ``folder/<image_id>.<ext>``, unless a file of its size is there already.

    The extension comes from the answer's ``Content-Type``, else from the URL path. Other
    ``<image_id>.*`` files (an older download under another extension) are removed.
    """

    def attempt() -> Fetched:
        with _get(http, url) as response:
            _raise_for_status(response)
            length = _content_length(response)
            name = f"{image_id}.{extension_for(response.headers.get('Content-Type'), str(response.url))}"
            final = folder / name
            if length is not None and _size(final) == length:
                return Fetched(name, length, False)
            part = folder / (name + ".part")
            received = 0
            try:
                with open(part, "wb") as file:
                    for chunk in response.iter_bytes(CHUNK_BYTES):
                        file.write(chunk)
                        received += len(chunk)
            except BaseException:
                _discard(part)
                raise
            if length is not None and received != length:
                _discard(part)
                raise IncompleteDownload(f"image {image_id}: received {received} of {length} bytes")
            os.replace(part, final)
        for other in folder.glob(f"{image_id}.*"):
            if other.name != name and not other.name.endswith(".part") and other.is_file():
                _discard(other)
        return Fetched(name, received, True)

    return _retrying(attempt, f"image {image_id}", attempts)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_verified(
    http: httpx.Client,
    url: str,
    dest: Path,
    *,
    size: int | None,
    sha256: str | None,
    attempts: int = DOWNLOAD_ATTEMPTS,
) -> bool:
    """``url`` to ``dest``, checked against the listed ``size`` and ``sha256``; False when ``dest`` already matched.

    A mismatch after the retries raises :class:`IncompleteDownload`; nothing is left at ``dest``.
    """
    if dest.is_file() and (size is None or _size(dest) == size) and sha256 and sha256_of(dest) == sha256.lower():
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)

    def attempt() -> bool:
        part = dest.with_name(dest.name + ".part")
        digest = hashlib.sha256()
        received = 0
        try:
            with _get(http, url) as response:
                _raise_for_status(response)
                length = _content_length(response)
                with open(part, "wb") as file:
                    for chunk in response.iter_bytes(CHUNK_BYTES):
                        file.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
        except BaseException:
            _discard(part)
            raise
        expected = size if size is not None else length
        if expected is not None and received != expected:
            _discard(part)
            raise IncompleteDownload(f"{dest.name}: received {received} bytes, the export lists {expected}")
        if sha256 and digest.hexdigest() != sha256.lower():
            _discard(part)
            raise IncompleteDownload(
                f"{dest.name}: SHA-256 {digest.hexdigest()} does not match the export's {sha256.lower()}"
            )
        os.replace(part, dest)
        return True

    return _retrying(attempt, dest.name, attempts)


# --- the parallel runner ---------------------------------------------------------------


def is_fatal(exc: BaseException) -> bool:
    """An error after which the other transfers would fail the same way: the server or the network is down."""
    if isinstance(exc, TransportError | httpx.TransportError):
        return True
    return isinstance(exc, ApiError) and (exc.status >= 500 or exc.status == 401)


def run_parallel(
    work: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    workers: int,
    on_result: Callable[[Any, Any], None],
    on_error: Callable[[Any, BaseException], None],
    on_tick: Callable[[], None] = lambda: None,
    stop_on: Callable[[BaseException], bool] = is_fatal,
) -> bool:
    """``work(item)`` for every item on ``workers`` threads; results and errors are handed over in this thread.

    At most ``workers`` items are under way at once (none waits in a queue). After an error ``stop_on`` calls fatal,
    no new item starts (the running ones end); returns False then, True when every item ran.
    ``KeyboardInterrupt`` also stops the queue and is raised again once the running items end, as is
    an exception that is no failed transfer (``expected_failure``): a bug is not reported as a failed file.
    """
    iterator = iter(items)
    pending: dict[Future, Any] = {}
    stopped = threading.Event()
    executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="labelhub")
    try:

        def fill() -> None:
            while not stopped.is_set() and len(pending) < max(1, workers):
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                pending[executor.submit(work, item)] = item

        fill()
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED, timeout=0.5)
            on_tick()
            for future in done:
                item = pending.pop(future)
                exc = future.exception()
                if exc is None:
                    on_result(item, future.result())
                elif not expected_failure(exc):
                    raise exc  # a bug, not a failed transfer
                else:
                    on_error(item, exc)
                    if stop_on(exc):
                        stopped.set()
            if stopped.is_set():
                for future in [f for f in pending if f.cancel()]:  # queued, not started: never run
                    del pending[future]
            fill()
        return not stopped.is_set()
    except BaseException:
        stopped.set()
        for future in pending:
            future.cancel()
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
