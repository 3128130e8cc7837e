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
        return self.data[offset:offset + length]

    def open(self, path):
        self.opens += 1
        return BytesIO(self.data)


def test_probe_reads_a_small_non_image_once_and_gives_up():
    storage = FakeStorage(b"just text")
    assert probe(storage, "c/notes.txt", len(storage.data)) is None
    assert (storage.reads, storage.opens) == ([(0, HEADER_BYTES)], 0)


def test_probe_of_a_large_non_image_reads_it_whole_once_before_giving_up():
    storage = FakeStorage(b"\0" * (HEADER_BYTES * 2))
    assert probe(storage, "c/blob.bin", len(storage.data)) is None
    assert storage.opens == 1


def test_probe_never_reads_an_empty_file():
    storage = FakeStorage(b"")
    assert probe(storage, "c/empty.png", 0) is None
    assert (storage.reads, storage.opens) == ([], 0)
