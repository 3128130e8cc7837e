"""The Azure backend against Azurite: SAS scopes, stored access policies, copy sources, paging, errors, the pool.

What Azurite 3.37 enforces for a dropbox SAS naming a stored access policy
with ``acwl`` (checked here): PUT of a blob succeeds; GET, HEAD and DELETE of
a blob are refused with 403 (``AuthorizationPermissionMismatch``); listing
the container is allowed (``l`` is granted on purpose: the uploader may see
what arrived); a SAS of one container is refused on another. Azurite honours
the policy named by ``si=``: it takes permissions, start and expiry from the
policy alone (so labelhub puts them all there), refuses the SAS once the
policy is removed or replaced, and after the container is deleted and made
again. For a copy, Azurite verifies a source URL that carries a SAS, or that
is in another account, by fetching it (a forged SAS is refused; a source in
another account without SAS is refused); a source in the destination's own
account without SAS is authorised by the destination request's Shared Key,
as Azure documents, so labelhub sends none there.
"""

from __future__ import annotations

import logging
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from azure.core.exceptions import AzureError

from integrations.storage import ObjectNotFound, StorageError, get_storage
from integrations.storage.azure import COPY_SOURCE_SAS_VALID, AzureStorage
from testing.azurite import ACCOUNT_KEY, ACCOUNT_NAME, SECOND_ACCOUNT_NAME, connection_string, requests_sent

pytestmark = pytest.mark.azurite

WEEK = timedelta(days=7)


def split_sas(url: str) -> tuple[str, str, dict[str, str]]:
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return base, parts.query, {k: v[0] for k, v in parse_qs(parts.query).items()}


@pytest.fixture
def http_log(azure_storage):
    """Every HTTP request the backend sends, as (method, url, headers)."""
    with requests_sent(azure_storage) as sent:
        yield sent


def parse_time(value: str) -> datetime:
    """An ISO 8601 time as Azure writes it (``...Z``, up to 7 fraction digits)."""
    head, _, fraction = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(head).replace(tzinfo=UTC)


def put_blob(url: str, name: str, data: bytes = b"x") -> requests.Response:
    base, query, _ = split_sas(url)
    return requests.put(f"{base}/{name}?{query}", data=data, headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)


def test_the_dropbox_sas_names_a_stored_policy_granting_exactly_create_write_add_list(azure_storage):
    azure_storage.create_dropbox("dropbox-perm")
    before = datetime.now(UTC)

    url = azure_storage.dropbox_upload_url("dropbox-perm", key="set-key-perm", valid_for=WEEK)

    base, _, query = split_sas(url)
    assert base.endswith("/devstoreaccount1/dropbox-perm")
    assert (query["si"], query["sr"]) == ("set-key-perm", "c")
    assert not {"sp", "st", "se"} & query.keys()  # they are the policy's
    assert "spr" not in query  # Azurite's endpoint is http: no HTTPS-only SAS
    policies = azure_storage.dropbox_policies("dropbox-perm")
    assert list(policies) == ["set-key-perm"]
    assert sorted(policies["set-key-perm"].permission) == ["a", "c", "l", "w"]
    expiry = parse_time(policies["set-key-perm"].expiry)
    assert before + WEEK - timedelta(minutes=1) <= expiry <= before + WEEK + timedelta(minutes=1)


def test_azurite_honours_the_stored_policy_revoking_removes_it_and_refuses_the_sas(azure_storage):
    azure_storage.create_dropbox("dropbox-policy")
    url = azure_storage.dropbox_upload_url("dropbox-policy", key="key-1", valid_for=WEEK)
    assert put_blob(url, "before.jpg").status_code == 201

    azure_storage.revoke_dropbox_uploads("dropbox-policy")

    refused = put_blob(url, "after.jpg")
    assert refused.status_code == 403 and b"AuthorizationFailure" in refused.content
    assert azure_storage.dropbox_policies("dropbox-policy") == {}
    assert [f.name for f in azure_storage.list("dropbox-policy")] == ["before.jpg"]  # the dropbox stays
    azure_storage.revoke_dropbox_uploads("dropbox-policy")  # idempotent
    azure_storage.revoke_dropbox_uploads("dropbox-never-made")  # a missing dropbox is fine


