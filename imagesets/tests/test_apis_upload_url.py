"""``POST /image_sets/{id}/upload_url``: a fresh dropbox URL over the API, as the admin's page shows one."""

from __future__ import annotations

import pytest

from imagesets.naming import dropbox_name
from imagesets.services import imageset_finish
from imagesets.tests.conftest import imageset_state, unique_title
from imagesets.tests.uploads import names_in, refused_codes, upload
from testing.api import assert_error

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.mark.parametrize("storage_kind", ["local", pytest.param("azure", marks=pytest.mark.azurite)])
def test_a_new_upload_url_takes_files_into_the_sets_dropbox(admin_client, storage_kind, request):
    storage = request.getfixturevalue(f"{storage_kind}_storage")
    created = admin_client.post(f"{API}/image_sets", {"title": unique_title()}, format="json").json()

    response = admin_client.post(f"{API}/image_sets/{created['imageset_id']}/upload_url")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"imageset_id", "dropbox_url"}
    assert body["imageset_id"] == created["imageset_id"]
    assert body["dropbox_url"].startswith(("http://", "https://"))  # absolute on either backend
    assert upload(storage, body["dropbox_url"], "late.png") == 201
    assert upload(storage, created["dropbox_url"], "early.png") == 201  # the first URL still works
    assert names_in(storage, dropbox_name(created["title"])) == ["early.png", "late.png"]


def test_a_finished_set_gets_no_upload_url_and_its_old_urls_stay_closed(admin_client, local_storage):
    created = admin_client.post(f"{API}/image_sets", {"title": unique_title()}, format="json").json()
    imageset_finish(imageset_id=created["imageset_id"], queue=False)
    before = imageset_state()

    response = admin_client.post(f"{API}/image_sets/{created['imageset_id']}/upload_url")

    assert_error(response, 409, "dropbox is closed")
    assert imageset_state() == before
    assert upload(local_storage, created["dropbox_url"], "a.png") in refused_codes(local_storage)


def test_an_unknown_set_is_a_404(admin_client, local_storage):
    assert_error(admin_client.post(f"{API}/image_sets/987654/upload_url"), 404, "not found")


@pytest.mark.parametrize("who", ["labeler", "anonymous"])
def test_only_image_admins_get_an_upload_url(admin_client, labeler_client, api_client, local_storage, who):
    created = admin_client.post(f"{API}/image_sets", {"title": unique_title()}, format="json").json()
    client = labeler_client if who == "labeler" else api_client

    assert_error(client.post(f"{API}/image_sets/{created['imageset_id']}/upload_url"), 401)


def test_the_upload_url_endpoint_takes_no_other_method(admin_client, local_storage):
    created = admin_client.post(f"{API}/image_sets", {"title": unique_title()}, format="json").json()
    assert_error(admin_client.get(f"{API}/image_sets/{created['imageset_id']}/upload_url"), 405)
