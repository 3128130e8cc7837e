from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests

from campaigns.tests.factories import CampaignImageFactory, CampaignLabelerFactory
from core.exceptions import UNAUTHORIZED_DETAIL
from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.naming import final_folder
from imagesets.services import imageset_finish
from imagesets.tests import samples
from imagesets.tests.conftest import imageset_state, new_imageset, unique_title
from imagesets.tests.factories import ImageFactory, ImageSetFactory
from integrations.storage.local import sign_dropbox_token
from testing.api import assert_error

pytestmark = pytest.mark.django_db

SETS = "/api/v1/image_sets"
IMAGES = "/api/v1/images"


def set_url(imageset_id) -> str:
    return f"{SETS}/{imageset_id}"


# --- image sets: create ------------------------------------------------------------


def test_creating_a_set_answers_its_representation_and_an_absolute_dropbox_url(any_storage, admin_client):
    title = unique_title()

    response = admin_client.post(SETS, {"title": title, "metadata": {"country": "Nederland"}}, format="json")

    assert response.status_code == 200
    body = response.json()
    imageset = ImageSet.objects.get()
    assert body == {
        "imageset_id": imageset.pk,
        "title": title,
        "status": "created",
        "metadata": {"country": "Nederland"},
        "blobstorage_path": f"dropbox-{title}",
        "date_created": imageset.date_created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "date_finished": None,
        "created_by": "jayke@test.com",
        "job": None,
        "dropbox_url": body["dropbox_url"],
    }
    url = urlsplit(body["dropbox_url"])
    assert url.scheme in ("http", "https") and url.netloc
    if any_storage.__class__.__name__ == "LocalStorage":
        assert body["dropbox_url"].startswith("http://testserver/api/v1/dropbox/")
    else:
        assert url.path.endswith(f"/dropbox-{title}") and "sig=" in url.query
    assert any_storage.dropbox_exists(f"dropbox-{title}")


def test_metadata_is_optional(local_storage, admin_client):
    response = admin_client.post(SETS, {"title": "no-meta"}, format="json")
    assert response.status_code == 200
    assert response.json()["metadata"] is None


@pytest.mark.parametrize(
    "body, code",
    [
        ({"title": "Not Valid"}, 422),
        ({"title": "a" * 54}, 422),
        ({"title": "trailing-"}, 422),
        ({}, 400),
        ({"title": 123}, 400),
        ({"title": None}, 400),
        ({"title": "fine", "metadata": [1]}, 400),
        ({"title": "fine", "metadata": "x"}, 400),
        ([{"title": "fine"}], 400),
    ],
)
def test_a_bad_create_body_is_refused_and_nothing_is_stored(local_storage, admin_client, body, code):
    before = imageset_state()
    assert_error(admin_client.post(SETS, body, format="json"), code)
    assert imageset_state() == before
    assert not local_storage.dropbox_exists("dropbox-fine")


def test_a_body_that_is_not_json_is_a_bad_request(local_storage, admin_client):
    response = admin_client.post(SETS, "title=x", content_type="application/json")
    assert_error(response, 400)
    assert ImageSet.objects.count() == 0


def test_a_duplicate_title_is_a_conflict(local_storage, admin_client):
    assert admin_client.post(SETS, {"title": "twice"}, format="json").status_code == 200
    before = imageset_state()

    assert_error(admin_client.post(SETS, {"title": "twice", "metadata": {"x": 1}}, format="json"), 409)
    assert imageset_state() == before


# --- image sets: read -----------------------------------------------------------------


