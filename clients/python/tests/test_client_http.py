"""The client against a real HTTP server on 127.0.0.1 that answers what each test scripts: retries, errors,
pagination, chunked submissions, uploads and downloads. Nothing of httpx is mocked."""

from __future__ import annotations

import threading
import time

import pytest

from labelhub_client import (
    BadRequest,
    BoundingBox,
    Client,
    ConfigError,
    Conflict,
    NewObject,
    NotFound,
    ServerError,
    TooManyRequests,
    TransportError,
    Unprocessable,
    WaitTimeout,
)
from labelhub_client.client import api_base
from labelhub_client.errors import LabelhubError

KEY, SECRET = "a" * 32, "s3cr3t" * 8


@pytest.fixture
def client(server):
    with Client(server.url, KEY, SECRET, backoff=0.01) as client:
        yield client


def page_of(key, items, page, per_page, total):
    pages = max(1, -(-total // per_page))
    return {
        "pagination": {
            "page": page,
            "pages": pages,
            "total": total,
            "per_page": per_page,
            "next": page + 1 if page < pages else None,
            "prev": page - 1 if page > 1 else None,
        },
        key: items,
    }


# --- Retries ---


@pytest.mark.parametrize("status", [429, 503])
def test_a_throttled_or_unavailable_answer_is_retried_after_its_retry_after(server, client, status):
    server.script(server.error(status, "slow down", {"Retry-After": "1"}), server.Answer(200, {"image_sets": []}))

    assert list(client.imagesets()) == []

    first, second = server.received
    assert (first.path, second.path) == ("/api/v1/image_sets", "/api/v1/image_sets")
    assert second.time - first.time >= 0.95


def test_a_post_is_retried_on_429_too(server, client):
    created = {"imageset_id": 1, "title": "set-1", "status": "created", "dropbox_url": "http://x/d"}
    server.script(server.error(429, "later", {"Retry-After": "0"}), server.Answer(200, created))

    assert client.imageset_create("set-1").dropbox_url == "http://x/d"
    assert [r.method for r in server.received] == ["POST", "POST"]


@pytest.mark.parametrize(("status", "error"), [(429, TooManyRequests), (503, ServerError)])
def test_retries_give_up_after_their_number_with_the_detail(server, status, error):
    server.respond = lambda received: server.error(status, "busy right now", {"Retry-After": "0"})

    with Client(server.url, KEY, SECRET, retries=2) as client, pytest.raises(error) as raised:
        client.imageset(1)

    assert raised.value.status == status and raised.value.detail == "busy right now"
    assert len(server.received) == 3
    if status == 429:
        assert raised.value.retry_after == 0


def test_a_retry_after_longer_than_the_client_waits_is_raised_at_once(server):
    server.respond = lambda received: server.error(429, "too many failed authentications", {"Retry-After": "300"})

    with Client(server.url, KEY, SECRET, max_retry_after=10) as client, pytest.raises(TooManyRequests) as raised:
        client.imageset(1)

    assert raised.value.retry_after == 300 and len(server.received) == 1


def test_without_retry_after_the_client_backs_off(server, client):
    server.script(server.error(503, "restarting"), server.error(503, "restarting"))

    client.imageset_finish(7)

    assert len(server.received) == 3


def test_a_refused_connection_is_retried_until_the_server_is_up(unused_port, make_server):
    """The first attempts find nothing listening; the server comes up meanwhile and answers."""
    late = []
    threading.Timer(0.3, lambda: late.append(make_server(unused_port))).start()

    with Client(f"http://127.0.0.1:{unused_port}", KEY, SECRET, backoff=0.2, retries=6) as client:
        client.imageset_finish(3)

    assert len(late[0].received) == 1


def test_a_refused_connection_raises_transport_error_after_the_retries(unused_port):
    began = time.monotonic()
    with Client(f"http://127.0.0.1:{unused_port}", KEY, SECRET, retries=3, backoff=0.05) as client:
        with pytest.raises(TransportError) as raised:
            client.imageset(1)
    # Three waits of at least half of 0.05, 0.1, 0.2 seconds.
    assert time.monotonic() - began >= 0.17
    assert "127.0.0.1" in str(raised.value) and SECRET not in str(raised.value)


def test_a_dropped_request_is_retried_when_it_is_a_read(server, client):
    server.script(server.Answer(drop=True), server.Answer(200, {"campaign_id": 3, "title": "c", "status": "active"}))

    assert client.campaign(3).status == "active"
    assert len(server.received) == 2


def test_a_dropped_post_is_not_sent_again(server, client):
    """The server may have applied it: sending it again could create a second campaign."""
    server.script(server.Answer(drop=True))

    with pytest.raises(TransportError):
        client.campaign_create("campaign-1", "agency@example.com")
    assert len(server.received) == 1


# --- Errors ---


@pytest.mark.parametrize(
    ("status", "error"), [(400, BadRequest), (404, NotFound), (409, Conflict), (422, Unprocessable)]
)
def test_a_client_error_raises_its_type_with_the_detail_and_is_not_retried(server, client, status, error):
    server.respond = lambda received: server.error(status, f"refused with {status}")

    with pytest.raises(error) as raised:
        client.campaign_set_status(3, "active")

    assert (raised.value.status, raised.value.detail) == (status, f"refused with {status}")
    assert raised.value.response.status_code == status
    assert str(raised.value) == f"refused with {status} (HTTP {status})"
    assert len(server.received) == 1


def test_an_error_page_that_is_not_the_contracts_json_keeps_its_text(server, client):
    server.respond = lambda received: server.Answer(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})

    with pytest.raises(ServerError) as raised:
        client.campaign(1)

    assert raised.value.detail == "<html>Bad Gateway</html>" and len(server.received) == 1


# --- Requests ---


def test_every_api_request_carries_the_key_and_the_root_gets_the_api_path(server, client):
    server.script(server.Answer(200, {"imageset_id": 2, "title": "s", "status": "created"}))

    client.imageset(2)

    (request,) = server.received
    assert request.path == "/api/v1/image_sets/2"
    assert request.headers["authentication-key"] == KEY and request.headers["authentication-secret"] == SECRET
    assert request.headers["user-agent"].startswith("labelhub-client/")


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://labelhub.example.com", "https://labelhub.example.com/api/v1"),
        ("https://labelhub.example.com/", "https://labelhub.example.com/api/v1"),
        ("https://labelhub.example.com/api/v1/", "https://labelhub.example.com/api/v1"),
        ("http://127.0.0.1:8080/prefix", "http://127.0.0.1:8080/prefix/api/v1"),
    ],
)
def test_the_api_base_of_a_server_url(url, base):
    assert api_base(url) == base


