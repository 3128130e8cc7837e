"""Storage adapters: one interface, a ``local`` and an ``azure`` backend.

``get_storage()`` returns the backend chosen by ``settings.STORAGE_BACKEND``.
It reads the settings at call time (tests switch them per test) and keeps one
instance per distinct configuration, so the Azure backend's HTTP connection
pool is shared by every caller. Azure clients and SAS tokens never leave this
package; callers see paths (``<container>/<key>``), URLs and the exceptions
below.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

# The storage layer's errors are core's (every error class is in core.exceptions);
# they are part of this package's face: raised by the backends, caught by callers.
from core.exceptions import FileTooLarge, InvalidFileName, InvalidToken, ObjectNotFound, StorageError

if TYPE_CHECKING:
    from integrations.storage.base import Storage
    from integrations.storage.local import DropboxToken


_instances: dict[tuple, Storage] = {}
_instances_lock = threading.Lock()


def _config_key() -> tuple:
    from django.conf import settings

    backend = settings.STORAGE_BACKEND
    if backend == "local":
        return ("local", str(settings.MEDIA_ROOT))
    if backend == "azure":
        return (
            "azure",
            settings.AZURE_STORAGE_CONNECTION_STRING,
            settings.AZURE_STORAGE_ACCOUNT_URL,
            settings.AZURE_STORAGE_CREDENTIAL,
            int(settings.IMAGESET_COPY_WORKERS),
            int(settings.AZURE_STORAGE_RETRIES),
        )
    raise StorageError(f"Unknown STORAGE_BACKEND {backend!r}; use 'local' or 'azure'.")


def _build(key: tuple) -> Storage:
    if key[0] == "local":
        from integrations.storage.local import LocalStorage

        return LocalStorage(location=key[1])
    from integrations.storage.azure import AzureStorage
    from integrations.storage.azure.client import token_credential

    _, connection_string, account_url, credential, workers, retries = key
    if connection_string:
        return AzureStorage(connection_string, pool_size=workers + 4, retries=retries)
    return AzureStorage(
        account_url=account_url, credential=token_credential(credential), pool_size=workers + 4, retries=retries
    )


def get_storage() -> Storage:
    """The storage backend for the current settings (one shared instance per configuration)."""
    key = _config_key()
    storage = _instances.get(key)
    if storage is None:
        with _instances_lock:
            storage = _instances.get(key)
            if storage is None:
                storage = _instances[key] = _build(key)
    return storage


def unsign_dropbox_token(token: str) -> DropboxToken:
    """``(name, key)``: the dropbox and set key a local upload token was issued for.

    ``InvalidToken`` if forged or expired.
    """
    from integrations.storage.local import unsign_dropbox_token as unsign

    return unsign(token)


__all__ = [
    "StorageError",
    "ObjectNotFound",
    "InvalidToken",
    "InvalidFileName",
    "FileTooLarge",
    "get_storage",
    "unsign_dropbox_token",
]
