"""The image admin's thumbnails, display copies and originals: staff-only redirects to stored copies."""

from __future__ import annotations

import re
from io import BytesIO
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from accounts.tests.factories import UserFactory
from imagesets.derived import DISPLAY, THUMBNAIL, derived_path
from imagesets.models import Image
from imagesets.tests import photos
from imagesets.tests.factories import ImageFactory
from integrations.storage import StorageError
from integrations.storage.local import unsign_read_token

pytestmark = pytest.mark.django_db

LIST = reverse("admin:imagesets_image_changelist")


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="staff@example.com", is_staff=True))
    return client


def stored_image(storage, name: str = "camera.jpg", *, as_name: str | None = None, **fields) -> Image:
    path = f"{django_settings.AZURE_STORAGE_IMAGESET_CONTAINER}/uploads/a-set/{as_name or name}"
    data = photos.camera_files()[name]
    with PILImage.open(BytesIO(data)) as im:
        width, height = im.size
    fields = {"width": width, "height": height, "filesize": len(data), **fields}
    fmt = "PNG" if name.endswith(".png") else "JPEG"
    image = ImageFactory(blobstorage_path=path, filetype=fmt, content_type=f"image/{fmt.lower()}", **fields)
    storage.write(path, [data])
    return image


def page_url(image: Image, name: str) -> str:
    return reverse(f"admin:imagesets_image_{name}", args=[image.pk])


def fetch(client, location: str) -> bytes:
    """The bytes a redirect leads to: local storage's read view, or Azure's blob URL."""
    if location.startswith("/"):
        response = client.get(location)
        assert response.status_code == 200
        return b"".join(response.streaming_content)
    response = requests.get(location, timeout=10)
    assert response.status_code == 200
    return response.content


def stored_path(location: str) -> str:
    """The storage path a read URL reads."""
    if location.startswith("/"):
        return unsign_read_token(location.rsplit("/", 1)[1])[0]
    return urlsplit(location).path.split("/", 2)[2]  # /<account>/<container>/<key>


class CountedWrites:
    def __init__(self, storage, monkeypatch):
        self.paths: list[str] = []
        write = storage.write
        monkeypatch.setattr(
            storage, "write", lambda path, chunks, **kw: self.paths.append(path) or write(path, chunks, **kw)
        )


def test_the_thumbnail_page_redirects_to_a_small_stored_copy_the_browser_may_keep(
    staff_client, any_storage, monkeypatch, django_assert_num_queries
):
    image = stored_image(any_storage)  # 4000×3000, 4.5 MB
    writes = CountedWrites(any_storage, monkeypatch)

    with django_assert_num_queries(3):  # the session, the user, the image
        first = staff_client.get(page_url(image, "thumbnail"))
    with django_assert_num_queries(3):
        again = staff_client.get(page_url(image, "thumbnail"))

    path = derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=THUMBNAIL)
    for response in (first, again):
        assert response.status_code == 302
        assert response["Cache-Control"] == "private, max-age=3000"
        assert stored_path(response["Location"]) == path
    assert writes.paths == [path]  # made once
    thumbnail = fetch(staff_client, again["Location"])
    assert len(thumbnail) < 20_000
    assert PILImage.open(BytesIO(thumbnail)).size == (160, 120)


def test_the_display_page_redirects_to_an_upright_display_copy(staff_client, any_storage):
    image = stored_image(any_storage, "phone-upright.jpg", orientation=6)  # 3264×2448 stored, shown portrait

    response = staff_client.get(page_url(image, "display"))

    assert response.status_code == 302
    path = derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=DISPLAY)
    assert stored_path(response["Location"]) == path
    display = PILImage.open(BytesIO(fetch(staff_client, response["Location"])))
    assert display.size == (1536, 2048)


def test_the_original_page_redirects_to_the_original(staff_client, any_storage):
    image = stored_image(any_storage, "screenshot.png")

    response = staff_client.get(page_url(image, "original"))

    assert response.status_code == 302
    assert stored_path(response["Location"]) == image.blobstorage_path
    assert fetch(staff_client, response["Location"]) == photos.camera_files()["screenshot.png"]