@pytest.mark.parametrize("url", ["labelhub.example.com", "ftp://example.com", ""])
def test_a_url_that_is_not_http_is_a_config_error(url):
    with pytest.raises(ConfigError):
        Client(url, KEY, SECRET)


def test_the_secret_never_shows_in_repr(server):
    client = Client(server.url, KEY, SECRET)
    assert SECRET not in repr(client)
    assert repr(client) == f"Client(url='{server.url}/api/v1', key='{KEY}')"


def test_the_agency_secret_of_a_new_campaign_is_not_in_its_repr(server, client):
    server.script(
        server.Answer(
            200,
            {
                "campaign_id": 3,
                "title": "campaign-1",
                "status": "created",
                "access_token": {"apikey": "k" * 32, "apisecret": "agency-secret-0123456789"},
            },
        )
    )

    created = client.campaign_create("campaign-1", "agency@example.com", labels=["Plastic", {"name": "Glass"}])

    assert created.access_token.apisecret == "agency-secret-0123456789"
    assert "agency-secret" not in repr(created)
    assert server.received[0].json() == {
        "title": "campaign-1",
        "labeler_email": "agency@example.com",
        "labels": [{"name": "Plastic"}, {"name": "Glass"}],
    }


# --- Pagination ---


def test_pagination_walks_every_page(server, client):
    items = [{"image_id": i, "url": f"/images/{i}", "labeled": False, "review": None} for i in range(1, 26)]

    def respond(received):
        page, per_page = int(received.query["page"][0]), 10
        return server.Answer(200, page_of("images", items[(page - 1) * 10 : page * 10], page, per_page, len(items)))

    server.respond = respond

    listed = list(client.campaign_images(4, state="rejected"))

    assert [image.image_id for image in listed] == list(range(1, 26))
    assert [r.query["page"] for r in server.received] == [["1"], ["2"], ["3"]]
    assert all(r.query["state"] == ["rejected"] for r in server.received)