def test_a_sas_naming_another_policy_id_is_refused(azure_storage):
    azure_storage.create_dropbox("dropbox-rekey")
    old = azure_storage.dropbox_upload_url("dropbox-rekey", key="old-key", valid_for=WEEK)

    new = azure_storage.dropbox_upload_url("dropbox-rekey", key="new-key", valid_for=WEEK)

    assert list(azure_storage.dropbox_policies("dropbox-rekey")) == ["new-key"]
    assert put_blob(old, "old.jpg").status_code == 403
    assert put_blob(new, "new.jpg").status_code == 201
    assert [f.name for f in azure_storage.list("dropbox-rekey")] == ["new.jpg"]


def test_a_dropbox_deleted_and_made_again_refuses_the_old_sas(azure_storage):
    azure_storage.create_dropbox("dropbox-again")
    old = azure_storage.dropbox_upload_url("dropbox-again", key="first-set", valid_for=WEEK)
    assert put_blob(old, "first.jpg").status_code == 201

    azure_storage.delete_dropbox("dropbox-again")
    assert put_blob(old, "gone.jpg").status_code in (403, 404)
    azure_storage.create_dropbox("dropbox-again")
    new = azure_storage.dropbox_upload_url("dropbox-again", key="second-set", valid_for=WEEK)

    assert put_blob(old, "stale.jpg").status_code == 403
    assert list(azure_storage.list("dropbox-again")) == []
    assert put_blob(new, "fresh.jpg").status_code == 201


def test_a_dropbox_url_for_a_missing_container_or_with_a_bad_key_is_refused(azure_storage):
    with pytest.raises(ObjectNotFound):
        azure_storage.dropbox_upload_url("dropbox-missing", key="k", valid_for=WEEK)
    azure_storage.create_dropbox("dropbox-badkey")
    for key in ("", "k" * 65):
        with pytest.raises(StorageError):
            azure_storage.dropbox_upload_url("dropbox-badkey", key=key, valid_for=WEEK)
    assert azure_storage.dropbox_policies("dropbox-badkey") == {}


def test_sas_tokens_are_https_only_when_the_endpoint_is_https():
    storage = AzureStorage(
        f"DefaultEndpointsProtocol=https;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        "EndpointSuffix=core.windows.net"
    )

    read = storage.read_url("images/a.png", valid_for=WEEK)
    dropbox = storage._dropbox_sas_url("dropbox-x", "set-key")  # what dropbox_upload_url answers

    assert read.startswith(f"https://{ACCOUNT_NAME}.blob.core.windows.net/images/a.png?")
    assert split_sas(read)[2]["spr"] == "https"
    assert split_sas(dropbox)[2]["spr"] == "https" and split_sas(dropbox)[2]["si"] == "set-key"


def test_sas_tokens_keep_http_on_an_http_endpoint(azure_storage):
    azure_storage.write("box-http/a.png", [b"a"])

    url = azure_storage.read_url("box-http/a.png", valid_for=WEEK)

    assert url.startswith("http://") and "spr" not in split_sas(url)[2]
    assert requests.get(url, timeout=10).content == b"a"


def test_a_plain_http_put_with_the_dropbox_sas_uploads_a_blob(azure_storage):
    azure_storage.create_dropbox("dropbox-put")
    base, query, _ = split_sas(azure_storage.dropbox_upload_url("dropbox-put", key="k", valid_for=WEEK))

    response = requests.put(
        f"{base}/{quote('sub/a b é.jpg')}?{query}",
        data=b"jpeg bytes",
        headers={"x-ms-blob-type": "BlockBlob", "Content-Type": "image/jpeg"},
        timeout=10,
    )

    assert response.status_code == 201
    listed = list(azure_storage.list("dropbox-put"))
    assert [(f.name, f.size, f.content_type) for f in listed] == [("sub/a b é.jpg", 10, "image/jpeg")]
    with azure_storage.open("dropbox-put/sub/a b é.jpg") as f:
        assert f.read() == b"jpeg bytes"


