"""Upload a folder to an image set's dropbox with the same plain HTTP PUT any client uses."""

from __future__ import annotations

import mimetypes
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import requests
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.exceptions import ApplicationError
from imagesets.models import ImageSet
from imagesets.services import imageset_dropbox_url, imageset_finish

# Answers worth another try: the server or a proxy was busy, not the request wrong.
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}


def folder_files(folder: Path) -> list[tuple[str, Path]]:
    """Every file under ``folder`` as (name relative to it with '/', path), sorted. Nothing is left out."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for filename in filenames:
            path = Path(dirpath) / filename
            found.append((path.relative_to(folder).as_posix(), path))
    return sorted(found)


def upload_target(dropbox_url: str, name: str) -> str:
    """``<dropbox_url path>/<name>?<dropbox_url query>``, the name percent-encoded."""
    parts = urlsplit(dropbox_url)
    path = parts.path.rstrip("/") + "/" + quote(name, safe="/")
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


class Uploader:
    def __init__(self, *, retries: int, timeout: float):
        self.retries = retries
        self.timeout = timeout
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        for session in self._sessions:
            session.close()

    def put(self, url: str, path: Path) -> None:
        """PUT one file; raises ``RuntimeError`` with the reason when it finally fails."""
        reason = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(0.5 * 2 ** (attempt - 1), 8))
            status, reason = self._attempt(url, path)
            if status is not None and status < 300:
                return
            if status is not None and status not in RETRY_STATUSES:
                break
        raise RuntimeError(reason)

    def _attempt(self, url: str, path: Path) -> tuple[int | None, str]:
        """One PUT: (status, reason), status ``None`` for a network error.

        Returns plain values so no response (and its socket) outlives the call.
        """
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers = {"x-ms-blob-type": "BlockBlob", "Content-Type": content_type}
        try:
            with path.open("rb") as body:
                # requests sends an empty file object chunked; Put Blob needs Content-Length: 0.
                data = body if os.fstat(body.fileno()).st_size else b""
                with self._session().put(url, data=data, headers=headers, timeout=self.timeout) as response:
                    if response.status_code < 300:
                        return response.status_code, ""
                    return response.status_code, f"HTTP {response.status_code}: {_detail(response)}"
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"
        except OSError as exc:
            raise RuntimeError(f"cannot read the file: {exc}") from None


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict) and "detail" in body:
            return str(body["detail"])
    except ValueError:
        pass
    return response.text.strip().splitlines()[0][:200] if response.text.strip() else response.reason


class Command(BaseCommand):
    help = (
        "Upload every file under FOLDER to the dropbox of image set ID (HTTP PUT, in parallel, "
        "with a progress bar). Every failure is reported and makes the command exit non-zero. "
        "--finish finishes the set afterwards when every file arrived."
    )

    def add_arguments(self, parser):
        parser.add_argument("imageset_id", type=int)
        parser.add_argument("folder")
        parser.add_argument("--finish", action="store_true", help="finish the set when every upload succeeded")
        parser.add_argument("--workers", type=int, default=8, help="parallel uploads (default 8)")
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8080",
            help="labelhub's address, for local storage's site-relative dropbox URL (default http://127.0.0.1:8080)",
        )
        parser.add_argument("--retries", type=int, default=3, help="retries of a failed PUT (default 3)")
        parser.add_argument("--timeout", type=float, default=300.0, help="seconds per request (default 300)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, imageset_id, folder, finish, workers, base_url, retries, timeout, no_progress, **options):
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        imageset = ImageSet.objects.filter(pk=imageset_id).first()
        if imageset is None:
            raise CommandError(f"Image set {imageset_id} does not exist")
        if imageset.status != ImageSet.Status.CREATED:
            raise CommandError(f"Image set {imageset_id} is {imageset.status}; its dropbox is closed")
        root = Path(folder)
        if not root.is_dir():
            raise CommandError(f"{folder} is not a folder")

        files = folder_files(root)
        dropbox_url = imageset_dropbox_url(imageset_id=imageset.pk)
        if not urlsplit(dropbox_url).scheme:
            dropbox_url = urljoin(base_url.rstrip("/") + "/", dropbox_url)
        self.stderr.write(f"Uploading {len(files)} file(s) from {root} to image set {imageset.title}")

        failures = self._upload(
            files, dropbox_url, workers=workers, retries=retries, timeout=timeout, progress=not no_progress
        )
        uploaded = len(files) - len(failures)
        for name, reason in failures:
            self.stderr.write(f"FAILED {name}: {reason}")
        self.stdout.write(f"Uploaded {uploaded} of {len(files)} file(s) to image set {imageset_id}.")
        if failures:
            message = f"{len(failures)} of {len(files)} file(s) failed to upload"
            if finish:
                message += "; the set was not finished"
            raise CommandError(message)

        if finish:
            try:
                imageset_finish(imageset_id=imageset_id)
            except ApplicationError as exc:
                raise CommandError(f"Could not finish image set {imageset_id}: {exc.detail}") from None
            self.stdout.write(f"Image set {imageset_id} finished; its finish job is queued.")

    def _upload(self, files, dropbox_url, *, workers, retries, timeout, progress) -> list[tuple[str, str]]:
        uploader = Uploader(retries=retries, timeout=timeout)
        failures: list[tuple[str, str]] = []
        bar = tqdm(total=len(files), unit="file", file=sys.stderr, disable=not progress or None)
        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = {
                    pool.submit(uploader.put, upload_target(dropbox_url, name), path): name for name, path in files
                }
                for future in as_completed(futures):
                    try:
                        future.result()
                    except Exception as exc:  # noqa: BLE001 - every failure is reported by name
                        failures.append((futures[future], str(exc)))
                        bar.set_postfix(failed=len(failures))
                    bar.update(1)
        finally:
            bar.close()
            uploader.close()
        return sorted(failures)