def test_pagination_without_paging_fields_stops_at_a_short_page(server, client):
    items = list(range(7))

    def respond(received):
        page = int(received.query["page"][0])
        return server.Answer(200, {"things": items[(page - 1) * 3 : page * 3]})

    server.respond = respond

    assert list(client.paginate("/things", "things", per_page=3)) == items
    assert len(server.received) == 3


def test_pages_are_fetched_as_the_iteration_needs_them(server, client):
    server.respond = lambda received: server.Answer(200, page_of("image_sets", [], 1, 10, 0))

    listing = client.imagesets()

    assert server.received == []
    assert list(listing) == [] and len(server.received) == 1


# --- Bulk submissions ---


def items_for(image_ids):
    box = BoundingBox(xmin=1, xmax=5, ymin=2, ymax=6)
    return [
        {"image_id": i, "objects": [NewObject(label="Plastic", confidence=0.5, bounding_box=box)]} for i in image_ids
    ]


def test_submit_objects_splits_the_items_and_reports_a_failed_chunk(server, client):
    def respond(received):
        ids = [item["image_id"] for item in received.json()]
        return server.error(422, "Image 1234, object 0: bad box") if 1234 in ids else server.Answer()

    server.respond = respond

    report = client.submit_objects(9, items_for(range(1, 2501)), chunk_size=500)

    bodies = [r.json() for r in server.received]
    assert [len(body) for body in bodies] == [500] * 5
    assert all(r.method == "PUT" and r.path == "/api/v1/campaigns/9/objects" for r in server.received)
    assert bodies[0][0] == {
        "image_id": 1,
        "objects": [
            {"label": "Plastic", "bounding_box": {"xmin": 1, "xmax": 5, "ymin": 2, "ymax": 6}, "confidence": 0.5}
        ],
    }
    assert report.stored == [*range(1, 1001), *range(1501, 2501)]
    (failed,) = report.failed
    assert failed.image_ids == list(range(1001, 1501))
    assert isinstance(failed.error, Unprocessable) and failed.error.detail == "Image 1234, object 0: bad box"
    assert not report.ok
    with pytest.raises(Unprocessable):
        report.raise_for_failures()


def test_submit_objects_keeps_each_body_under_the_byte_limit(server, client, monkeypatch):
    monkeypatch.setattr("labelhub_client.client.MAX_BODY_BYTES", 10_000)

    report = client.submit_objects(9, items_for(range(1, 301)))

    assert report.ok and report.stored == list(range(1, 301))
    assert len(server.received) > 1 and all(len(r.body) <= 10_000 for r in server.received)


def test_a_chunk_the_server_finds_too_large_is_split_in_two(server, client):
    def respond(received):
        count = len(received.json())
        return server.error(413, "at most 100 images per request") if count > 100 else server.Answer()

    server.respond = respond

    report = client.submit_objects(9, items_for(range(1, 401)), chunk_size=400)

    assert report.ok and sorted(report.stored) == list(range(1, 401))
    assert [len(r.json()) for r in server.received] == [400, 200, 100, 100, 200, 100, 100]


def test_once_the_server_is_unreachable_the_rest_is_reported_unsent(server):
    def respond(received):
        return server.Answer() if received.json()[0]["image_id"] <= 200 else server.Answer(drop=True)

    server.respond = respond

    with Client(server.url, KEY, SECRET, retries=1, backoff=0.01) as client:
        report = client.submit_objects(9, items_for(range(1, 501)), chunk_size=100)

    assert report.stored == list(range(1, 201))
    assert [f.image_ids[0] for f in report.failed] == [201, 301, 401]
    assert all(isinstance(f.error, TransportError) for f in report.failed)
    assert len(server.received) == 2 + 2  # the third chunk tried twice, the others never sent


def test_malformed_items_raise_before_anything_is_sent(server, client):
    with pytest.raises(ValueError):
        client.submit_objects(
            9, [*items_for(range(1, 600)), {"image_id": 600, "objects": [{"confidence": float("nan")}]}]
        )

    assert server.received == []


def test_campaign_add_images_sends_chunks(server, client):
    client.campaign_add_images(5, range(1, 12), chunk_size=5)

    assert [r.json() for r in server.received] == [
        [{"id": i} for i in range(1, 6)],
        [{"id": i} for i in range(6, 11)],
        [{"id": 11}],
    ]


