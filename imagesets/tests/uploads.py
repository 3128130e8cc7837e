"""Uploading to a dropbox URL as a client does, on either backend, and what landed in the dropbox."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from django.test import Client

from integrations.storage import StorageError
from integrations.storage.azure import AzureStorage


def upload(storage, url: str, name: str, data: bytes = b"bytes") -> int:
    """PUT one file to a dropbox URL as any client does; the status code."""
    parts = urlsplit(url)
    if isinstance(storage, AzureStorage):
        response = requests.put(
            f"{parts.scheme}://{parts.netloc}{parts.path}/{name}?{parts.query}",
            data=data,
            headers={"x-ms-blob-type": "BlockBlob"},
            timeout=10,
        )
        return response.status_code
    response = Client().put(f"{parts.path}/{name}", data=data, content_type="application/octet-stream")
    if response.status_code != 201:  # the contract's JSON error body
        assert response.json()["status"] == response.status_code
    return response.status_code


def refused_codes(storage) -> set[int]:
    """What a closed dropbox answers: Azure refuses the SAS (or the container is gone); labelhub says 409."""
    return {403, 404} if isinstance(storage, AzureStorage) else {409}


def names_in(storage, prefix: str) -> list[str]:
    try:
        return sorted(f.name for f in storage.list(prefix))
    except StorageError:
        return []
