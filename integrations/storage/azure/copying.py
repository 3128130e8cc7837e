"""Server-side copies: what a copy needs of its source, and waiting for a copy to end."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import NamedTuple

from azure.storage.blob import BlobClient

from integrations.storage import StorageError

COPY_POLL_INITIAL = 0.02  # seconds; same-account copies usually finish at once
COPY_POLL_MAX = 1.0
COPY_TIMEOUT = 600.0
# A copy source SAS (another account only) must outlive the copy, no more.
COPY_SOURCE_SAS_VALID = timedelta(seconds=COPY_TIMEOUT) + timedelta(minutes=1)


class BlobRef(NamedTuple):
    """What a copy needs of its source blob (the attributes of a ``BlobClient`` it reads)."""

    container_name: str
    blob_name: str
    url: str


def wait_for_copy(dst: BlobClient, started: dict, *, what: str) -> None:
    """Poll a started copy until it ends (backing off to ``COPY_POLL_MAX``); abort it after ``COPY_TIMEOUT``."""
    status = started.get("copy_status")
    delay = COPY_POLL_INITIAL
    deadline = time.monotonic() + COPY_TIMEOUT
    while status == "pending":
        if time.monotonic() > deadline:
            dst.abort_copy(started["copy_id"])
            raise StorageError(f"{what} timed out.")
        time.sleep(delay)
        delay = min(delay * 2, COPY_POLL_MAX)
        status = dst.get_blob_properties().copy.status
    if status != "success":
        raise StorageError(f"{what} ended with status {status!r}.")