# --- Files ---


@pytest.fixture
def folder(tmp_path):
    """An empty folder of this test's own (the root conftest puts MEDIA_ROOT in ``tmp_path``)."""
    path = tmp_path / "files"
    path.mkdir()
    return path


def test_upload_puts_the_file_in_the_dropbox_without_the_key(server, client, folder):
    photo = folder / "car one.png"
    photo.write_bytes(b"\x89PNG fake")
    server.script(server.Answer(201, b""))

    client.upload(f"{server.url}/container/dropbox-set?sv=1&sig=abc%2B", photo)

    (request,) = server.received
    assert (request.method, request.path) == ("PUT", "/container/dropbox-set/car%20one.png")
    assert request.query == {"sv": ["1"], "sig": ["abc+"]}
    assert request.body == b"\x89PNG fake" and request.headers["content-length"] == "9"
    assert request.headers["x-ms-blob-type"] == "BlockBlob" and request.headers["content-type"] == "image/png"
    assert "authentication-key" not in request.headers and "authentication-secret" not in request.headers


def test_upload_retries_a_dropped_put_with_the_whole_file(server, client, folder):
    photo = folder / "a.jpg"
    photo.write_bytes(b"x" * 100_000)
    server.script(server.Answer(drop=True), server.Answer(201, b""))

    client.upload(f"{server.url}/dropbox/token", photo, name="renamed.jpg")

    assert [r.path for r in server.received] == ["/dropbox/token/renamed.jpg"] * 2
    assert len(server.received[1].body) == 100_000


def test_download_image_follows_the_redirect_without_the_key(server, client, folder):
    def respond(received):
        if received.path == "/api/v1/images/8":
            return server.Answer(303, b"", {"Location": f"{server.url}/files/signed-token"})
        return server.Answer(200, b"image bytes", {"Content-Type": "image/jpeg"})

    server.respond = respond
    dest = folder / "8.jpg"

    assert client.download_image(8, dest, expected_size=11) == 11

    assert dest.read_bytes() == b"image bytes" and list(folder.iterdir()) == [dest]
    api, file = server.received
    assert api.headers["authentication-key"] == KEY
    assert file.path == "/files/signed-token" and "authentication-key" not in file.headers


def test_image_url_makes_a_relative_location_absolute(server, client):
    server.script(server.Answer(303, b"", {"Location": "/api/v1/files/tok"}))

    assert client.image_url(8) == f"{server.url}/api/v1/files/tok"


def test_a_download_of_another_size_than_expected_keeps_nothing(server, client, folder):
    server.script(server.Answer(200, b"short"))
    dest = folder / "x.bin"

    with pytest.raises(LabelhubError, match="got 5 bytes, expected 10"):
        client.download(f"{server.url}/files/x", dest, expected_size=10)

    assert list(folder.iterdir()) == []


def test_a_failed_download_raises_its_error_and_keeps_nothing(server, client, folder):
    server.script(server.Answer(403, b"<Error><Message>Signature expired</Message></Error>"))

    with pytest.raises(LabelhubError) as raised:
        client.download(f"{server.url}/files/x", folder / "x.bin")

    assert raised.value.status == 403 and "Signature expired" in raised.value.detail
    assert list(folder.iterdir()) == []


# --- Waiting for jobs ---


def test_imageset_wait_polls_until_the_job_ends(server, client):
    states = iter(["queued", "running", "succeeded"])

    def respond(received):
        job = {"status": next(states), "progress": {"done": 0, "total": 3}, "skipped": ["notes.txt"]}
        return server.Answer(200, {"imageset_id": 2, "title": "s", "status": "finished", "job": job})

    server.respond = respond

    done = client.imageset_wait(2, poll=0.01)

    assert done.job.status == "succeeded" and done.job.skipped == ["notes.txt"] and len(server.received) == 3


def test_campaign_wait_gives_up_after_its_timeout(server, client):
    server.respond = lambda received: server.Answer(
        200, {"campaign_id": 3, "title": "c", "status": "finished", "job": {"status": "running"}}
    )

    with pytest.raises(WaitTimeout, match="campaign 3: its job is still running"):
        client.campaign_wait(3, poll=0.05, timeout=0.2)
