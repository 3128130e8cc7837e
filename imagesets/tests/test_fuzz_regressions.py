"""Inputs the schemathesis fuzz (labelhub/tests/test_fuzz.py) turned up against the image-set API.

Each answered a 500 or an undocumented status before it was fixed; each must now get
its documented 4xx with a JSON ``detail`` and leave everything stored as it was.
"""

from urllib.parse import urlsplit

import pytest

from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.tests.factories import ImageFactory, ImageSetFactory

pytestmark = pytest.mark.django_db

NUL = "\x00"


def snapshot():
    return (
        list(ImageSet.objects.values_list("id", "title", "status", "metadata", "blobstorage_path")),
        list(Image.objects.values_list("id", "imageset_id", "blobstorage_path")),
        list(ImageSetJob.objects.values_list("id", "status")),
    )


def assert_error(response, code):
    assert response.status_code == code, response.content
    body = response.json()
    assert body["status"] == code and isinstance(body["detail"], str) and body["detail"]


@pytest.mark.parametrize(
    "metadata",
    [{"note": NUL}, {NUL: 1}, {"nested": [{"deep": "a" + NUL + "b"}]}],
    ids=["in-a-value", "in-a-key", "nested"],
)
def test_metadata_holding_a_nul_character_is_a_400_and_creates_no_set(local_storage, admin_client, metadata):
    # PostgreSQL's jsonb refuses NUL: this was a 500 there (and stored on SQLite).
    before = snapshot()

    response = admin_client.post("/api/v1/image_sets", {"title": "nul-meta", "metadata": metadata}, format="json")

    assert_error(response, 400)
    assert "NUL" in response.json()["detail"]
    assert snapshot() == before
    assert not local_storage.dropbox_exists("dropbox-nul-meta")


def test_a_filepath_holding_a_nul_character_is_an_unknown_image(admin_client):
    imageset = ImageSetFactory()
    image = ImageFactory(imageset=None, blobstorage_path="images/uploads/x/a.png")
    before = snapshot()

    response = admin_client.post(
        f"/api/v1/image_sets/{imageset.pk}/images",
        [{"id": image.pk}, {"filepath": "images/uploads/x/a" + NUL + ".png"}],
        format="json",
    )

    assert_error(response, 404)
    assert snapshot() == before  # all or nothing: the known image is not attached either


def test_a_dropbox_file_name_that_no_url_can_match_is_a_json_404(local_storage, admin_client, api_client):
    # A newline cannot be part of a routed path: the request falls through to the API's
    # catch-all, which answered a 404 the schema did not document for this operation.
    url = urlsplit(admin_client.post("/api/v1/image_sets", {"title": "newline"}, format="json").json()["dropbox_url"])

    response = api_client.put(f"{url.path}/a%0Ab.png", data=b"x", content_type="application/octet-stream")

    assert_error(response, 404)
    assert list(local_storage.list("dropbox-newline")) == []
