"""The local backend: layout under MEDIA_ROOT, signed read URLs and the dropbox pieces."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import signing

from integrations.storage import (
    FileTooLarge,
    InvalidFileName,
    InvalidToken,
    ObjectNotFound,
    StorageError,
    get_storage,
    unsign_dropbox_token,
)
from integrations.storage.local import DropboxToken, LocalStorage, listing
from integrations.storage.local.tokens import _DROPBOX_SALT

WEEK = timedelta(days=7)
EXPIRED = timedelta(seconds=-1)


def files_under(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def test_get_storage_follows_the_settings_at_call_time(settings, tmp_path):
    settings.STORAGE_BACKEND = "local"
    first = get_storage()

    assert isinstance(first, LocalStorage)
    assert get_storage() is first
    settings.MEDIA_ROOT = str(tmp_path / "elsewhere")
    assert get_storage() is not first
    assert get_storage().location == str(tmp_path / "elsewhere")


def test_files_are_kept_at_media_root_container_key(local_storage, settings):
    local_storage.write("images/uploads/set-1/car.png", [b"car"])

    assert (Path(settings.MEDIA_ROOT) / "images" / "uploads" / "set-1" / "car.png").read_bytes() == b"car"
    assert files_under(settings.MEDIA_ROOT) == ["images/uploads/set-1/car.png"]


@pytest.mark.parametrize(
    "path", ["images/../secret.txt", "images/a/../../x", "../outside/x", "/etc/passwd", "images/a\\b", "images/"]
)
def test_paths_that_leave_media_root_are_refused(local_storage, path):
    with pytest.raises(StorageError):
        local_storage.read_range(path, 0, 10)
    with pytest.raises(StorageError):
        local_storage.write(path, [b"x"])


def test_read_url_is_site_relative_and_signed(local_storage):
    local_storage.write("images/a.png", [b"png"])

    url = local_storage.read_url("images/a.png", valid_for=WEEK)

    assert url.startswith("/api/v1/files/")
    assert "images/a.png" not in url


def test_read_url_serves_without_an_api_key_and_sandboxes_the_content(local_storage, client):
    local_storage.write("images/page.html", [b"<script>alert(1)</script>"])

    response = client.get(local_storage.read_url("images/page.html", valid_for=WEEK), HTTP_ACCEPT="image/png")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    assert response["Content-Type"] == "text/html"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Length"] == "25"
    assert response["Cache-Control"] == "private, max-age=3600"


def test_a_short_lived_read_url_is_not_cached_past_its_expiry(local_storage, client):
    local_storage.write("images/a.png", [b"png"])

    response = client.get(local_storage.read_url("images/a.png", valid_for=timedelta(seconds=120)))

    assert response.status_code == 200
    assert 110 <= int(response["Cache-Control"].rsplit("=", 1)[1]) <= 120


def test_an_expired_read_url_is_refused(local_storage, client):
    local_storage.write("images/a.png", [b"png"])

    response = client.get(local_storage.read_url("images/a.png", valid_for=EXPIRED))

    assert response.status_code == 403
    assert response.json()["detail"] == "The token has expired."


@pytest.mark.parametrize("tamper", ["signature", "payload", "garbage"])
def test_a_forged_read_url_is_refused(local_storage, client, tamper):
    local_storage.write("images/a.png", [b"png"])
    local_storage.write("images/secret.png", [b"secret"])
    token = token_of(local_storage.read_url("images/a.png", valid_for=WEEK))
    payload, timestamp, signature = token.split(":")
    if tamper == "signature":
        token = f"{payload}:{timestamp}:{signature[:-2]}AA"
    elif tamper == "payload":
        other = token_of(local_storage.read_url("images/secret.png", valid_for=WEEK)).split(":")[0]
        token = f"{other}:{timestamp}:{signature}"
    else:
        token = "not-a-token"

    response = client.get(f"/api/v1/files/{token}")

    assert response.status_code == 403
    assert response.json()["detail"] == "The token is invalid."


def test_a_token_signed_with_another_purpose_cannot_read(local_storage, client):
    local_storage.create_dropbox("dropbox-a")
    local_storage.write("dropbox-a/a.png", [b"png"])
    upload_token = token_of(local_storage.dropbox_upload_url("dropbox-a", key="k", valid_for=WEEK))
    plain_token = signing.dumps({"p": "dropbox-a/a.png", "x": 2**40})  # right key, no salt

    assert client.get(f"/api/v1/files/{upload_token}").status_code == 403
    assert client.get(f"/api/v1/files/{plain_token}").status_code == 403


def test_a_read_url_of_a_deleted_file_answers_404(local_storage, client):
    local_storage.write("images/a.png", [b"png"])
    url = local_storage.read_url("images/a.png", valid_for=WEEK)
    local_storage.delete("images/a.png")

    response = client.get(url)

    assert response.status_code == 404
    assert response.json()["detail"] == "File not found"


def test_dropbox_upload_url_carries_a_token_for_the_dropbox_and_the_sets_key(local_storage, settings):
    local_storage.create_dropbox("dropbox-set-1")

    url = local_storage.dropbox_upload_url("dropbox-set-1", key="set-key-1", valid_for=WEEK)

    assert Path(settings.MEDIA_ROOT, "dropbox-set-1").is_dir()
    assert url.startswith("/api/v1/dropbox/")
    assert "?" not in url and "/" not in token_of(url)
    assert unsign_dropbox_token(token_of(url)) == DropboxToken("dropbox-set-1", "set-key-1")
    with pytest.raises(StorageError):
        local_storage.dropbox_upload_url("dropbox-set-1", key="", valid_for=WEEK)


def test_forged_or_expired_dropbox_tokens_raise_invalid_token(local_storage):
    good = token_of(local_storage.dropbox_upload_url("dropbox-set-1", key="k", valid_for=WEEK))
    expired = token_of(local_storage.dropbox_upload_url("dropbox-set-1", key="k", valid_for=EXPIRED))
    read_token = token_of(local_storage.read_url("dropbox-set-1/a.png", valid_for=WEEK))
    payload, timestamp, signature = good.split(":")
    # Rightly signed, but in the format before tokens named the set: no key.
    keyless = signing.dumps({"d": "dropbox-set-1", "x": 2**40}, salt=_DROPBOX_SALT, compress=True)

    for token in (expired, read_token, f"{payload}:{timestamp}:{signature[::-1]}", "", "abc", keyless):
        with pytest.raises(InvalidToken):
            unsign_dropbox_token(token)
    assert issubclass(InvalidToken, StorageError)


def test_revoking_local_uploads_keeps_the_dropbox_the_view_checks_the_set(local_storage):
    local_storage.create_dropbox("dropbox-keep")
    local_storage.write("dropbox-keep/a.png", [b"a"])

    local_storage.revoke_dropbox_uploads("dropbox-keep")
    local_storage.revoke_dropbox_uploads("dropbox-never-made")

    assert [f.name for f in local_storage.list("dropbox-keep")] == ["a.png"]


def test_a_staged_upload_is_in_the_dropbox_only_once_committed(local_storage, settings):
    local_storage.create_dropbox("dropbox-stage")

    with local_storage.stage_dropbox_file("dropbox-stage", "sub/a.jpg", io.BytesIO(b"body"), max_size=10) as staged:
        assert staged.size == 4
        assert list(local_storage.list("dropbox-stage")) == []
        staged.commit()
        with pytest.raises(StorageError):
            staged.commit()

    assert files_under(settings.MEDIA_ROOT) == ["dropbox-stage/sub/a.jpg"]
    assert Path(settings.MEDIA_ROOT, "dropbox-stage", "sub", "a.jpg").read_bytes() == b"body"


def test_a_staged_upload_not_committed_leaves_nothing_behind(local_storage, settings):
    local_storage.create_dropbox("dropbox-stage")

    with local_storage.stage_dropbox_file("dropbox-stage", "a.jpg", [b"x" * 100], max_size=1000):
        pass  # e.g. the set was finished while the body streamed
    with pytest.raises(RuntimeError):
        with local_storage.stage_dropbox_file("dropbox-stage", "b.jpg", [b"y"], max_size=1000):
            raise RuntimeError("refused")

    assert files_under(settings.MEDIA_ROOT) == []
    assert Path(settings.MEDIA_ROOT, "dropbox-stage").is_dir()


def test_committing_into_a_dropbox_removed_meanwhile_raises_and_leaves_nothing(local_storage, settings):
    local_storage.create_dropbox("dropbox-stage")

    with pytest.raises(ObjectNotFound):
        with local_storage.stage_dropbox_file("dropbox-stage", "sub/a.jpg", [b"x"], max_size=10) as staged:
            local_storage.delete_dropbox("dropbox-stage")  # the finish job, or deleting the set
            staged.commit()

    assert files_under(settings.MEDIA_ROOT) == []
    assert not Path(settings.MEDIA_ROOT, "dropbox-stage").exists()


def test_copy_from_another_local_storage_reads_its_folder(local_storage, settings, tmp_path):
    other = LocalStorage(location=str(tmp_path / "other-root"))
    other.write("box/src.bin", [b"from elsewhere"])

    local_storage.copy("box/src.bin", "box/dst.bin", source_storage=other)

    assert local_storage.read_range("box/dst.bin", 0, 100) == b"from elsewhere"
    assert not local_storage.exists("box/src.bin")
    with pytest.raises(ObjectNotFound):
        local_storage.copy("box/src.bin", "box/dst2.bin")


def test_save_dropbox_file_streams_the_body_into_the_dropbox(local_storage, settings):
    local_storage.create_dropbox("dropbox-up")
    body = os.urandom(600 * 1024)

    assert local_storage.save_dropbox_file("dropbox-up", "a.jpg", io.BytesIO(body), max_size=len(body)) == len(body)
    assert local_storage.save_dropbox_file("dropbox-up", "sub dir/ünï code.jpg", [b"ab", b"cd"], max_size=10) == 4
    assert local_storage.save_dropbox_file("dropbox-up", "a.jpg", io.BytesIO(b"again"), max_size=10) == 5

    assert files_under(Path(settings.MEDIA_ROOT, "dropbox-up")) == ["a.jpg", "sub dir/ünï code.jpg"]
    assert Path(settings.MEDIA_ROOT, "dropbox-up", "a.jpg").read_bytes() == b"again"
    assert [f.name for f in local_storage.list("dropbox-up")] == ["a.jpg", "sub dir/ünï code.jpg"]


@pytest.mark.parametrize(
    "name",
    [
        "",
        "..",
        "../escape.jpg",
        "sub/../../escape.jpg",
        "sub/..",
        "/absolute.jpg",
        "back\\slash.jpg",
        "nul\x00.jpg",
        "new\nline.jpg",
        "tab\t.jpg",
        "del\x7f.jpg",
        "double//slash.jpg",
        "trailing/",
        "./dot.jpg",
        "x" * 256,
    ],
)
def test_save_dropbox_file_rejects_unsafe_names_and_writes_nothing(local_storage, settings, name):
    local_storage.create_dropbox("dropbox-up")

    with pytest.raises(InvalidFileName):
        local_storage.save_dropbox_file("dropbox-up", name, io.BytesIO(b"data"), max_size=100)

    assert files_under(settings.MEDIA_ROOT) == []


def test_save_dropbox_file_refuses_a_body_over_the_limit_and_leaves_no_partial_file(local_storage, settings):
    local_storage.create_dropbox("dropbox-up")
    local_storage.save_dropbox_file("dropbox-up", "keep.jpg", io.BytesIO(b"kept"), max_size=10)

    with pytest.raises(FileTooLarge):
        local_storage.save_dropbox_file("dropbox-up", "big.jpg", io.BytesIO(b"x" * 1_000_001), max_size=1_000_000)
    with pytest.raises(FileTooLarge):
        local_storage.save_dropbox_file("dropbox-up", "keep.jpg", [b"12345", b"678901"], max_size=10)

    assert files_under(settings.MEDIA_ROOT) == ["dropbox-up/keep.jpg"]
    assert Path(settings.MEDIA_ROOT, "dropbox-up", "keep.jpg").read_bytes() == b"kept"
    assert local_storage.save_dropbox_file("dropbox-up", "exact.jpg", io.BytesIO(b"x" * 10), max_size=10) == 10


def test_save_dropbox_file_into_a_missing_dropbox_raises_object_not_found(local_storage, settings):
    with pytest.raises(ObjectNotFound):
        local_storage.save_dropbox_file("dropbox-gone", "a.jpg", io.BytesIO(b"x"), max_size=10)

    assert files_under(settings.MEDIA_ROOT) == []


def test_save_dropbox_file_refuses_a_name_that_collides_with_a_folder_or_file(local_storage, settings):
    local_storage.create_dropbox("dropbox-up")
    local_storage.save_dropbox_file("dropbox-up", "a/b.jpg", io.BytesIO(b"1"), max_size=10)
    local_storage.save_dropbox_file("dropbox-up", "c.jpg", io.BytesIO(b"2"), max_size=10)

    with pytest.raises(InvalidFileName):
        local_storage.save_dropbox_file("dropbox-up", "a", io.BytesIO(b"x"), max_size=10)
    with pytest.raises(InvalidFileName):
        local_storage.save_dropbox_file("dropbox-up", "c.jpg/d.jpg", io.BytesIO(b"x"), max_size=10)

    assert files_under(settings.MEDIA_ROOT) == ["dropbox-up/a/b.jpg", "dropbox-up/c.jpg"]


@pytest.mark.parametrize("name", ["", ".partial", "a/b", "..", "dropbox\x00"])
def test_dropbox_names_must_be_one_safe_segment(local_storage, name):
    with pytest.raises(InvalidFileName):
        local_storage.create_dropbox(name)


def test_a_listing_larger_than_one_sort_run_is_merged_in_name_order(local_storage, monkeypatch):
    # Runs of three keys spill to temporary files: memory does not grow with the dropbox.
    monkeypatch.setattr(listing, "LIST_SORT_RUN", 3)
    names = ["b.png", "a-b.png", "a/b.png", "a/a.png", "é.png", "z/y/x.png", "c.png", "a.png", "A.png", "😀.png"]
    for name in names:
        local_storage.write(f"box-sorted/{name}", [name.encode()])

    listed = list(local_storage.list("box-sorted"))

    assert [f.name for f in listed] == sorted(names)
    assert {f.name: f.size for f in listed} == {name: len(name.encode()) for name in names}
    assert [f.name for f in local_storage.list("box-sorted/a/")] == ["a.png", "b.png"]


def test_the_bounded_memory_sort_equals_sorted(monkeypatch):
    keys = [f"{i * 7919 % 1000:04}/{'é' * (i % 3)}{i}" for i in range(1000)]

    assert list(listing.sorted_in_bounded_memory(iter(keys), run=64)) == sorted(keys)
    assert list(listing.sorted_in_bounded_memory(iter([]), run=64)) == []
    assert list(listing.sorted_in_bounded_memory(iter(["b", "a"]), run=64)) == ["a", "b"]


def test_deleting_a_dropbox_removes_nested_folders_file_by_file(local_storage, settings):
    local_storage.create_dropbox("dropbox-nested")
    names = [f"{folder}img-{i}.png" for folder in ("", "a/", "a/b/", "c/") for i in range(30)]
    for name in names:
        local_storage.write(f"dropbox-nested/{name}", [b"x"])

    local_storage.delete_dropbox("dropbox-nested")
    local_storage.delete_dropbox("dropbox-nested")  # already gone: nothing to do

    assert not local_storage.dropbox_exists("dropbox-nested")
    assert not os.path.exists(os.path.join(settings.MEDIA_ROOT, "dropbox-nested"))
