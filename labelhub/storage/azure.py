"""The ``azure`` backend: Azure Blob Storage through azure-storage-blob.

One ``BlobServiceClient`` per configuration; every container and blob client
derived from it shares its pipeline and so one HTTP transport: a
``requests.Session`` whose connection pool is sized to the copy workers (the
default pool of 10 drops connections under 16 threads). Azure exceptions are
turned into ``StorageError``/``ObjectNotFound`` here and never leave the
package, and neither do clients or account keys.

SAS tokens: every SAS is HTTPS-only (``spr=https``) when the blob endpoint is
HTTPS; an ``http`` endpoint (Azurite) gets the service default. A dropbox SAS
names the container's stored access policy (``si=<the set's dropbox_key>``),
which holds its permissions and expiry, so removing the policy
(``revoke_dropbox_uploads``) or the container revokes every URL of the set.

Copies: a copy inside this storage account names its source by the plain
blob URL, authorised by the destination request's Shared Key; only a source
in another account (``copy(..., source_storage=other)``) gets a read SAS,
for that one blob and for the copy's timeout plus a minute.
"""

from __future__ import annotations

import io
import threading
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import BinaryIO, NamedTuple
from urllib.parse import quote, urlsplit

import requests
from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import (
    AccessPolicy,
    BlobClient,
    BlobSasPermissions,
    BlobServiceClient,
    ContainerSasPermissions,
    ContentSettings,
    ExponentialRetry,
    generate_blob_sas,
    generate_container_sas,
)
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from labelhub.storage import ObjectNotFound, StorageError
from labelhub.storage.base import Storage, StoredFile, relative_name, split_path

COPY_POLL_INITIAL = 0.02  # seconds; same-account copies usually finish at once
COPY_POLL_MAX = 1.0
COPY_TIMEOUT = 600.0
# A copy source SAS (another account only) must outlive the copy, no more.
COPY_SOURCE_SAS_VALID = timedelta(seconds=COPY_TIMEOUT) + timedelta(minutes=1)
# What a dropbox URL may do: upload and list, never read or delete.
DROPBOX_PERMISSION = ContainerSasPermissions(create=True, write=True, add=True, list=True)
MAX_POLICY_ID_LENGTH = 64  # Azure's limit for a signed identifier
# Clock skew allowance for SAS start times.
SAS_CLOCK_SKEW = timedelta(minutes=5)


_KNOWN_CONTAINERS: dict[str, set[str]] = {}
# Blob clients an instance keeps (the finish job has 16 threads x 8 files in flight).
BLOB_CLIENTS_KEPT = 512


class _BlobRef(NamedTuple):
    """What a copy needs of its source blob (the attributes of a ``BlobClient`` it reads)."""

    container_name: str
    blob_name: str
    url: str


@contextmanager
def _errors(action: str):
    """Turn every Azure error raised inside into the storage layer's own."""
    try:
        yield
    except ResourceNotFoundError as exc:
        raise ObjectNotFound(f"{action}: not found ({_code(exc)})") from exc
    except AzureError as exc:
        raise StorageError(f"{action} failed: {_code(exc) or type(exc).__name__}: {_first_line(exc)}") from exc


def _code(exc: AzureError) -> str:
    """The service's error code, e.g. ``ContainerNotFound`` (the SDK gives a str enum whose ``str()`` is its name)."""
    code = getattr(exc, "error_code", None) or ""
    return str(getattr(code, "value", code))


def _first_line(exc: Exception) -> str:
    return (str(getattr(exc, "message", None) or exc).strip().splitlines() or [""])[0]


class _BlobReader(io.RawIOBase):
    """A read-only file over a streaming download; Azure errors become ``StorageError``."""

    def __init__(self, downloader, path: str):
        self._chunks = downloader.chunks()
        self._chunk = memoryview(b"")
        self._path = path

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bool:
        try:
            with _errors(f"Reading {self._path}"):
                self._chunk = memoryview(next(self._chunks))
        except StopIteration:
            return False
        return True

    def readinto(self, b) -> int:
        while not self._chunk:
            if not self._next_chunk():
                return 0
        n = min(len(b), len(self._chunk))
        b[:n] = self._chunk[:n]
        self._chunk = self._chunk[n:]
        return n

    def readall(self) -> bytes:
        parts = [bytes(self._chunk)]
        while self._next_chunk():
            parts.append(bytes(self._chunk))
        self._chunk = memoryview(b"")
        return b"".join(parts)