def test_the_dropbox_sas_cannot_read_or_delete_blobs(azure_storage):
    azure_storage.create_dropbox("dropbox-deny")
    azure_storage.write("dropbox-deny/a.jpg", [b"secret"])
    base, query, _ = split_sas(azure_storage.dropbox_upload_url("dropbox-deny", key="k", valid_for=WEEK))
    blob_url = f"{base}/a.jpg?{query}"

    assert requests.get(blob_url, timeout=10).status_code == 403
    assert requests.head(blob_url, timeout=10).status_code == 403
    assert requests.delete(blob_url, timeout=10).status_code == 403
    assert requests.delete(f"{base}?restype=container&{query}", timeout=10).status_code == 403

    assert azure_storage.exists("dropbox-deny/a.jpg")
    assert azure_storage.dropbox_exists("dropbox-deny")
    # Listing is granted ("l"): names and sizes, never the bytes.
    listing = requests.get(f"{base}?restype=container&comp=list&{query}", timeout=10)
    assert listing.status_code == 200
    assert b"<Name>a.jpg</Name>" in listing.content and b"secret" not in listing.content


def test_the_dropbox_sas_of_one_container_is_refused_on_another(azure_storage):
    azure_storage.create_dropbox("dropbox-one")
    azure_storage.create_dropbox("dropbox-two")
    base, query, _ = split_sas(azure_storage.dropbox_upload_url("dropbox-one", key="k", valid_for=WEEK))
    other = base.replace("dropbox-one", "dropbox-two")

    response = requests.put(f"{other}/x.jpg?{query}", data=b"x", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)

    assert response.status_code == 403
    assert list(azure_storage.list("dropbox-two")) == []


def test_an_expired_dropbox_sas_is_refused(azure_storage):
    azure_storage.create_dropbox("dropbox-old")
    base, query, _ = split_sas(
        azure_storage.dropbox_upload_url("dropbox-old", key="k", valid_for=timedelta(seconds=-1))
    )

    response = requests.put(f"{base}/x.jpg?{query}", data=b"x", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)

    assert response.status_code == 403
    assert list(azure_storage.list("dropbox-old")) == []


def test_the_read_url_is_a_read_only_sas_for_that_one_blob(azure_storage):
    azure_storage.write("box-read/a.png", [b"a"], content_type="image/png")
    azure_storage.write("box-read/b.png", [b"b"], content_type="image/png")

    url = azure_storage.read_url("box-read/a.png", valid_for=WEEK)

    base, query, params = split_sas(url)
    assert base.endswith("/devstoreaccount1/box-read/a.png")
    assert (params["sp"], params["sr"]) == ("r", "b")
    assert requests.get(url, timeout=10).content == b"a"
    assert requests.get(f"{base.replace('a.png', 'b.png')}?{query}", timeout=10).status_code == 403
    put = requests.put(url, data=b"overwritten", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)
    assert put.status_code == 403
    assert requests.delete(url, timeout=10).status_code == 403
    assert azure_storage.read_range("box-read/a.png", 0, 10) == b"a"


def copy_sources(http_log) -> list[str]:
    return [headers["x-ms-copy-source"] for _, _, headers in http_log if "x-ms-copy-source" in headers]


def test_a_copy_inside_the_account_names_its_source_without_a_sas(azure_storage, http_log):
    azure_storage.write("box-plain/src é.jpg", [b"data"])
    http_log.clear()

    azure_storage.copy("box-plain/src é.jpg", "box-plain-final/set/dst.jpg")

    [source_url] = copy_sources(http_log)
    assert "sig=" not in source_url and "?" not in source_url
    assert urlsplit(source_url).path == f"/{ACCOUNT_NAME}/box-plain/{quote('src é.jpg')}"
    # The copy request itself is signed with the account key (Shared Key).
    [copy_headers] = [h for _, _, h in http_log if "x-ms-copy-source" in h]
    assert copy_headers["Authorization"].startswith(f"SharedKey {ACCOUNT_NAME}:")
    assert azure_storage.read_range("box-plain-final/set/dst.jpg", 0, 10) == b"data"