def test_listing_sets_is_paginated_and_ordered_by_id(admin_client):
    sets = ImageSetFactory.create_batch(12)

    response = admin_client.get(SETS, {"page": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"page": 2, "pages": 2, "total": 12, "per_page": 10, "next": None, "prev": 1}
    assert [s["imageset_id"] for s in body["image_sets"]] == [s.pk for s in sets[10:]]


def test_a_set_shows_its_job(admin_client, admin_user):
    imageset = ImageSetFactory(status="finished", created_by=admin_user)
    ImageSetJob.objects.create(imageset=imageset, status="succeeded", done=3, total=3, skipped=["a.txt"])

    body = admin_client.get(set_url(imageset.pk)).json()

    assert body["created_by"] == admin_user.email
    job = body["job"]
    assert {k: job[k] for k in ("status", "progress", "error", "skipped")} == {
        "status": "succeeded",
        "progress": {"done": 3, "total": 3},
        "error": None,
        "skipped": ["a.txt"],
    }
    assert job["date_queued"].endswith("Z")
    assert "date_started" in job and "date_done" in job
    assert (job["images_with_date"], job["images_with_location"]) == (None, None)  # added; counted by the job


def test_an_unknown_set_is_not_found(admin_client):
    assert_error(admin_client.get(set_url(424242)), 404)
    assert_error(admin_client.put(set_url(424242), {"new_status": "finished"}, format="json"), 404)
    assert_error(admin_client.get(f"{set_url(424242)}/images"), 404)
    assert_error(admin_client.post(f"{set_url(424242)}/images", [], format="json"), 404)


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", SETS),
        ("post", SETS),
        ("get", "/api/v1/image_sets/1"),
        ("put", "/api/v1/image_sets/1"),
        ("get", "/api/v1/image_sets/1/images"),
        ("post", "/api/v1/image_sets/1/images"),
        ("get", IMAGES),
    ],
)
def test_labelers_and_anonymous_callers_are_unauthorized(api_client, labeler_client, method, path):
    ImageSetFactory(id=1)
    before = imageset_state()
    for client in (api_client, labeler_client):
        response = getattr(client, method)(path, {"title": "x", "new_status": "finished"}, format="json")
        assert response.status_code == 401
        assert response.json()["detail"] == UNAUTHORIZED_DETAIL
    assert imageset_state() == before


# --- image sets: status ------------------------------------------------------------------


