"""The storage interface, run on both backends (local, and Azure on Azurite)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import requests

from integrations.storage import ObjectNotFound, StorageError

RANDOM = os.urandom(700 * 1024)  # larger than every read/write chunk size


def put(storage, path: str, data: bytes, content_type: str | None = None) -> None:
    storage.write(path, [data], content_type=content_type)


def read_all(storage, path: str) -> bytes:
    with storage.open(path) as f:
        return f.read()


def fetch(url: str, client) -> tuple[int, bytes, str]:
    """GET a read URL as a browser would: absolute (Azure SAS) or site-relative (local)."""
    if url.startswith("/"):
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, body, response["Content-Type"]
    response = requests.get(url, timeout=10)
    return response.status_code, response.content, response.headers.get("Content-Type", "")


def test_listing_follows_every_page(any_storage):
    for i in range(5):
        put(any_storage, f"box-list/set/img-{i}.png", b"x" * i)
    put(any_storage, "box-list/other/outside.png", b"x")

    listed = list(any_storage.list("box-list/set/", page_size=2))

    assert [f.name for f in listed] == [f"img-{i}.png" for i in range(5)]
    assert [f.path for f in listed] == [f"box-list/set/img-{i}.png" for i in range(5)]


def test_listing_a_whole_container_names_files_by_their_full_key(any_storage):
    put(any_storage, "box-names/a.jpg", b"1")
    put(any_storage, "box-names/sub/b c é.jpg", b"2")

    assert [f.name for f in any_storage.list("box-names")] == ["a.jpg", "sub/b c é.jpg"]


def test_listing_gives_size_and_content_type(any_storage):
    put(any_storage, "box-meta/photo.png", b"p" * 10, content_type="image/png")
    put(any_storage, "box-meta/photo.jpg", RANDOM, content_type="image/jpeg")
    put(any_storage, "box-meta/empty.gif", b"", content_type="image/gif")

    listed = {f.name: (f.size, f.content_type) for f in any_storage.list("box-meta", page_size=1)}

    assert listed == {
        "empty.gif": (0, "image/gif"),
        "photo.jpg": (len(RANDOM), "image/jpeg"),
        "photo.png": (10, "image/png"),
    }


def test_listing_an_empty_prefix_gives_nothing_and_a_missing_container_raises(any_storage):
    put(any_storage, "box-empty/a.png", b"1")

    assert list(any_storage.list("box-empty/nothing-here/")) == []
    with pytest.raises(ObjectNotFound):
        list(any_storage.list("box-never-created"))


def test_copy_duplicates_the_bytes_and_keeps_the_source(any_storage):
    put(any_storage, "box-copy/src.jpg", RANDOM)

    any_storage.copy("box-copy/src.jpg", "box-copy-final/folder/set/dst.jpg")

    assert read_all(any_storage, "box-copy-final/folder/set/dst.jpg") == RANDOM
    assert read_all(any_storage, "box-copy/src.jpg") == RANDOM


def test_copy_replaces_an_existing_destination(any_storage):
    put(any_storage, "box-copy2/src.jpg", b"new")
    put(any_storage, "box-copy2/dst.jpg", b"old and longer")

    any_storage.copy("box-copy2/src.jpg", "box-copy2/dst.jpg")

    assert read_all(any_storage, "box-copy2/dst.jpg") == b"new"


def test_copy_of_a_missing_file_raises_object_not_found(any_storage):
    any_storage.create_dropbox("box-copy3")

    with pytest.raises(ObjectNotFound):
        any_storage.copy("box-copy3/missing.jpg", "box-copy3/dst.jpg")
    assert not any_storage.exists("box-copy3/dst.jpg")


def test_read_range_returns_the_requested_bytes_and_fewer_at_the_end(any_storage):
    put(any_storage, "box-range/f.bin", RANDOM)
    size = len(RANDOM)

    assert any_storage.read_range("box-range/f.bin", 0, 65536) == RANDOM[:65536]
    assert any_storage.read_range("box-range/f.bin", 1000, 10) == RANDOM[1000:1010]
    assert any_storage.read_range("box-range/f.bin", size - 5, 100) == RANDOM[-5:]
    assert any_storage.read_range("box-range/f.bin", size, 10) == b""
    assert any_storage.read_range("box-range/f.bin", size + 100, 10) == b""
    assert any_storage.read_range("box-range/f.bin", 10, 0) == b""


def test_read_range_of_an_empty_or_missing_file(any_storage):
    put(any_storage, "box-range2/empty.bin", b"")

    assert any_storage.read_range("box-range2/empty.bin", 0, 65536) == b""
    with pytest.raises(ObjectNotFound):
        any_storage.read_range("box-range2/missing.bin", 0, 10)


def test_open_streams_the_whole_file(any_storage):
    put(any_storage, "box-open/f.bin", RANDOM)

    with any_storage.open("box-open/f.bin") as f:
        first = f.read(100)
        rest = f.read()

    assert first + rest == RANDOM
    with pytest.raises(ObjectNotFound):
        any_storage.open("box-open/missing.bin")


def test_write_streams_several_chunks_and_overwrites(any_storage):
    chunks = [RANDOM[i : i + 100_000] for i in range(0, len(RANDOM), 100_000)]
    consumed = []

    def generate():
        for chunk in chunks:
            consumed.append(len(chunk))
            yield chunk

    assert any_storage.write("box-write/f.bin", generate(), content_type="application/octet-stream") == len(RANDOM)
    assert len(consumed) == len(chunks) > 1
    assert read_all(any_storage, "box-write/f.bin") == RANDOM

    assert any_storage.write("box-write/f.bin", [b"short", b"er"]) == 7
    assert read_all(any_storage, "box-write/f.bin") == b"shorter"
    assert any_storage.size("box-write/f.bin") == 7


def test_a_write_that_fails_midway_leaves_the_previous_file(any_storage):
    put(any_storage, "box-write2/f.bin", b"previous")

    def failing():
        yield b"partial data"
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        any_storage.write("box-write2/f.bin", failing())

    assert read_all(any_storage, "box-write2/f.bin") == b"previous"
    assert [f.name for f in any_storage.list("box-write2")] == ["f.bin"]


def test_delete_removes_a_file_and_ignores_a_missing_one(any_storage):
    put(any_storage, "box-delete/f.bin", b"1")
    put(any_storage, "box-delete/g.bin", b"2")

    any_storage.delete("box-delete/f.bin")
    any_storage.delete("box-delete/f.bin")
    any_storage.delete("box-delete/never.bin")

    assert not any_storage.exists("box-delete/f.bin")
    assert [f.name for f in any_storage.list("box-delete")] == ["g.bin"]


def test_exists_and_size(any_storage):
    put(any_storage, "box-size/f.bin", b"12345")

    assert any_storage.exists("box-size/f.bin")
    assert not any_storage.exists("box-size/g.bin")
    assert not any_storage.exists("box-size-missing/g.bin")
    assert any_storage.size("box-size/f.bin") == 5
    with pytest.raises(ObjectNotFound):
        any_storage.size("box-size/g.bin")


@pytest.mark.parametrize("name", ["photo.png", "sub folder/ünïcode name.jpg"])
def test_read_url_serves_exactly_the_stored_bytes_with_the_content_type(any_storage, client, name):
    content_type = "image/png" if name.endswith(".png") else "image/jpeg"
    put(any_storage, f"box-url/{name}", RANDOM, content_type=content_type)

    url = any_storage.read_url(f"box-url/{name}", valid_for=timedelta(days=7))
    status, body, served_type = fetch(url, client)

    assert status == 200
    assert body == RANDOM
    assert served_type == content_type


def test_dropbox_create_exists_and_delete(any_storage):
    assert not any_storage.dropbox_exists("dropbox-lifecycle")

    any_storage.create_dropbox("dropbox-lifecycle")
    any_storage.create_dropbox("dropbox-lifecycle")  # idempotent
    put(any_storage, "dropbox-lifecycle/a.png", b"1")
    put(any_storage, "dropbox-lifecycle/sub/b.png", b"2")

    assert any_storage.dropbox_exists("dropbox-lifecycle")
    assert [f.name for f in any_storage.list("dropbox-lifecycle")] == ["a.png", "sub/b.png"]
    assert any_storage.dropbox_upload_url("dropbox-lifecycle", key="lifecycle-key", valid_for=timedelta(days=7))

    any_storage.delete_dropbox("dropbox-lifecycle")
    any_storage.delete_dropbox("dropbox-lifecycle")  # a missing dropbox is fine

    assert not any_storage.dropbox_exists("dropbox-lifecycle")
    assert not any_storage.exists("dropbox-lifecycle/a.png")


def test_a_path_without_a_key_is_refused(any_storage):
    with pytest.raises(StorageError):
        any_storage.read_range("box-only", 0, 1)
