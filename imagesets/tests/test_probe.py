from io import BytesIO

import pytest
from PIL import Image

from imagesets.probe import HEADER_BYTES, NotAnImage, identify, probe
from imagesets.tests import samples


def test_a_huge_image_is_measured_without_the_decompression_bomb_refusal(monkeypatch):
    # Pillow refuses to open images over 2x MAX_IMAGE_PIXELS; we never decode, only read the size.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    info = identify(samples.png(40, 30))
    assert (info.filetype, info.width, info.height) == ("PNG", 40, 30)


def test_a_jpeg_whose_header_does_not_fit_is_not_identified_from_its_prefix():
    data = samples.jpeg_large_exif(50, 70)
    with pytest.raises(NotAnImage):
        identify(data[:HEADER_BYTES])
    assert (identify(data).width, identify(data).height) == (50, 70)


@pytest.mark.parametrize("data", [b"", b"GIF89a", b"\x89PNG\r\n\x1a\n", b"hello world" * 100])
def test_garbage_and_truncated_headers_are_not_images(data):
    with pytest.raises(NotAnImage):
        identify(data)


class FakeStorage:
    def __init__(self, data):
        self.data, self.reads, self.opens = data, [], 0

    def read_range(self, path, offset, length):
        self.reads.append((offset, length))
        return self.data[offset : offset + length]

    def open(self, path):
        self.opens += 1
        return BytesIO(self.data)


def test_probe_reads_a_small_non_image_once_and_gives_up():
    storage = FakeStorage(b"just text")
    with pytest.raises(NotAnImage, match="not an image"):
        probe(storage, "c/notes.txt", len(storage.data))
    assert (storage.reads, storage.opens) == ([(0, HEADER_BYTES)], 0)


def test_probe_of_a_large_non_image_reads_only_its_first_64_kib():
    # A 50 MiB zip or a video dropped by mistake must not be read whole (16 copy threads at once).
    storage = FakeStorage(b"PK\x03\x04" + b"\0" * (50 * 1024 * 1024))
    with pytest.raises(NotAnImage, match="no known image format"):
        probe(storage, "c/archive.zip", len(storage.data))
    assert (storage.reads, storage.opens) == ([(0, HEADER_BYTES)], 0)


def test_probe_reads_an_oversized_image_header_with_one_more_bounded_read(settings):
    settings.IMAGESET_PROBE_MAX_BYTES = 512 * 1024
    data = samples.jpeg_large_exif(50, 70) + b"\0" * (4 * 1024 * 1024)
    storage = FakeStorage(data)
    info = probe(storage, "c/big-exif.jpg", len(data))
    assert (info.filetype, info.width, info.height) == ("JPEG", 50, 70)
    assert storage.reads == [(0, HEADER_BYTES), (HEADER_BYTES, 512 * 1024 - HEADER_BYTES)]
    assert storage.opens == 0


def test_probe_gives_up_on_an_image_header_beyond_the_bound(settings):
    settings.IMAGESET_PROBE_MAX_BYTES = HEADER_BYTES  # no second read allowed
    data = samples.jpeg_large_exif(50, 70)
    storage = FakeStorage(data)
    with pytest.raises(NotAnImage, match="not readable in the first"):
        probe(storage, "c/big-exif.jpg", len(data))
    assert sum(length for _, length in storage.reads) <= HEADER_BYTES


def test_probe_never_reads_an_empty_file():
    storage = FakeStorage(b"")
    with pytest.raises(NotAnImage, match="empty file"):
        probe(storage, "c/empty.png", 0)
    assert (storage.reads, storage.opens) == ([], 0)


def tiff_header(width: int, height: int) -> bytes:
    """A little-endian TIFF with one IFD declaring ``width`` x ``height`` (LONG tags), 8-bit grey."""
    import struct

    entries = [
        (256, 4, 1, width),  # ImageWidth
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: min-is-black
        (273, 4, 1, 8),  # StripOffsets
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack("<HHII", tag, kind, count, value)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)


def test_a_tiff_declaring_a_width_beyond_any_column_is_not_an_image():
    # 2**31 does not fit PostgreSQL's integer: registering it failed the whole job, every retry.
    data = tiff_header(2**31, 10)
    with pytest.raises(NotAnImage, match="absurd dimensions"):
        identify(data)
    assert identify(tiff_header(2**31 - 1, 10)).width == 2**31 - 1


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n" + b"\xff" * 100, b"GIF89a" + b"\xff" * 20, b"II*\x00" + b"\xff" * 40, b"BM" + b"\x00" * 60],
)
def test_crafted_headers_are_not_images_never_errors(data):
    with pytest.raises(NotAnImage):
        identify(data)
