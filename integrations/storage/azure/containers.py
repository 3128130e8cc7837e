"""Which containers exist: created once per container and process, not checked before every write."""

from __future__ import annotations

import threading

from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.storage.blob import BlobServiceClient

from integrations.storage.azure.errors import azure_errors, error_code

# Per account URL, shared by every instance: a container deleted through one instance is forgotten by all.
_KNOWN_CONTAINERS: dict[str, set[str]] = {}


def container_missing(exc: HttpResponseError) -> bool:
    return error_code(exc) == "ContainerNotFound"


class KnownContainers:
    """The containers of one account known to exist."""

    def __init__(self, service: BlobServiceClient):
        self._service = service
        self._names = _KNOWN_CONTAINERS.setdefault(service.url, set())
        self._lock = threading.Lock()

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def create(self, name: str) -> None:
        """Create ``name`` (nothing if it exists) and remember it."""
        with azure_errors(f"Creating container {name}"):
            try:
                self._service.create_container(name)
            except ResourceExistsError as exc:
                # The SDK maps ContainerBeingDeleted to the same exception:
                # a container deleted moments ago does not exist yet again.
                if error_code(exc) not in ("", "ContainerAlreadyExists"):
                    raise
        self._names.add(name)

    def require(self, name: str) -> None:
        """Create ``name`` unless it is known to exist (one request per container and process)."""
        if name in self._names:
            return
        with self._lock:  # 16 copy threads start at once: create it once
            if name not in self._names:
                self.create(name)

    def forget(self, name: str) -> None:
        """``name`` was deleted (by us, or behind our back): create it again before the next write."""
        self._names.discard(name)
