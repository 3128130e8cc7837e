"""Signing SAS URLs: with the account key, or keyless with a cached user delegation key.

``SasSigner.for_service`` picks the signer the service client's credential
allows: ``AccountKeySigner`` for Shared Key (a connection string with an
``AccountKey``), ``DelegationSigner`` for a token credential. Both sign a
blob's read URL and a container's upload URL; only the account key can sign
a SAS naming a stored access policy (Azure refuses one on a user-delegation
SAS), so only it revokes a dropbox without deleting its container.

User delegation keys: one key per signer (per storage instance, so per
process and configuration) serves every SAS. It is asked for the longest
validity Azure allows (7 days) and renewed once it is ``DELEGATION_KEY_RENEW_AFTER``
old, under a lock, so a process asks about once an hour whatever it signs.
A SAS never outlives its key: its expiry is capped at the key's, so a URL
asked for the full 7 days is valid at least 7 days minus the renewal age and
the clock-skew margin (about 6 days 22.9 hours).
"""

from __future__ import annotations

import abc
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from azure.storage.blob import (
    BlobSasPermissions,
    BlobServiceClient,
    ContainerSasPermissions,
    UserDelegationKey,
    generate_blob_sas,
    generate_container_sas,
)

from integrations.storage import StorageError
from integrations.storage.azure.errors import azure_errors

# Clock skew allowance for SAS start times.
SAS_CLOCK_SKEW = timedelta(minutes=5)
# Azure's longest user delegation key (and so user-delegation SAS): 7 days from the request.
DELEGATION_KEY_MAX = timedelta(days=7)
# A key is asked for DELEGATION_KEY_MAX less the skew margin (Azure counts from its own clock)...
DELEGATION_KEY_VALID = DELEGATION_KEY_MAX - SAS_CLOCK_SKEW
# ... and replaced once this old, long before it expires (a SAS is capped at its key's expiry).
DELEGATION_KEY_RENEW_AFTER = timedelta(hours=1)


def now() -> datetime:
    """The current time, UTC (one place, so tests can move the clock)."""
    return datetime.now(UTC)


def sas_times(valid_for: timedelta) -> tuple[datetime, datetime]:
    """A SAS's (start, expiry): from a little before now, for ``valid_for``."""
    current = now()
    return current - SAS_CLOCK_SKEW, current + valid_for


def _protocol(service: BlobServiceClient) -> str | None:
    """HTTPS-only SAS when the blob endpoint is HTTPS; an http endpoint (Azurite) gets the service default."""
    return "https" if urlsplit(service.url).scheme == "https" else None


class SasSigner(abc.ABC):
    """Signs SAS tokens for one account (see the module docstring)."""

    account_name: str
    protocol: str | None
    # Whether a SAS may name a stored access policy (``container_policy_url``).
    signs_stored_policies: bool

    @staticmethod
    def for_service(service: BlobServiceClient) -> SasSigner:
        account_key = getattr(service.credential, "account_key", None)
        if account_key:
            return AccountKeySigner(service.account_name, _protocol(service), account_key)
        if hasattr(service.credential, "get_token"):
            return DelegationSigner(service.account_name, _protocol(service), DelegationKeys(service))
        raise StorageError(
            "Azure storage needs an AccountKey (AZURE_STORAGE_CONNECTION_STRING) or a token credential "
            "(AZURE_STORAGE_ACCOUNT_URL) to sign SAS URLs."
        )

    def blob_read_url(self, blob, *, valid_for: timedelta) -> str:
        """``blob``'s URL (a client or anything with its ``container_name``, ``blob_name``, ``url``), read-only."""
        start, expiry = sas_times(valid_for)
        sas = generate_blob_sas(
            account_name=self.account_name,
            container_name=blob.container_name,
            blob_name=blob.blob_name,
            permission=BlobSasPermissions(read=True),
            start=start,
            protocol=self.protocol,
            **self._signing(expiry),
        )
        return f"{blob.url}?{sas}"

    def container_url(self, container, *, permission: ContainerSasPermissions, valid_for: timedelta) -> str:
        """The container's URL with a SAS granting ``permission`` for ``valid_for`` (no stored policy)."""
        start, expiry = sas_times(valid_for)
        sas = generate_container_sas(
            account_name=self.account_name,
            container_name=container.container_name,
            permission=permission,
            start=start,
            protocol=self.protocol,
            **self._signing(expiry),
        )
        return f"{container.url}?{sas}"

    @abc.abstractmethod
    def _signing(self, expiry: datetime) -> dict:
        """The key and expiry keyword arguments of ``generate_*_sas`` for a SAS meant to end at ``expiry``."""


@dataclass(frozen=True)
class AccountKeySigner(SasSigner):
    """Signs with the account key: service SAS, stored access policies allowed."""

    account_name: str
    protocol: str | None
    account_key: str
    signs_stored_policies = True

    def _signing(self, expiry: datetime) -> dict:
        return {"account_key": self.account_key, "expiry": expiry}

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


@dataclass(frozen=True)
class DelegationSigner(SasSigner):
    """Signs user-delegation SAS with the cached key of ``keys``; never one outliving that key."""

    account_name: str
    protocol: str | None
    keys: DelegationKeys
    signs_stored_policies = False

    def _signing(self, expiry: datetime) -> dict:
        key, key_expiry = self.keys.current()
        return {"user_delegation_key": key, "expiry": min(expiry, key_expiry)}


class DelegationKeys:
    """The user delegation key of one account, fetched once and renewed every ``DELEGATION_KEY_RENEW_AFTER``."""

    def __init__(self, service: BlobServiceClient):
        self._service = service
        self._lock = threading.Lock()
        self._key: UserDelegationKey | None = None
        self._expiry = self._renew_at = datetime.min.replace(tzinfo=UTC)
        self.fetched = 0  # keys asked for so far (tests and the log read it)

    def current(self) -> tuple[UserDelegationKey, datetime]:
        """The key to sign with now and its expiry (a SAS must end by then)."""
        with self._lock:  # copy threads sign at once: one of them fetches, the others wait for its key
            if self._key is None or now() >= self._renew_at:
                self._fetch()
            return self._key, self._expiry

    def _fetch(self) -> None:
        current = now()
        start, expiry = current - SAS_CLOCK_SKEW, current + DELEGATION_KEY_VALID
        with azure_errors("Getting a user delegation key"):
            self._key = self._service.get_user_delegation_key(key_start_time=start, key_expiry_time=expiry)
        self._expiry, self._renew_at = expiry, current + DELEGATION_KEY_RENEW_AFTER
        self.fetched += 1
