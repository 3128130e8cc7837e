"""Signing SAS URLs with the account key: a blob's read URL and a dropbox's upload URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from azure.storage.blob import BlobSasPermissions, BlobServiceClient, generate_blob_sas, generate_container_sas

from labelhub.storage import StorageError

# Clock skew allowance for SAS start times.
SAS_CLOCK_SKEW = timedelta(minutes=5)


def sas_times(valid_for: timedelta) -> tuple[datetime, datetime]:
    """A SAS's (start, expiry): from a little before now, for ``valid_for``."""
    now = datetime.now(UTC)
    return now - SAS_CLOCK_SKEW, now + valid_for


@dataclass(frozen=True)
class SasSigner:
    """Signs SAS tokens for one account; HTTPS-only when the blob endpoint is HTTPS (Azurite's is http)."""

    account_name: str
    account_key: str
    protocol: str | None

    @classmethod
    def for_service(cls, service: BlobServiceClient) -> SasSigner:
        account_key = getattr(service.credential, "account_key", None)
        if not account_key:
            raise StorageError("The Azure connection string needs an AccountKey to sign SAS URLs.")
        protocol = "https" if urlsplit(service.url).scheme == "https" else None
        return cls(service.account_name, account_key, protocol)

    def blob_read_url(self, blob, *, valid_for: timedelta) -> str:
        """``blob``'s URL (a client or anything with its ``container_name``, ``blob_name``, ``url``), read-only."""
        start, expiry = sas_times(valid_for)
        sas = generate_blob_sas(
            account_name=self.account_name,
            container_name=blob.container_name,
            blob_name=blob.blob_name,
            account_key=self.account_key,
            permission=BlobSasPermissions(read=True),
            start=start,
            expiry=expiry,
            protocol=self.protocol,
        )
        return f"{blob.url}?{sas}"

    def container_policy_url(self, container, *, policy_id: str) -> str:
        """The container's URL with a SAS naming its stored access policy ``policy_id`` (no request is made)."""
        sas = generate_container_sas(
            account_name=self.account_name,
            container_name=container.container_name,
            account_key=self.account_key,
            policy_id=policy_id,
            protocol=self.protocol,
        )
        return f"{container.url}?{sas}"