def test_a_file_pillow_cannot_decode_gets_a_placeholder_thumbnail_and_its_original_for_display(
    staff_client, local_storage
):
    image = ImageFactory(blobstorage_path="images/uploads/a-set/odd.jpg")
    local_storage.write(image.blobstorage_path, [b"\xff\xd8\xff\xe0 a damaged jpeg" * 100])

    thumbnail = staff_client.get(page_url(image, "thumbnail"))
    display = staff_client.get(page_url(image, "display"))

    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/svg+xml"
    assert "no preview" in thumbnail.content.decode()
    assert thumbnail["Cache-Control"] == "private, max-age=300"
    assert display.status_code == 302
    assert stored_path(display["Location"]) == image.blobstorage_path
    assert not local_storage.exists(
        derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=THUMBNAIL)
    )


def test_a_missing_original_or_unavailable_storage_gets_a_placeholder_never_a_500(
    staff_client, local_storage, monkeypatch
):
    gone = ImageFactory(blobstorage_path="images/uploads/a-set/gone.jpg")
    missing = staff_client.get(page_url(gone, "thumbnail"))
    assert (missing.status_code, missing["Content-Type"]) == (404, "image/svg+xml")

    image = stored_image(local_storage, "drone.jpg")

    def unavailable(path):
        raise StorageError("the storage account does not answer")

    monkeypatch.setattr(local_storage, "exists", unavailable)
    for name in ("thumbnail", "display"):
        response = staff_client.get(page_url(image, name))
        assert (response.status_code, response["Content-Type"]) == (503, "image/svg+xml")
        assert response["Cache-Control"] == "no-store"


def test_only_staff_get_copies_and_only_with_get(staff_client, local_storage):
    image = stored_image(local_storage, "drone.jpg")
    url = page_url(image, "thumbnail")

    anonymous = Client()
    assert anonymous.get(url)["Location"].startswith(reverse("admin:login"))
    agency = Client()
    agency.force_login(UserFactory(email="agency@example.com"))
    assert agency.get(url)["Location"].startswith(reverse("admin:login"))
    assert not local_storage.exists(
        derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=THUMBNAIL)
    )
    assert staff_client.post(url).status_code == 405
    assert staff_client.head(url).status_code == 302
    assert staff_client.get(page_url(Image(pk=image.pk + 1), "thumbnail")).status_code == 404


def test_the_image_list_shows_thumbnails_not_originals_and_links_each_original(
    staff_client, local_storage, django_assert_max_num_queries
):
    names = list(photos.camera_files())
    images = [stored_image(local_storage, names[n % 4], as_name=f"{n}-{names[n % 4]}") for n in range(25)]

    with django_assert_max_num_queries(12):
        page = staff_client.get(LIST).content.decode()

    thumbnails = re.findall(r'<img src="([^"]+)" class="lh-thumb"[^>]*>', page)
    assert sorted(thumbnails) == sorted(page_url(image, "thumbnail") for image in images)
    assert "/api/v1/files/" not in page  # no original is named, let alone loaded
    for image in images:
        assert f'<a href="{page_url(image, "original")}" title="Open the original">' in page
    # What those 25 thumbnails weigh, against the originals the page used to load.
    weight = 0
    for url in thumbnails:
        response = staff_client.get(url)
        thumbnail = fetch(staff_client, response["Location"])
        assert len(thumbnail) < 20_000
        assert max(PILImage.open(BytesIO(thumbnail)).size) <= 160
        weight += len(thumbnail)
    originals = sum(image.filesize for image in images)
    assert originals > 60_000_000 and weight < 25 * 20_000


def test_the_image_page_shows_the_display_copy_and_opens_the_original(staff_client, local_storage):
    image = stored_image(local_storage, "camera.jpg")

    page = staff_client.get(reverse("admin:imagesets_image_change", args=[image.pk])).content.decode()

    assert re.search(rf'<img src="{page_url(image, "display")}" class="lh-preview"[^>]* width="480" height="360"', page)
    assert f'<a href="{page_url(image, "original")}">Open the original</a> (JPEG, 4.3\xa0MB)' in page


def test_deleting_an_image_deletes_its_copies(client, local_storage, django_capture_on_commit_callbacks):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    image = stored_image(local_storage, "drone.jpg")
    paths = [
        derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=k) for k in (THUMBNAIL, DISPLAY)
    ]
    for name in ("thumbnail", "display"):
        client.get(page_url(image, name))
    assert all(local_storage.exists(path) for path in paths)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:imagesets_image_delete", args=[image.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Image.objects.filter(pk=image.pk).exists()
    assert not any(local_storage.exists(path) for path in paths)
    assert local_storage.exists(image.blobstorage_path)  # the original is not the admin's to delete