class AzureStorage(Storage):
    def __init__(self, connection_string: str, *, pool_size: int = 20, retries: int = 3):
        if not connection_string:
            raise StorageError("AZURE_STORAGE_CONNECTION_STRING is not set.")
        session = requests.Session()
        # The transport does not configure a session it does not own: mount an
        # adapter with the pool size we need and requests' retries off (the
        # SDK's retry policy retries).
        adapter = HTTPAdapter(
            pool_connections=4,
            pool_maxsize=pool_size,
            max_retries=Retry(total=False, redirect=False, raise_on_status=False),
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # requests re-reads proxy variables from the environment on every
        # request (~0.5 ms each); with none set there is nothing to trust.
        session.trust_env = bool(urllib.request.getproxies())
        self._session = session
        self._transport = RequestsTransport(session=session, session_owner=False)
        retry = ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=retries, random_jitter_range=1)
        try:
            self._service = BlobServiceClient.from_connection_string(
                connection_string, transport=self._transport, retry_policy=retry
            )
        except (ValueError, AzureError) as exc:
            raise StorageError(f"Invalid AZURE_STORAGE_CONNECTION_STRING: {exc}") from exc
        credential = self._service.credential
        self._account_name = self._service.account_name
        self._account_key = getattr(credential, "account_key", None)
        if not self._account_key:
            raise StorageError("The Azure connection string needs an AccountKey to sign SAS URLs.")
        # Only an HTTPS endpoint can require HTTPS; Azurite's http endpoint keeps the default.
        self._sas_protocol = "https" if urlsplit(self._service.url).scheme == "https" else None
        self.pool_size = pool_size
        # Containers known to exist, shared by every instance on this account
        # (a container deleted through one instance is forgotten by all).
        self._known_containers = _KNOWN_CONTAINERS.setdefault(self._service.url, set())
        self._containers_lock = threading.Lock()
        self._blob_clients: OrderedDict[str, BlobClient] = OrderedDict()
        self._blob_clients_lock = threading.Lock()

    # helpers
    def _blob(self, path: str):
        """The SDK's client for ``path``, kept a little while: the finish job copies to a path, then reads it.

        Building a ``BlobClient`` builds its own generated client and policy
        list, about a third of the CPU a copy and a ranged read cost together.
        """
        blob = self._blob_clients.get(path)
        if blob is None:
            container, key = self._split(path)
            blob = self._service.get_blob_client(container, key)
            with self._blob_clients_lock:
                self._blob_clients[path] = blob
                while len(self._blob_clients) > BLOB_CLIENTS_KEPT:
                    self._blob_clients.popitem(last=False)
        return blob

    def _blob_ref(self, path: str) -> _BlobRef:
        """Name and URL of a blob, without building a client (a copy's source only needs its URL)."""
        container, key = self._split(path)
        return _BlobRef(container, key, f"{self._service.url.rstrip('/')}/{quote(container)}/{quote(key, safe='~/')}")

    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        container, key = split_path(path)
        if not container or not key:
            raise StorageError(f"Invalid blob path {path!r}; expected '<container>/<key>'.")
        return container, key

    def _ensure_container(self, name: str) -> None:
        with _errors(f"Creating container {name}"):
            try:
                self._service.create_container(name)
            except ResourceExistsError as exc:
                # The SDK maps ContainerBeingDeleted to the same exception:
                # a container deleted moments ago does not exist yet again.
                if _code(exc) not in ("", "ContainerAlreadyExists"):
                    raise
        self._known_containers.add(name)

    def _require_container(self, name: str) -> None:
        """Create ``name`` unless it is known to exist (one request per container and process)."""
        if name in self._known_containers:
            return
        with self._containers_lock:  # 16 copy threads start at once: create it once
            if name not in self._known_containers:
                self._ensure_container(name)

    @staticmethod
    def _container_missing(exc: HttpResponseError) -> bool:
        return _code(exc) == "ContainerNotFound"

    def _sas_expiry(self, valid_for: timedelta) -> tuple[datetime, datetime]:
        now = datetime.now(UTC)
        return now - SAS_CLOCK_SKEW, now + valid_for

    def _blob_read_sas_url(self, blob, *, valid_for: timedelta) -> str:
        start, expiry = self._sas_expiry(valid_for)
        sas = generate_blob_sas(
            account_name=self._account_name,
            container_name=blob.container_name,
            blob_name=blob.blob_name,
            account_key=self._account_key,
            permission=BlobSasPermissions(read=True),
            start=start,
            expiry=expiry,
            protocol=self._sas_protocol,
        )
        return f"{blob.url}?{sas}"

    @property
    def _signs_with_account_key(self) -> bool:
        """Requests are authorised with the account's Shared Key (not a SAS or token credential)."""
        return bool(getattr(self._service.credential, "account_key", None))

    def _same_account(self, other: AzureStorage) -> bool:
        return (other._account_name, other._service.primary_endpoint) == (
            self._account_name,
            self._service.primary_endpoint,
        )

    def _copy_source_url(self, origin: AzureStorage, blob) -> str:
        """The source URL of a copy into this account: plain when our Shared Key authorises it, else a read SAS.

        Azure authorises a source blob in the destination's own account with
        the destination request's Shared Key, so a same-account copy made with
        the account key carries no SAS (Azurite then skips verifying the
        source by requesting it from itself: about 5 ms a copy instead of 13).
        A source in another account, or a destination not signing with the
        account key, needs a read-only SAS for that blob, signed by the
        source's account and valid only as long as the copy may take.
        """
        if self._same_account(origin) and self._signs_with_account_key:
            return blob.url
        return origin._blob_read_sas_url(blob, valid_for=COPY_SOURCE_SAS_VALID)

    # files
    def list(
        self, prefix: str, *, page_size: int | None = None, first_page_size: int | None = None
    ) -> Iterator[StoredFile]:
        container, key_prefix = split_path(prefix)
        client = self._service.get_container_client(container)
        token = None
        if first_page_size and first_page_size != page_size:
            # A small first page reaches the caller after one short round trip.
            with _errors(f"Listing {prefix}"):
                pages = client.list_blobs(name_starts_with=key_prefix or None, results_per_page=first_page_size)
                pages = pages.by_page()
                yield from self._stored(container, key_prefix, next(pages, ()))
                token = pages.continuation_token
            if not token:
                return
        with _errors(f"Listing {prefix}"):
            pages = client.list_blobs(name_starts_with=key_prefix or None, results_per_page=page_size)
            for page in pages.by_page(continuation_token=token):  # follows every continuation token
                yield from self._stored(container, key_prefix, page)

    @staticmethod
    def _stored(container: str, key_prefix: str, page) -> Iterator[StoredFile]:
        for blob in page:
            yield StoredFile(
                name=relative_name(blob.name, key_prefix),
                path=f"{container}/{blob.name}",
                size=blob.size,
                content_type=blob.content_settings.content_type if blob.content_settings else None,
            )

    def copy(self, source: str, destination: str, *, source_storage: Storage | None = None) -> None:
        origin = self if source_storage is None else source_storage
        if not isinstance(origin, AzureStorage):
            raise StorageError("Azure storage copies only from Azure storage.")
        src = origin._blob_ref(source)
        dst = self._blob(destination)
        source_url = self._copy_source_url(origin, src)
        self._require_container(dst.container_name)
        with _errors(f"Copying {source} to {destination}"):
            try:
                started = dst.start_copy_from_url(source_url)
            except HttpResponseError as exc:
                if not self._container_missing(exc):
                    if exc.status_code == 404 or _code(exc) == "CannotVerifyCopySource":
                        raise ObjectNotFound(f"Copying {source}: source not found") from exc
                    raise
                # The destination container was deleted behind our back.
                self._known_containers.discard(dst.container_name)
                self._require_container(dst.container_name)
                started = dst.start_copy_from_url(source_url)
            status = started.get("copy_status")
            delay = COPY_POLL_INITIAL
            deadline = time.monotonic() + COPY_TIMEOUT
            while status == "pending":
                if time.monotonic() > deadline:
                    dst.abort_copy(started["copy_id"])
                    raise StorageError(f"Copying {source} to {destination} timed out.")
                time.sleep(delay)
                delay = min(delay * 2, COPY_POLL_MAX)
                status = dst.get_blob_properties().copy.status
            if status != "success":
                raise StorageError(f"Copying {source} to {destination} ended with status {status!r}.")

    def read_range(self, path: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise StorageError("offset and length must not be negative.")
        if length == 0:
            return b""
        blob = self._blob(path)
        with _errors(f"Reading {path}"):
            try:
                return blob.download_blob(offset=offset, length=length, max_concurrency=1).readall()
            except HttpResponseError as exc:
                if exc.status_code == 416:  # offset at or past the end
                    return b""
                raise

    def open(self, path: str) -> BinaryIO:
        blob = self._blob(path)
        with _errors(f"Opening {path}"):
            downloader = blob.download_blob(max_concurrency=1)
        return io.BufferedReader(_BlobReader(downloader, path), buffer_size=256 * 1024)

    def write(self, path: str, chunks: Iterable[bytes], *, content_type: str | None = None) -> int:
        blob = self._blob(path)
        written = 0

        def counted():
            nonlocal written
            for chunk in chunks:
                written += len(chunk)
                yield chunk

        settings = ContentSettings(content_type=content_type) if content_type else None
        # The chunks cannot be replayed after a failed request, so make sure
        # the container exists first (once per container and instance).
        self._require_container(blob.container_name)
        with _errors(f"Writing {path}"):
            try:
                # An iterable of unknown length is uploaded in blocks, never buffered whole.
                blob.upload_blob(counted(), overwrite=True, content_settings=settings, max_concurrency=1)
            except HttpResponseError as exc:
                if self._container_missing(exc):  # deleted behind our back: recreate next time
                    self._known_containers.discard(blob.container_name)
                raise
        return written

    def delete(self, path: str) -> None:
        blob = self._blob(path)
        with _errors(f"Deleting {path}"):
            try:
                blob.delete_blob()
            except ResourceNotFoundError:
                pass

    def exists(self, path: str) -> bool:
        blob = self._blob(path)
        with _errors(f"Checking {path}"):
            return blob.exists()

    def size(self, path: str) -> int:
        blob = self._blob(path)
        with _errors(f"Reading the size of {path}"):
            return blob.get_blob_properties().size

    def ping(self, *, timeout: float) -> None:
        # One listing request, no retries: a probe wants to know now, not after the backoff.
        with _errors("Pinging the storage account"):
            pages = self._service.list_containers(
                results_per_page=1, retry_total=0, connection_timeout=timeout, read_timeout=timeout
            ).by_page()
            next(pages, None)

    def read_url(self, path: str, *, valid_for: timedelta) -> str:
        return self._blob_read_sas_url(self._blob(path), valid_for=valid_for)

    # dropboxes
    def create_dropbox(self, name: str) -> None:
        self._ensure_container(name)

    def dropbox_upload_url(self, name: str, *, key: str, valid_for: timedelta) -> str:
        if not isinstance(key, str) or not key or len(key) > MAX_POLICY_ID_LENGTH:
            raise StorageError(f"A dropbox key is 1-{MAX_POLICY_ID_LENGTH} characters.")
        start, expiry = self._sas_expiry(valid_for)
        container = self._service.get_container_client(name)
        # The container's only stored access policy: upload and list, never
        # read or delete. It holds the permissions and the times (Azurite
        # takes them from the policy alone), so the SAS names just its id.
        policy = AccessPolicy(permission=DROPBOX_PERMISSION, start=start, expiry=expiry)
        with _errors(f"Opening dropbox {name}"):
            container.set_container_access_policy(signed_identifiers={key: policy})
        return self._dropbox_sas_url(name, key)

    def _dropbox_sas_url(self, name: str, key: str) -> str:
        """The container URL with a SAS naming stored access policy ``key`` (no request is made)."""
        sas = generate_container_sas(
            account_name=self._account_name,
            container_name=name,
            account_key=self._account_key,
            policy_id=key,
            protocol=self._sas_protocol,
        )
        return f"{self._service.get_container_client(name).url}?{sas}"

    def revoke_dropbox_uploads(self, name: str) -> None:
        with _errors(f"Closing dropbox {name}"):
            try:
                # No stored policy left: every SAS naming one is refused.
                self._service.get_container_client(name).set_container_access_policy(signed_identifiers={})
            except ResourceNotFoundError:
                pass

    def dropbox_policies(self, name: str) -> dict[str, AccessPolicy]:
        """The stored access policies of a dropbox container by id (Azure only; used by tests)."""
        with _errors(f"Reading the policies of {name}"):
            acl = self._service.get_container_client(name).get_container_access_policy()
        return {identifier.id: identifier.access_policy for identifier in acl["signed_identifiers"]}

    def delete_dropbox(self, name: str) -> None:
        with _errors(f"Deleting dropbox {name}"):
            try:
                self._service.delete_container(name)
            except ResourceNotFoundError:
                pass
        self._known_containers.discard(name)

    def list_containers(self) -> list[str]:
        """Every container name of the account (Azure only; used by the test fixtures)."""
        with _errors("Listing containers"):
            return [c.name for c in self._service.list_containers()]

    def dropbox_exists(self, name: str) -> bool:
        with _errors(f"Checking dropbox {name}"):
            return self._service.get_container_client(name).exists()
