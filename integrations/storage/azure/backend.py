"""``AzureStorage``: the ``Storage`` interface over Azure Blob Storage (see the package's docstring)."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import AccessPolicy, BlobClient, ContainerSasPermissions, ContentSettings

from integrations.storage import ObjectNotFound, StorageError
from integrations.storage.azure.client import pooled_session, service_client, token_credential
from integrations.storage.azure.containers import KnownContainers, container_missing
from integrations.storage.azure.copying import COPY_SOURCE_SAS_VALID, BlobRef, wait_for_copy
from integrations.storage.azure.errors import azure_errors, error_code
from integrations.storage.azure.reader import BlobReader
from integrations.storage.azure.sas import SasSigner, sas_times
from integrations.storage.base import Storage, StoredFile, relative_name, split_path

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

# What a dropbox URL may do: upload and list, never read or delete.
DROPBOX_PERMISSION = ContainerSasPermissions(create=True, write=True, add=True, list=True)
MAX_POLICY_ID_LENGTH = 64  # Azure's limit for a signed identifier

# Blob clients an instance keeps (about 32 KiB each). A finish-job thread reads
# the file it has just copied, so a few per copy thread are enough.
BLOB_CLIENTS_KEPT = 64


class AzureStorage(Storage):
    """Azure Blob Storage by connection string (account key) or by account URL and token credential (keyless)."""

    def __init__(
        self,
        connection_string: str = "",
        *,
        account_url: str = "",
        credential: TokenCredential | None = None,
        pool_size: int = 20,
        retries: int = 3,
    ):
        if not connection_string and not account_url:
            raise StorageError("Neither AZURE_STORAGE_CONNECTION_STRING nor AZURE_STORAGE_ACCOUNT_URL is set.")
        self._session = pooled_session(pool_size)
        if not connection_string and credential is None:
            credential = token_credential()
        self._service = service_client(
            connection_string, account_url=account_url, credential=credential, session=self._session, retries=retries
        )
        self._signer = SasSigner.for_service(self._service)
        self.pool_size = pool_size
        self._containers = KnownContainers(self._service)
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

    def _blob_ref(self, path: str) -> BlobRef:
        """Name and URL of a blob, without building a client (a copy's source only needs its URL)."""
        container, key = self._split(path)
        return BlobRef(container, key, f"{self._service.url.rstrip('/')}/{quote(container)}/{quote(key, safe='~/')}")

    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        container, key = split_path(path)
        if not container or not key:
            raise StorageError(f"Invalid blob path {path!r}; expected '<container>/<key>'.")
        return container, key

    def _blob_read_sas_url(self, blob, *, valid_for: timedelta) -> str:
        return self._signer.blob_read_url(blob, valid_for=valid_for)

    @property
    def _signs_with_account_key(self) -> bool:
        """Requests are authorised with the account's Shared Key (not a SAS or token credential)."""
        return bool(getattr(self._service.credential, "account_key", None))

    def _same_account(self, other: AzureStorage) -> bool:
        return (other._signer.account_name, other._service.primary_endpoint) == (
            self._signer.account_name,
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
        source's account and valid only as long as the copy may take. Keyless,
        that is a user-delegation SAS even inside the account: Copy Blob does
        not authorise its source with the destination request's bearer token
        (and Put Blob From URL's source bearer is not implemented by Azurite).
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
            with azure_errors(f"Listing {prefix}"):
                pages = client.list_blobs(name_starts_with=key_prefix or None, results_per_page=first_page_size)
                pages = pages.by_page()
                yield from self._stored(container, key_prefix, next(pages, ()))
                token = pages.continuation_token
            if not token:
                return
        with azure_errors(f"Listing {prefix}"):
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
        self._containers.require(dst.container_name)
        with azure_errors(f"Copying {source} to {destination}"):
            try:
                started = dst.start_copy_from_url(source_url)
            except HttpResponseError as exc:
                if not container_missing(exc):
                    if exc.status_code == 404 or error_code(exc) == "CannotVerifyCopySource":
                        raise ObjectNotFound(f"Copying {source}: source not found") from exc
                    raise
                # The destination container was deleted behind our back.
                self._containers.forget(dst.container_name)
                self._containers.require(dst.container_name)
                started = dst.start_copy_from_url(source_url)
            wait_for_copy(dst, started, what=f"Copying {source} to {destination}")

    def read_range(self, path: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise StorageError("offset and length must not be negative.")
        if length == 0:
            return b""
        blob = self._blob(path)
        with azure_errors(f"Reading {path}"):
            try:
                return blob.download_blob(offset=offset, length=length, max_concurrency=1).readall()
            except HttpResponseError as exc:
                if exc.status_code == 416:  # offset at or past the end
                    return b""
                raise

    def open(self, path: str) -> BinaryIO:
        blob = self._blob(path)
        with azure_errors(f"Opening {path}"):
            downloader = blob.download_blob(max_concurrency=1)
        return io.BufferedReader(BlobReader(downloader, path), buffer_size=256 * 1024)

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
        self._containers.require(blob.container_name)
        with azure_errors(f"Writing {path}"):
            try:
                # An iterable of unknown length is uploaded in blocks, never buffered whole.
                blob.upload_blob(counted(), overwrite=True, content_settings=settings, max_concurrency=1)
            except HttpResponseError as exc:
                if container_missing(exc):  # deleted behind our back: recreate next time
                    self._containers.forget(blob.container_name)
                raise
        return written

    def delete(self, path: str) -> None:
        blob = self._blob(path)
        with azure_errors(f"Deleting {path}"):
            try:
                blob.delete_blob()
            except ResourceNotFoundError:
                pass

    def exists(self, path: str) -> bool:
        blob = self._blob(path)
        with azure_errors(f"Checking {path}"):
            return blob.exists()

    def size(self, path: str) -> int:
        blob = self._blob(path)
        with azure_errors(f"Reading the size of {path}"):
            return blob.get_blob_properties().size

    def ping(self, *, timeout: float) -> None:
        # One listing request, no retries: a probe wants to know now, not after the backoff.
        with azure_errors("Pinging the storage account"):
            pages = self._service.list_containers(
                results_per_page=1, retry_total=0, connection_timeout=timeout, read_timeout=timeout
            ).by_page()
            next(pages, None)

    def read_url(self, path: str, *, valid_for: timedelta) -> str:
        return self._blob_read_sas_url(self._blob(path), valid_for=valid_for)

    # dropboxes
    def create_dropbox(self, name: str) -> None:
        self._containers.create(name)

    def dropbox_upload_url(self, name: str, *, key: str, valid_for: timedelta) -> str:
        if not isinstance(key, str) or not key or len(key) > MAX_POLICY_ID_LENGTH:
            raise StorageError(f"A dropbox key is 1-{MAX_POLICY_ID_LENGTH} characters.")
        container = self._service.get_container_client(name)
        if not self._signer.signs_stored_policies:
            # Keyless: a user-delegation SAS carries its permissions and expiry
            # itself (it cannot name a stored policy); deleting the container
            # is what revokes it (see revoke_dropbox_uploads).
            with azure_errors(f"Opening dropbox {name}"):
                container.get_container_properties()  # a missing dropbox is refused, as with a policy
            return self._signer.container_url(container, permission=DROPBOX_PERMISSION, valid_for=valid_for)
        start, expiry = sas_times(valid_for)
        # The container's only stored access policy: upload and list, never
        # read or delete. It holds the permissions and the times (Azurite
        # takes them from the policy alone), so the SAS names just its id.
        policy = AccessPolicy(permission=DROPBOX_PERMISSION, start=start, expiry=expiry)
        with azure_errors(f"Opening dropbox {name}"):
            container.set_container_access_policy(signed_identifiers={key: policy})
        return self._dropbox_sas_url(name, key)

    def _dropbox_sas_url(self, name: str, key: str) -> str:
        """The container URL with a SAS naming stored access policy ``key`` (no request is made)."""
        return self._signer.container_policy_url(self._service.get_container_client(name), policy_id=key)

    def revoke_dropbox_uploads(self, name: str) -> None:
        if not self._signer.signs_stored_policies:
            # Keyless: a user-delegation SAS cannot be revoked alone (revoking
            # the delegation keys is account-wide and breaks every read URL).
            # The dropbox's URLs stop working when the finish job deletes the
            # container after its last listing; files landing before that are
            # registered (Storage.uploads_may_land_after_finish).
            return
        with azure_errors(f"Closing dropbox {name}"):
            try:
                # No stored policy left: every SAS naming one is refused.
                self._service.get_container_client(name).set_container_access_policy(signed_identifiers={})
            except ResourceNotFoundError:
                pass

    def dropbox_policies(self, name: str) -> dict[str, AccessPolicy]:
        """The stored access policies of a dropbox container by id (Azure only; used by tests)."""
        with azure_errors(f"Reading the policies of {name}"):
            acl = self._service.get_container_client(name).get_container_access_policy()
        return {identifier.id: identifier.access_policy for identifier in acl["signed_identifiers"]}

    def delete_dropbox(self, name: str) -> None:
        with azure_errors(f"Deleting dropbox {name}"):
            try:
                self._service.delete_container(name)
            except ResourceNotFoundError:
                pass
        self._containers.forget(name)

    def list_containers(self) -> list[str]:
        """Every container name of the account (Azure only; used by the test fixtures)."""
        with azure_errors("Listing containers"):
            return [c.name for c in self._service.list_containers()]

    def dropbox_exists(self, name: str) -> bool:
        with azure_errors(f"Checking dropbox {name}"):
            return self._service.get_container_client(name).exists()