def test_finishing_a_set_answers_ok_and_ingests_its_uploads(
    any_storage, admin_client, admin_user, django_capture_on_commit_callbacks
):
    imageset = new_imageset(
        admin_user, files={"car.png": samples.png(200, 200), "notes.txt": b"hi"}, storage=any_storage
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.put(set_url(imageset.pk), {"new_status": "finished"}, format="json")

    assert response.status_code == 200
    assert response.json() == "ok"
    body = admin_client.get(set_url(imageset.pk)).json()
    assert body["status"] == "finished" and body["date_finished"].endswith("Z")
    assert body["blobstorage_path"] == final_folder(imageset.title)
    assert body["job"]["status"] == "succeeded"
    assert body["job"]["skipped"] == ["notes.txt"]
    assert body["job"]["progress"] == {"done": 2, "total": 2}
    images = admin_client.get(f"{set_url(imageset.pk)}/images").json()["images"]
    assert [(i["blobstorage_path"], i["file"]) for i in images] == [
        (
            f"{final_folder(imageset.title)}/car.png",
            {"filetype": "PNG", "filesize": len(samples.png(200, 200)), "dimensions": {"width": 200, "height": 200}},
        )
    ]


def test_a_failing_job_still_answers_ok_and_shows_as_failed(
    local_storage, admin_client, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    from integrations.storage import StorageError

    imageset = new_imageset(admin_user, files={"car.png": samples.png()}, storage=local_storage)
    monkeypatch.setattr(local_storage, "copy", lambda s, d: (_ for _ in ()).throw(StorageError("no space left")))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.put(set_url(imageset.pk), {"new_status": "finished"}, format="json")

    assert response.status_code == 200
    job = admin_client.get(set_url(imageset.pk)).json()["job"]
    assert job["status"] == "failed"
    assert job["error"] == "StorageError: no space left"


def test_finishing_twice_is_a_conflict(local_storage, admin_client, admin_user, django_capture_on_commit_callbacks):
    imageset = new_imageset(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.put(set_url(imageset.pk), {"new_status": "finished"}, format="json").status_code == 200
    before = imageset_state()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert_error(admin_client.put(set_url(imageset.pk), {"new_status": "finished"}, format="json"), 409)
    assert callbacks == []
    assert imageset_state() == before


@pytest.mark.parametrize(
    "body, code",
    [
        ({"new_status": "created"}, 409),
        ({"new_status": "archived"}, 400),
        ({"new_status": 1}, 400),
        ({}, 400),
        (["finished"], 400),
    ],
)
def test_any_other_status_change_is_refused(admin_client, body, code):
    imageset = ImageSetFactory()
    before = imageset_state()
    assert_error(admin_client.put(set_url(imageset.pk), body, format="json"), code)
    assert imageset_state() == before


# --- image sets: images ---------------------------------------------------------------------


def test_adding_images_to_a_set_answers_ok(admin_client):
    imageset = ImageSetFactory()
    a, b = ImageFactory(imageset=None), ImageFactory(imageset=None)

    response = admin_client.post(
        f"{set_url(imageset.pk)}/images", [{"id": a.pk}, {"filepath": b.blobstorage_path}], format="json"
    )

    assert response.status_code == 200 and response.json() == "ok"
    listed = admin_client.get(f"{set_url(imageset.pk)}/images").json()
    assert [i["image_id"] for i in listed["images"]] == [a.pk, b.pk]
    assert listed["images"][0]["imageset"] == {"imageset_id": imageset.pk, "title": imageset.title}


@pytest.mark.parametrize(
    "make_items, code, detail",
    [
        (lambda loose, other: [{"id": loose.pk}, {"id": 999999}], 404, "Unknown image provided"),
        (
            lambda loose, other: [{"id": loose.pk}, {"filepath": "images/uploads/none.png"}],
            404,
            "Unknown image provided",
        ),
        (lambda loose, other: [{"id": loose.pk}, {"id": other.pk}], 409, "another image set"),
        (lambda loose, other: {"id": loose.pk}, 400, None),
        (lambda loose, other: [{"id": "abc"}], 400, None),
        (lambda loose, other: [{"id": loose.pk, "filepath": loose.blobstorage_path}], 400, None),
        (lambda loose, other: [{"name": "x"}], 400, None),
        (lambda loose, other: [{"id": True}], 400, None),
        (lambda loose, other: [{"filepath": 5}], 400, None),
    ],
)
def test_adding_images_is_all_or_nothing(admin_client, make_items, code, detail):
    imageset = ImageSetFactory()
    loose, other = ImageFactory(imageset=None), ImageFactory()
    before = imageset_state()

    response = admin_client.post(f"{set_url(imageset.pk)}/images", make_items(loose, other), format="json")

    assert_error(response, code, detail)
    assert imageset_state() == before


def test_a_finished_set_takes_no_images(admin_client):
    imageset = ImageSetFactory(status="finished")
    loose = ImageFactory(imageset=None)
    before = imageset_state()
    assert_error(admin_client.post(f"{set_url(imageset.pk)}/images", [{"id": loose.pk}], format="json"), 409)
    assert imageset_state() == before


# --- images ------------------------------------------------------------------------------------


def test_listing_images_is_paginated_ordered_by_id_and_shaped_as_the_contract(admin_client):
    imageset = ImageSetFactory(title="imageset-22-10-2020", status="finished")
    first = ImageFactory(imageset=imageset, blobstorage_path="extra-images/uploads/imageset-22-10-2020/car.png")
    ImageFactory.create_batch(10)
    loose = ImageFactory(
        imageset=None, type="drone", lat=52.1, lon=4.3, location_description="Amsterdam", tss_id="t1", metadata={"k": 1}
    )

    body = admin_client.get(IMAGES).json()
    assert body["pagination"]["total"] == 12 and body["pagination"]["pages"] == 2
    assert body["images"][0] == {
        "image_id": first.pk,
        "blobstorage_path": "extra-images/uploads/imageset-22-10-2020/car.png",
        "imageset": {"imageset_id": imageset.pk, "title": "imageset-22-10-2020"},
        "date_taken": None,
        "location": {"description": None, "lat": None, "lon": None},
        "type": None,
        "metadata": None,
        "tss_id": None,
        "file": {"filetype": "PNG", "filesize": 4486, "dimensions": {"width": 200, "height": 200}},
        # Added: the EXIF orientation and the size as shown.
        "orientation": None,
        "display_dimensions": {"width": 200, "height": 200},
    }
    ids = [i["image_id"] for i in body["images"]]
    assert ids == sorted(ids)
    last = admin_client.get(IMAGES, {"page": 2}).json()["images"]
    assert last[-1]["image_id"] == loose.pk
    assert last[-1]["imageset"] is None
    assert last[-1]["location"] == {"description": "Amsterdam", "lat": 52.1, "lon": 4.3}
    assert (last[-1]["type"], last[-1]["tss_id"], last[-1]["metadata"]) == ("drone", "t1", {"k": 1})


def stored_image(storage, user, capture, name="car.png", data=None):
    data = data or samples.png(120, 80)
    imageset = new_imageset(user, files={name: data}, storage=storage)
    with capture(execute=True):
        imageset_finish(imageset_id=imageset.pk)
    return Image.objects.get(imageset=imageset), data


def test_an_image_redirects_admins_to_a_url_serving_exactly_its_bytes(
    any_storage, admin_client, admin_user, django_capture_on_commit_callbacks
):
    image, data = stored_image(any_storage, admin_user, django_capture_on_commit_callbacks, name="a b é.png")

    response = admin_client.get(f"{IMAGES}/{image.pk}")

    assert response.status_code == 303
    location = response["Location"]
    assert urlsplit(location).scheme in ("http", "https")
    if any_storage.__class__.__name__ == "LocalStorage":
        assert location.startswith("http://testserver/api/v1/files/")
        served = admin_client.get(location)
        assert served.status_code == 200
        assert b"".join(served.streaming_content) == data
        assert served["Content-Type"] == "image/png"
    else:
        served = requests.get(location, timeout=10)
        assert served.status_code == 200
        assert served.content == data


def test_a_labeler_may_fetch_an_image_of_its_campaign_only(
    local_storage, labeler_client, labeler_user, admin_user, django_capture_on_commit_callbacks
):
    image, data = stored_image(local_storage, admin_user, django_capture_on_commit_callbacks)
    other = ImageFactory()
    link = CampaignImageFactory(image=image)
    CampaignLabelerFactory(campaign=link.campaign, user=labeler_user)
    CampaignImageFactory(image=other)  # a campaign the labeler is not part of

    response = labeler_client.get(f"{IMAGES}/{image.pk}")
    assert response.status_code == 303
    assert b"".join(labeler_client.get(response["Location"]).streaming_content) == data

    for image_id in (other.pk, 999999):
        refused = labeler_client.get(f"{IMAGES}/{image_id}")
        assert refused.status_code == 401
        assert refused.json()["detail"] == UNAUTHORIZED_DETAIL
        assert "Location" not in refused


def test_an_unknown_image_is_not_found_for_admins(admin_client, api_client):
    assert_error(admin_client.get(f"{IMAGES}/999999"), 404)
    assert api_client.get(f"{IMAGES}/999999").status_code == 401


# --- query counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["image_sets", "images", "set_images"])
def test_list_queries_do_not_grow_with_the_page_size(admin_client, django_assert_max_num_queries, kind):
    owner = admin_client.user
    container = ImageSetFactory(status="finished", created_by=owner)
    url = {"image_sets": SETS, "images": IMAGES, "set_images": f"{set_url(container.pk)}/images"}[kind]
    admin_client.get(url)  # the key's last-used stamp is written on first use

    def make(n):
        for _ in range(n):
            imageset = ImageSetFactory(status="finished", created_by=owner)
            ImageSetJob.objects.create(imageset=imageset, status="succeeded", skipped=["a"])
            ImageFactory(imageset=container)

    # The key (1), the count (1), the page (1), and for a set's images the set (1).
    queries = {"image_sets": 3, "images": 3, "set_images": 4}[kind]
    make(2)
    with django_assert_max_num_queries(queries):
        small = admin_client.get(url, {"per_page": 1000}).json()
    make(18)
    with django_assert_max_num_queries(queries):
        large = admin_client.get(url, {"per_page": 1000}).json()
    key = "image_sets" if kind == "image_sets" else "images"
    assert len(large[key]) - len(small[key]) == 18


# --- the local dropbox ---------------------------------------------------------------------------


def dropbox_path(client, title) -> str:
    """The site-relative dropbox URL of a new set, as the API hands it out."""
    response = client.post(SETS, {"title": title}, format="json")
    assert response.status_code == 200
    return urlsplit(response.json()["dropbox_url"]).path


def put(client, url, data: bytes, **extra):
    return client.put(url, data=data, content_type="application/octet-stream", **extra)


def test_files_put_to_the_local_dropbox_land_in_it(local_storage, admin_client, api_client):
    title = unique_title()
    base = dropbox_path(admin_client, title)
    data = samples.png()

    response = put(api_client, f"{base}/{quote('sub/a b é.png')}", data, HTTP_X_MS_BLOB_TYPE="BlockBlob")

    assert response.status_code == 201
    with local_storage.open(f"dropbox-{title}/sub/a b é.png") as stream:
        assert stream.read() == data
    assert put(api_client, f"{base}/empty.bin", b"").status_code == 201
    assert put(api_client, f"{base}/sub/a b é.png", b"again").status_code == 201  # overwrite, like Azure
    assert sorted(f.name for f in local_storage.list(f"dropbox-{title}")) == ["empty.bin", "sub/a b é.png"]


def test_uploads_then_finish_through_the_api_register_the_images(
    local_storage, admin_client, api_client, django_capture_on_commit_callbacks
):
    title = unique_title()
    base = dropbox_path(admin_client, title)
    for name, (data, _) in samples.dropbox_files().items():
        assert put(api_client, f"{base}/{quote(name)}", data).status_code == 201
    imageset = ImageSet.objects.get(title=title)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.put(set_url(imageset.pk), {"new_status": "finished"}, format="json")

    body = admin_client.get(set_url(imageset.pk)).json()
    assert body["job"]["status"] == "succeeded"
    assert body["job"]["skipped"] == ["empty.png", "notes.txt"]
    assert admin_client.get(f"{set_url(imageset.pk)}/images").json()["pagination"]["total"] == 9


@pytest.mark.parametrize("token", ["forged", "eyJkIjoiZHJvcGJveC14In0:1:abc"])
def test_a_forged_dropbox_token_is_forbidden(local_storage, admin_client, api_client, token):
    dropbox_path(admin_client, "target")
    assert_error(put(api_client, f"/api/v1/dropbox/{token}/a.png", b"x"), 403)
    assert list(local_storage.list("dropbox-target")) == []


def test_an_expired_dropbox_token_is_forbidden(local_storage, admin_client, api_client):
    dropbox_path(admin_client, "target")
    key = ImageSet.objects.get(title="target").dropbox_key
    token = sign_dropbox_token("dropbox-target", key=key, valid_for=timedelta(seconds=-1))
    assert_error(put(api_client, f"/api/v1/dropbox/{token}/a.png", b"x"), 403)
    assert list(local_storage.list("dropbox-target")) == []


def test_the_dropbox_of_a_finished_set_is_closed(local_storage, admin_client, api_client, admin_user):
    base = dropbox_path(admin_client, "closing")
    imageset = ImageSet.objects.get(title="closing")
    imageset_finish(imageset_id=imageset.pk, queue=False)
    assert_error(put(api_client, f"{base}/late.png", b"x"), 409)
    assert list(local_storage.list("dropbox-closing")) == []


def test_the_dropbox_of_a_deleted_set_is_forbidden(local_storage, admin_client, api_client):
    base = dropbox_path(admin_client, "gone")
    ImageSet.objects.filter(title="gone").delete()
    assert_error(put(api_client, f"{base}/a.png", b"x"), 403)
    assert list(local_storage.list("dropbox-gone")) == []


def test_a_dropbox_whose_folder_was_removed_is_forbidden(local_storage, admin_client, api_client):
    base = dropbox_path(admin_client, "nofolder")
    local_storage.delete_dropbox("dropbox-nofolder")
    assert_error(put(api_client, f"{base}/a.png", b"x"), 403)


@pytest.mark.parametrize(
    "name",
    [
        "..%2Fescape.png",
        "sub/../../escape.png",
        "%2Fabsolute.png",
        "back%5Cslash.png",
        "ctrl%01.png",
        "nul%00.png",
        "tab%09.png",
        "dir/./a.png",
        "a//b.png",
    ],
)
def test_bad_file_names_are_refused(local_storage, admin_client, api_client, name):
    base = dropbox_path(admin_client, "names")
    assert_error(put(api_client, f"{base}/{name}", b"x"), 400, "Invalid file name")
    assert list(local_storage.list("dropbox-names")) == []
    assert not any(p.name.startswith("escape") for p in Path(local_storage.location).rglob("*"))


def test_a_body_over_the_limit_is_too_large(local_storage, admin_client, api_client, settings):
    settings.LOCAL_DROPBOX_MAX_FILE_SIZE = 10
    base = dropbox_path(admin_client, "limits")

    assert_error(put(api_client, f"{base}/big.bin", b"x" * 11), 413)
    assert put(api_client, f"{base}/fits.bin", b"x" * 10).status_code == 201
    assert [f.name for f in local_storage.list("dropbox-limits")] == ["fits.bin"]


def test_a_chunked_put_without_content_length_is_refused(local_storage, admin_client, api_client):
    base = dropbox_path(admin_client, "nolength")
    response = api_client.generic(
        "PUT", f"{base}/a.bin", b"", content_type="application/octet-stream", HTTP_TRANSFER_ENCODING="chunked"
    )
    assert_error(response, 411)
    assert list(local_storage.list("dropbox-nolength")) == []


def test_the_dropbox_needs_no_api_key_but_only_takes_puts(local_storage, admin_client, api_client):
    base = dropbox_path(admin_client, "methods")
    assert api_client.get(f"{base}/a.png").status_code == 405
    assert api_client.post(f"{base}/a.png", b"x", content_type="application/octet-stream").status_code == 405
    assert list(local_storage.list("dropbox-methods")) == []


@pytest.mark.azurite
def test_the_local_upload_endpoint_is_closed_when_storage_is_azure(azure_storage, api_client):
    imageset = ImageSetFactory(title="on-azure")
    token = sign_dropbox_token("dropbox-on-azure", key=imageset.dropbox_key, valid_for=timedelta(days=1))
    assert_error(put(api_client, f"/api/v1/dropbox/{token}/a.png", b"x"), 403)


# --- inputs the schemathesis fuzz (labelhub/tests/test_fuzz.py) turned up -----------------------
# Each answered a 500 or an undocumented status before it was fixed; each must now get its
# documented 4xx with a JSON ``detail`` and leave everything stored as it was.

NUL = "\x00"


@pytest.mark.parametrize("url", ["/api/v1/image_sets", "/api/v1/images"])
def test_options_on_an_image_list_is_a_json_405(admin_client, url):
    # DRF's OPTIONS metadata answered 500 on views without a queryset: it is off (a 405) everywhere.
    assert_error(admin_client.options(url), 405)


@pytest.mark.parametrize(
    "metadata",
    [{"note": NUL}, {NUL: 1}, {"nested": [{"deep": "a" + NUL + "b"}]}],
    ids=["in-a-value", "in-a-key", "nested"],
)
def test_metadata_holding_a_nul_character_is_a_400_and_creates_no_set(local_storage, admin_client, metadata):
    # PostgreSQL's jsonb refuses NUL: this was a 500 there (and stored on SQLite).
    before = imageset_state()

    response = admin_client.post("/api/v1/image_sets", {"title": "nul-meta", "metadata": metadata}, format="json")

    assert_error(response, 400)
    assert "NUL" in response.json()["detail"]
    assert imageset_state() == before
    assert not local_storage.dropbox_exists("dropbox-nul-meta")


def test_a_filepath_holding_a_nul_character_is_an_unknown_image(admin_client):
    imageset = ImageSetFactory()
    image = ImageFactory(imageset=None, blobstorage_path="images/uploads/x/a.png")
    before = imageset_state()

    response = admin_client.post(
        f"/api/v1/image_sets/{imageset.pk}/images",
        [{"id": image.pk}, {"filepath": "images/uploads/x/a" + NUL + ".png"}],
        format="json",
    )

    assert_error(response, 404)
    assert imageset_state() == before  # all or nothing: the known image is not attached either


def test_a_dropbox_file_name_that_no_url_can_match_is_a_json_404(local_storage, admin_client, api_client):
    # A newline cannot be part of a routed path: the request falls through to the API's
    # catch-all, which answered a 404 the schema did not document for this operation.
    url = urlsplit(admin_client.post("/api/v1/image_sets", {"title": "newline"}, format="json").json()["dropbox_url"])

    response = api_client.put(f"{url.path}/a%0Ab.png", data=b"x", content_type="application/octet-stream")

    assert_error(response, 404)
    assert list(local_storage.list("dropbox-newline")) == []
