"""A zip archive written as a stream of byte chunks, for formats made of one small file per image.

YOLO and Pascal VOC are a file per image. Written to blob storage one by
one, a 100,000-image campaign would be 100,000 requests per format (and as
many files to list, link and register); written as one zip, each format is
one streamed upload like the other export files, and one download. The zip
is written to a sink that is not seekable, so ``zipfile`` puts each entry's
sizes in a data descriptor after it and never seeks back: every entry leaves
as soon as it is compressed, and only the central directory (one small record
per entry) stays in memory until the end.

Every entry has the same fixed date and mode, so the same labels give the
same bytes (and the same SHA-256) on every run.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator

CHUNK_BYTES = 256 * 1024
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


class _Sink(io.RawIOBase):
    """Collects what ``zipfile`` writes; ``tell`` but no ``seek``, so it streams."""

    def __init__(self):
        super().__init__()
        self.parts: list[bytes] = []
        self.pending = 0
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self.parts.append(data)
        self.pending += len(data)
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        self.pending = 0
        return data


def zip_chunks(entries: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    """The zip of ``(name, content)`` entries, in that order, as chunks of about ``CHUNK_BYTES``."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
            if sink.pending >= CHUNK_BYTES:
                yield sink.drain()
    tail = sink.drain()
    if tail:
        yield tail


class EntryNames:
    """Unique entry names: a second image whose name is already taken gets ``__<image id>`` before its suffix."""

    def __init__(self):
        self.taken: set[str] = set()

    def unique(self, stem: str, suffix: str, image_id: int) -> str:
        name = f"{stem}{suffix}"
        if name in self.taken:
            name = f"{stem}__{image_id}{suffix}"
        self.taken.add(name)
        return name
