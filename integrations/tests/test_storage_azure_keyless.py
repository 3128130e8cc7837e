"""The Azure backend without an account key, against Azurite in OAuth mode over HTTPS.

The storage is built as production builds it from ``AZURE_STORAGE_ACCOUNT_URL``
alone: ``DefaultAzureCredential`` finds the managed identity of the
environment (``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``, served by the test's
token endpoint), every request carries its bearer token, and every SAS is a
user-delegation SAS. Azurite 3.37 with ``--oauth basic`` checks the token's
claims and the SAS signatures made with the delegation key it hands out; the
TLS certificate is the test's own, trusted through ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from azure.core.exceptions import AzureError

from imagesets.tests import samples
from integrations.storage import ObjectNotFound, StorageError
from integrations.storage.azure import COPY_SOURCE_SAS_VALID, AzureStorage, sas
from testing.azurite import SECOND_ACCOUNT_NAME, STORAGE_RESOURCE, managed_identity_environment, requests_sent

pytestmark = pytest.mark.azurite

WEEK = timedelta(days=7)


def split_sas(url: str) -> tuple[str, str, dict[str, str]]:
    parts = urlsplit(url)
    return (
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        parts.query,
        {k: v[0] for k, v in parse_qs(parts.query).items()},
    )


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.rstrip("Z")).replace(tzinfo=UTC)


def put_blob(url: str, name: str, data: bytes = b"x") -> requests.Response:
    base, query, _ = split_sas(url)
    return requests.put(f"{base}/{name}?{query}", data=data, headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)


@pytest.fixture
def http_log(azure_keyless_storage):
    """Every HTTP request the backend sends, as (method, url, headers)."""
    with requests_sent(azure_keyless_storage) as sent:
        yield sent


def test_keyless_storage_sends_the_identitys_bearer_token_and_no_shared_key(
    azure_keyless_storage, http_log, settings, identity_endpoint
):
    assert not settings.AZURE_STORAGE_CONNECTION_STRING
    azure_keyless_storage.write("box-token/a.txt", [b"a"])

    assert azure_keyless_storage.read_range("box-token/a.txt", 0, 1) == b"a"
    assert http_log and all(headers["Authorization"].startswith("Bearer ") for _, _, headers in http_log)
    assert STORAGE_RESOURCE in identity_endpoint.requests


def test_the_read_url_is_a_read_only_user_delegation_sas_for_that_one_blob(azure_keyless_storage):
    azure_keyless_storage.write("box-read/a.png", [b"a"], content_type="image/png")
    azure_keyless_storage.write("box-read/b.png", [b"b"], content_type="image/png")

    url = azure_keyless_storage.read_url("box-read/a.png", valid_for=timedelta(hours=1))

    base, query, params = split_sas(url)
    assert base.startswith("https://") and base.endswith("/devstoreaccount1/box-read/a.png")
    assert (params["sp"], params["sr"], params["spr"]) == ("r", "b", "https")
    assert {"skoid", "sktid", "skt", "ske", "sks", "skv"} <= params.keys()  # signed with a delegation key
    assert requests.get(url, timeout=10).content == b"a"
    assert requests.get(f"{base.replace('a.png', 'b.png')}?{query}", timeout=10).status_code == 403
    put = requests.put(url, data=b"overwritten", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)
    assert put.status_code == 403
    assert requests.delete(url, timeout=10).status_code == 403
    forged = url.replace(query, query.replace("sp=r", "sp=rw"))  # the signature no longer matches
    assert requests.get(forged, timeout=10).status_code == 403
    assert azure_keyless_storage.read_range("box-read/a.png", 0, 10) == b"a"


def test_a_week_long_url_never_outlives_its_delegation_key(azure_keyless_storage):
    azure_keyless_storage.write("box-week/a.png", [b"a"])
    before = datetime.now(UTC)

    _, _, params = split_sas(azure_keyless_storage.read_url("box-week/a.png", valid_for=WEEK))

    expiry, key_expiry = parse_time(params["se"]), parse_time(params["ske"])
    assert expiry <= key_expiry <= before + WEEK
    # Short of the full week by at most the key's renewal age and the clock-skew margin.
    assert expiry >= before + WEEK - sas.DELEGATION_KEY_RENEW_AFTER - sas.SAS_CLOCK_SKEW - timedelta(seconds=5)


def test_the_dropbox_url_is_a_container_user_delegation_sas_to_upload_and_list_only(azure_keyless_storage):
    azure_keyless_storage.create_dropbox("dropbox-keyless")
    azure_keyless_storage.write("dropbox-keyless/secret.jpg", [b"secret"])

    url = azure_keyless_storage.dropbox_upload_url("dropbox-keyless", key="set-key", valid_for=WEEK)

    base, query, params = split_sas(url)
    assert (params["sr"], params["sp"]) == ("c", "acwl")
    assert "si" not in params and "skoid" in params  # no stored policy: a user-delegation SAS
    assert put_blob(url, "car.png", b"png bytes").status_code == 201
    assert [(f.name, f.size) for f in azure_keyless_storage.list("dropbox-keyless")] == [
        ("car.png", 9),
        ("secret.jpg", 6),
    ]
    blob_url = f"{base}/secret.jpg?{query}"
    assert requests.get(blob_url, timeout=10).status_code == 403
    assert requests.delete(blob_url, timeout=10).status_code == 403
    listing = requests.get(f"{base}?restype=container&comp=list&{query}", timeout=10)
    assert listing.status_code == 200 and b"<Name>car.png</Name>" in listing.content
    other = base.replace("dropbox-keyless", "dropbox-elsewhere")
    azure_keyless_storage.create_dropbox("dropbox-elsewhere")
    assert put_blob(f"{other}?{query}", "x.png").status_code == 403


def test_a_keyless_dropbox_url_for_a_missing_container_is_refused(azure_keyless_storage):
    with pytest.raises(ObjectNotFound):
        azure_keyless_storage.dropbox_upload_url("dropbox-missing", key="k", valid_for=WEEK)


def test_an_expired_keyless_dropbox_url_is_refused(azure_keyless_storage):
    azure_keyless_storage.create_dropbox("dropbox-expired")
    url = azure_keyless_storage.dropbox_upload_url("dropbox-expired", key="k", valid_for=timedelta(seconds=-1))

    assert put_blob(url, "late.png").status_code == 403
    assert list(azure_keyless_storage.list("dropbox-expired")) == []


def test_keyless_revocation_leaves_the_policies_alone_and_deleting_the_dropbox_refuses_its_urls(
    azure_keyless_storage, http_log
):
    azure_keyless_storage.create_dropbox("dropbox-revoke")
    url = azure_keyless_storage.dropbox_upload_url("dropbox-revoke", key="k", valid_for=WEEK)
    http_log.clear()

    azure_keyless_storage.revoke_dropbox_uploads("dropbox-revoke")
    assert http_log == []  # nothing to remove: no stored policy, and key revocation is account-wide
    azure_keyless_storage.delete_dropbox("dropbox-revoke")

    assert put_blob(url, "after.png").status_code == 404
    assert not azure_keyless_storage.dropbox_exists("dropbox-revoke")


def test_a_copy_inside_the_account_reads_its_source_through_a_short_user_delegation_sas(
    azure_keyless_storage, http_log
):
    azure_keyless_storage.write("box-copy/src é.jpg", [b"data"])
    http_log.clear()
    started = datetime.now(UTC)

    azure_keyless_storage.copy("box-copy/src é.jpg", "box-copy-final/set/dst.jpg")

    [source] = [headers["x-ms-copy-source"] for _, _, headers in http_log if "x-ms-copy-source" in headers]
    _, _, params = split_sas(source)
    assert (params["sp"], params["sr"]) == ("r", "b") and "skoid" in params
    assert parse_time(params["se"]) <= started + COPY_SOURCE_SAS_VALID + timedelta(seconds=5)
    assert azure_keyless_storage.read_range("box-copy-final/set/dst.jpg", 0, 10) == b"data"


def test_a_keyless_copy_from_another_account_reads_through_that_accounts_delegation_sas(
    azure_keyless_storage, azurite_oauth_server, http_log
):
    other = AzureStorage(account_url=azurite_oauth_server.account_url(SECOND_ACCOUNT_NAME), pool_size=2, retries=0)
    other.write("box-other/src.jpg", [b"other account"])
    http_log.clear()
    try:
        azure_keyless_storage.copy("box-other/src.jpg", "box-other-final/dst.jpg", source_storage=other)
    finally:
        other.delete_dropbox("box-other")

    [source] = [headers["x-ms-copy-source"] for _, _, headers in http_log if "x-ms-copy-source" in headers]
    assert f"/{SECOND_ACCOUNT_NAME}/box-other/src.jpg?" in source and "skoid=" in source
    assert azure_keyless_storage.read_range("box-other-final/dst.jpg", 0, 20) == b"other account"


def test_a_copy_of_a_missing_source_raises_object_not_found(azure_keyless_storage):
    with pytest.raises(ObjectNotFound):
        azure_keyless_storage.copy("box-copy/none.jpg", "box-copy-final/none.jpg")


def test_one_delegation_key_serves_parallel_signers_until_it_is_an_hour_old(azure_keyless_storage, monkeypatch):
    # An instance of its own: the clock is moved below, and the shared one's key must not be.
    storage = AzureStorage(account_url=azure_keyless_storage._service.url, pool_size=4, retries=0)
    sent = []
    storage._session.hooks["response"].append(lambda response, *a, **k: sent.append(response.request.url))
    keys = storage._signer.keys

    def sign(_=None):
        return storage.read_url("box-key/a.png", valid_for=WEEK)

    with ThreadPoolExecutor(16) as pool:
        urls = list(pool.map(sign, range(64)))
    assert keys.fetched == 1
    assert len([url for url in sent if "comp=userdelegationkey" in url]) == 1
    assert len({split_sas(url)[2]["ske"] for url in urls}) == 1
    azure_keyless_storage.write("box-key/a.png", [b"a"])
    assert requests.get(urls[-1], timeout=10).content == b"a"

    # 59 minutes on: the same key; past the hour: a new one, asked for once.
    real_now = sas.now
    monkeypatch.setattr(sas, "now", lambda: real_now() + timedelta(minutes=59))
    sign()
    assert keys.fetched == 1
    monkeypatch.setattr(sas, "now", lambda: real_now() + timedelta(minutes=61))
    with ThreadPoolExecutor(16) as pool:
        renewed = list(pool.map(sign, range(16)))
    assert keys.fetched == 2
    assert len([url for url in sent if "comp=userdelegationkey" in url]) == 2
    [new_expiry] = {parse_time(split_sas(url)[2]["ske"]) for url in renewed}
    assert new_expiry - parse_time(split_sas(urls[0])[2]["ske"]) >= timedelta(minutes=60)


# --- the CA bundle of a private CA -----------------------------------------------------------------------


@pytest.fixture
def keyless_environment(monkeypatch, azurite_oauth_server, identity_endpoint):
    """The managed identity's environment, with no CA bundle named yet."""
    managed_identity_environment(monkeypatch, identity_endpoint, azurite_oauth_server.certificate)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    return azurite_oauth_server