def test_a_copy_from_another_account_reads_its_source_through_a_short_read_sas(
    azure_storage, azure_second_account, http_log
):
    azure_second_account.write("box-other/src.jpg", [b"other account"])
    http_log.clear()
    before = datetime.now(UTC)

    azure_storage.copy("box-other/src.jpg", "box-cross/dst.jpg", source_storage=azure_second_account)

    [source_url] = copy_sources(http_log)
    base, _, params = split_sas(source_url)
    assert base.endswith(f"/{SECOND_ACCOUNT_NAME}/box-other/src.jpg")
    assert (params["sp"], params["sr"]) == ("r", "b") and params["sig"]
    expiry = datetime.fromisoformat(params["se"].replace("Z", "+00:00"))
    assert expiry <= before + COPY_SOURCE_SAS_VALID + timedelta(seconds=5)
    assert COPY_SOURCE_SAS_VALID < timedelta(minutes=15)
    assert azure_storage.read_range("box-cross/dst.jpg", 0, 100) == b"other account"
    assert not azure_storage.exists("box-other/src.jpg")  # it was never in the first account


def test_azurite_refuses_a_copy_from_another_account_without_a_sas(azure_storage, azure_second_account):
    azure_second_account.write("box-nosas/src.jpg", [b"x"])
    azure_storage.create_dropbox("box-nosas-dst")
    source = azure_second_account._service.get_blob_client("box-nosas", "src.jpg").url
    destination = azure_storage._service.get_blob_client("box-nosas-dst", "dst.jpg")

    with pytest.raises(AzureError) as refused:
        destination.start_copy_from_url(source)

    assert "CannotVerifyCopySource" in str(refused.value)
    assert not azure_storage.exists("box-nosas-dst/dst.jpg")


def test_a_copy_of_a_missing_source_in_another_account_raises_object_not_found(azure_storage, azure_second_account):
    azure_second_account.create_dropbox("box-empty-other")

    with pytest.raises(ObjectNotFound):
        azure_storage.copy("box-empty-other/none.jpg", "box-cross2/dst.jpg", source_storage=azure_second_account)


def test_azure_storage_copies_only_from_azure_storage(azure_storage, settings):
    from integrations.storage.local import LocalStorage

    with pytest.raises(StorageError):
        azure_storage.copy("box/a.jpg", "box/b.jpg", source_storage=LocalStorage(location=settings.MEDIA_ROOT))


def test_a_copy_into_a_container_deleted_behind_our_back_makes_it_again(azure_storage):
    azure_storage.write("box-src2/a.jpg", [b"a"])
    azure_storage.copy("box-src2/a.jpg", "box-dst2/a.jpg")  # now known to exist
    azure_storage._service.delete_container("box-dst2")  # not through the storage: it still believes so

    azure_storage.copy("box-src2/a.jpg", "box-dst2/a.jpg")

    assert azure_storage.read_range("box-dst2/a.jpg", 0, 10) == b"a"


def test_azurite_checks_a_copy_source_sas_so_the_copy_test_proves_ours_is_valid(azure_storage):
    azure_storage.write("box-forged/src.jpg", [b"data"])
    good = azure_storage._blob_read_sas_url(
        azure_storage._service.get_blob_client("box-forged", "src.jpg"), valid_for=WEEK
    )
    forged = good.replace("sp=r", "sp=rw")  # the signature no longer matches
    destination = azure_storage._service.get_blob_client("box-forged", "dst.jpg")

    with pytest.raises(AzureError):
        destination.start_copy_from_url(forged)
    assert not azure_storage.exists("box-forged/dst.jpg")
    destination.start_copy_from_url(good)
    assert azure_storage.read_range("box-forged/dst.jpg", 0, 10) == b"data"


def test_copy_creates_the_destination_container_on_demand(azure_storage, settings):
    azure_storage.write("box-src/a.jpg", [b"a"])
    final = settings.AZURE_STORAGE_IMAGESET_CONTAINER
    assert final not in azure_storage.list_containers()

    azure_storage.copy("box-src/a.jpg", f"{final}/uploads/set/a.jpg")

    assert [f.path for f in azure_storage.list(f"{final}/uploads/set/")] == [f"{final}/uploads/set/a.jpg"]


def test_listing_asks_for_every_page_of_page_size(azure_storage, http_log):
    for i in range(5):
        azure_storage.write(f"box-pages/p-{i}.png", [b"x"])
    http_log.clear()

    names = [f.name for f in azure_storage.list("box-pages", page_size=2)]

    list_urls = [url for method, url, _ in http_log if "comp=list" in url]
    assert names == [f"p-{i}.png" for i in range(5)]
    assert len(list_urls) == 3
    assert all("maxresults=2" in url for url in list_urls)


