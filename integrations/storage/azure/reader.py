"""A read-only file over a streaming blob download."""

from __future__ import annotations

import io

from integrations.storage.azure.errors import azure_errors


class BlobReader(io.RawIOBase):
    """A read-only file over a streaming download; Azure errors become ``StorageError``."""

    def __init__(self, downloader, path: str):
        self._chunks = downloader.chunks()
        self._chunk = memoryview(b"")
        self._path = path

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bool:
        try:
            with azure_errors(f"Reading {self._path}"):
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