def test_without_the_ca_bundle_the_private_certificate_is_refused_as_a_storage_error(keyless_environment):
    storage = AzureStorage(account_url=keyless_environment.account_url(), pool_size=2, retries=0)

    with pytest.raises(StorageError) as caught:
        storage.exists("box/a.png")
    assert isinstance(caught.value.__cause__, AzureError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"])
@pytest.mark.parametrize("proxy", [False, True], ids=["no-proxy", "proxy-set"])
def test_the_ca_bundle_variables_are_honoured_with_or_without_a_proxy(
    keyless_environment, monkeypatch, variable, proxy
):
    monkeypatch.setenv(variable, str(keyless_environment.certificate))
    if proxy:
        # A proxy in the environment (the session then trusts it), bypassed for Azurite's address.
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    storage = AzureStorage(account_url=keyless_environment.account_url(), pool_size=2, retries=0)
    assert storage._session.trust_env is proxy

    storage.write("box-ca/a.txt", [b"a"])

    assert storage.read_range("box-ca/a.txt", 0, 1) == b"a"
    url = storage.read_url("box-ca/a.txt", valid_for=timedelta(minutes=5))
    assert requests.get(url, timeout=10, verify=str(keyless_environment.certificate)).content == b"a"
    storage.delete_dropbox("box-ca")


# --- through the API: finishing a set closes its keyless dropbox ----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_finished_sets_keyless_dropbox_url_refuses_uploads_and_its_files_are_registered(
    azure_keyless_storage, admin_client
):
    created = admin_client.post("/api/v1/image_sets", {"title": "keyless-set"}, format="json")
    assert created.status_code == 200, created.content
    body = created.json()
    dropbox_url = body["dropbox_url"]
    assert put_blob(dropbox_url, "car.png", samples.png(20, 10)).status_code == 201

    finished = admin_client.put(f"/api/v1/image_sets/{body['imageset_id']}", {"new_status": "finished"}, format="json")

    assert finished.status_code == 200, finished.content
    imageset = admin_client.get(f"/api/v1/image_sets/{body['imageset_id']}").json()
    assert imageset["status"] == "finished" and imageset["job"]["status"] == "succeeded", imageset["job"]
    assert put_blob(dropbox_url, "late.png", samples.png(20, 10)).status_code in (403, 404)
    assert not azure_keyless_storage.dropbox_exists("dropbox-keyless-set")
    stored = [f.name for f in azure_keyless_storage.list(imageset["blobstorage_path"] + "/")]
    assert stored == ["car.png"]