def test_a_smaller_first_page_is_asked_for_then_page_size(azure_storage, http_log):
    for i in range(7):
        azure_storage.write(f"box-first/p-{i}.png", [b"x"])
    http_log.clear()

    names = [f.name for f in azure_storage.list("box-first", page_size=3, first_page_size=1)]

    list_urls = [url for method, url, _ in http_log if "comp=list" in url]
    assert names == [f"p-{i}.png" for i in range(7)]
    assert ["maxresults=1" in url for url in list_urls] == [True, False, False]
    assert all("maxresults=3" in url for url in list_urls[1:])


def test_listing_a_missing_container_raises_object_not_found(azure_storage, http_log):
    with pytest.raises(ObjectNotFound):
        list(azure_storage.list("box-missing", first_page_size=1))
    with pytest.raises(ObjectNotFound):
        list(azure_storage.list("box-missing"))


def test_a_copy_reuses_the_destination_client_for_the_read_and_keeps_only_a_few(azure_storage, monkeypatch):
    from integrations.storage.azure import backend

    monkeypatch.setattr(backend, "BLOB_CLIENTS_KEPT", 3)
    for i in range(5):
        azure_storage.write(f"box-kept/src-{i}.png", [b"png" * i])
    azure_storage._blob_clients.clear()

    for i in range(5):
        azure_storage.copy(f"box-kept/src-{i}.png", f"box-kept/dst-{i}.png")
        kept = azure_storage._blob_clients[f"box-kept/dst-{i}.png"]
        assert azure_storage._blob(f"box-kept/dst-{i}.png") is kept
        assert azure_storage.read_range(f"box-kept/dst-{i}.png", 0, 100) == b"png" * i

    # The sources were named by URL only; the oldest destinations were let go.
    assert list(azure_storage._blob_clients) == [f"box-kept/dst-{i}.png" for i in (2, 3, 4)]


def test_a_streamed_write_is_uploaded_in_blocks(azure_storage, http_log):
    def chunks():
        for _ in range(3):
            yield b"x" * (1024 * 1024)

    azure_storage.write("box-blocks/f.bin", chunks())

    methods = [(method, url) for method, url, _ in http_log if "box-blocks/f.bin" in url]
    assert any("comp=block&" in url or url.endswith("comp=block") for _, url in methods)
    assert any("comp=blocklist" in url for _, url in methods)
    assert azure_storage.size("box-blocks/f.bin") == 3 * 1024 * 1024


def test_a_dead_storage_endpoint_raises_storage_error_not_an_azure_exception(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    settings.STORAGE_BACKEND = "azure"
    settings.AZURE_STORAGE_CONNECTION_STRING = connection_string("127.0.0.1", dead_port)
    settings.AZURE_STORAGE_RETRIES = 0
    storage = get_storage()

    for call in (
        lambda: list(storage.list("box")),
        lambda: storage.read_range("box/a", 0, 1),
        lambda: storage.write("box/a", [b"x"]),
        lambda: storage.exists("box/a"),
        lambda: storage.create_dropbox("dropbox-x"),
    ):
        with pytest.raises(StorageError) as caught:
            call()
        assert not isinstance(caught.value, (AzureError, ObjectNotFound))
        assert isinstance(caught.value.__cause__, AzureError)


def test_a_connection_string_without_an_account_key_is_refused():
    with pytest.raises(StorageError):
        AzureStorage("BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;SharedAccessSignature=sv=x&sig=y")
    with pytest.raises(StorageError):
        AzureStorage("")


def test_one_storage_and_one_connection_pool_serve_parallel_workers(azure_storage, settings, caplog):
    assert get_storage() is azure_storage
    for i in range(settings.IMAGESET_COPY_WORKERS):
        azure_storage.write(f"box-pool/{i}.bin", [b"x" * 100])
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")

    def copy(i):
        azure_storage.copy(f"box-pool/{i}.bin", f"box-pool-copy/{i}.bin")
        return azure_storage.read_range(f"box-pool-copy/{i}.bin", 0, 10)

    with ThreadPoolExecutor(settings.IMAGESET_COPY_WORKERS) as pool:
        results = list(pool.map(copy, range(settings.IMAGESET_COPY_WORKERS)))

    assert results == [b"x" * 10] * settings.IMAGESET_COPY_WORKERS
    assert "Connection pool is full" not in caplog.text
