"""Upload URLs belong to one image set: finishing closes them, deleting revokes them, a 201 is never lost.

On both backends where storage is involved: local (labelhub's signed upload
view) and Azure (Azurite, a SAS naming the dropbox container's stored
access policy).
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.exceptions import Conflict
from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.naming import dropbox_name, final_folder
from imagesets.services import (
    imageset_create,
    imageset_delete,
    imageset_dropbox_url,
    imageset_finish,
    imageset_finish_run,
)
from imagesets.tests import samples
from imagesets.tests.conftest import finish_and_run, imageset_state, unique_title
from imagesets.tests.factories import ImageFactory
from imagesets.tests.uploads import names_in, refused_codes, upload
from integrations.storage import StorageError

pytestmark = pytest.mark.django_db


def partial_files(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT, ".partial")
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- finishing closes the dropbox -------------------------------------------------------------


def test_an_upload_after_finish_is_refused_and_leaves_no_orphan(
    any_storage, admin_user, django_capture_on_commit_callbacks
):
    imageset = imageset_create(title=unique_title("late"), created_by=admin_user)
    assert upload(any_storage, imageset.dropbox_url, "early.png", samples.png()) == 201

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        imageset_finish(imageset_id=imageset.pk)
        # Finished, the job not started yet: the URL no longer takes files.
        assert upload(any_storage, imageset.dropbox_url, "late.png", samples.png()) in refused_codes(any_storage)
    assert len(callbacks) == 1  # the job ran on commit

    assert ImageSetJob.objects.get(imageset=imageset).status == ImageSetJob.Status.SUCCEEDED
    assert list(Image.objects.filter(imageset=imageset).values_list("blobstorage_path", flat=True)) == [
        f"{final_folder(imageset.title)}/early.png"
    ]
    assert not any_storage.dropbox_exists(dropbox_name(imageset.title))
    assert names_in(any_storage, final_folder(imageset.title) + "/") == ["early.png"]
    # And after the job removed the dropbox, still refused, still nothing stored.
    assert upload(any_storage, imageset.dropbox_url, "later.png") in refused_codes(any_storage) | {403}
    assert not any_storage.dropbox_exists(dropbox_name(imageset.title))


@pytest.mark.azurite
def test_finishing_removes_the_dropbox_policy_and_no_url_reopens_it(azure_storage, admin_user):
    imageset = imageset_create(title=unique_title("policy"), created_by=admin_user)
    name = dropbox_name(imageset.title)
    assert list(azure_storage.dropbox_policies(name)) == [imageset.dropbox_key]
    assert f"si={imageset.dropbox_key}" in imageset.dropbox_url

    imageset_finish(imageset_id=imageset.pk, queue=False)

    assert azure_storage.dropbox_policies(name) == {}
    with pytest.raises(Conflict):
        imageset_dropbox_url(imageset_id=imageset.pk)
    assert azure_storage.dropbox_policies(name) == {}


def test_a_url_is_issued_only_while_the_set_is_created(local_storage, admin_user):
    imageset = imageset_create(title=unique_title(), created_by=admin_user)

    url = imageset_dropbox_url(imageset_id=imageset.pk)
    assert upload(local_storage, url, "a.png") == 201
    imageset_finish(imageset_id=imageset.pk, queue=False)

    with pytest.raises(Conflict):
        imageset_dropbox_url(imageset_id=imageset.pk)
    assert upload(local_storage, url, "b.png") == 409
    assert names_in(local_storage, dropbox_name(imageset.title)) == ["a.png"]


class SlowBody:
    """A request body that sends its first bytes, then waits until released (a client still uploading)."""

    def __init__(self, data: bytes):
        self.data = data
        self.sent = 0
        self.started = threading.Event()
        self.release = threading.Event()

    def readline(self, size: int = -1) -> bytes:  # WSGI input; never used for a raw PUT
        raise AssertionError("readline")

    def read(self, size: int = -1) -> bytes:
        if self.sent == 0:
            self.started.set()
            size = 1000
        elif not self.release.wait(20):
            raise TimeoutError("the test never released the body")
        size = len(self.data) - self.sent if size is None or size < 0 else size
        chunk = self.data[self.sent : self.sent + size]
        self.sent += len(chunk)
        return chunk


def put_in_thread(path: str, body: SlowBody) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def send():
        try:
            result["response"] = Client().generic(
                "PUT",
                path,
                b"",
                content_type="application/octet-stream",
                **{"wsgi.input": body, "CONTENT_LENGTH": str(len(body.data))},
            )
        finally:
            connection.close()

    thread = threading.Thread(target=send)
    thread.start()
    return thread, result


@pytest.mark.django_db(transaction=True)
def test_an_upload_still_streaming_when_the_set_is_finished_answers_409_and_keeps_nothing(local_storage, settings):
    imageset = imageset_create(title=unique_title("stream"), created_by=UserFactory(is_staff=True))
    body = SlowBody(samples.png() + b"\0" * 300_000)
    thread, result = put_in_thread(f"{urlsplit(imageset.dropbox_url).path}/streaming.png", body)
    assert body.started.wait(10), "the upload never started streaming"

    # The upload passed the status check and is streaming: now the set is finished and committed.
    imageset_finish(imageset_id=imageset.pk, queue=False)
    body.release.set()
    thread.join(20)

    response = result["response"]
    assert response.status_code == 409, response.content
    assert response.json() == {"detail": "Image set is finished; its dropbox is closed", "status": 409}
    assert body.sent == len(body.data)  # the whole body was read, then dropped
    assert names_in(local_storage, dropbox_name(imageset.title)) == []
    assert partial_files(settings) == []
    # The finish job registers nothing and leaves nothing behind.
    imageset_finish_run(imageset_id=imageset.pk)
    assert not Image.objects.exists()
    assert not local_storage.dropbox_exists(dropbox_name(imageset.title))
    assert names_in(local_storage, final_folder(imageset.title) + "/") == []


@pytest.mark.django_db(transaction=True)
def test_an_upload_that_finishes_streaming_before_the_finish_is_registered(local_storage, settings):
    imageset = imageset_create(title=unique_title("stream"), created_by=UserFactory(is_staff=True))
    body = SlowBody(samples.png())
    thread, result = put_in_thread(f"{urlsplit(imageset.dropbox_url).path}/kept.png", body)
    assert body.started.wait(10)
    body.release.set()
    thread.join(20)
    assert result["response"].status_code == 201

    imageset_finish(imageset_id=imageset.pk, queue=False)
    imageset_finish_run(imageset_id=imageset.pk)

    assert list(Image.objects.values_list("blobstorage_path", flat=True)) == [
        f"{final_folder(imageset.title)}/kept.png"
    ]
    assert partial_files(settings) == []


def test_a_body_shorter_than_its_content_length_is_refused_and_not_kept(local_storage, admin_user, settings):
    imageset = imageset_create(title=unique_title(), created_by=admin_user)
    body = SlowBody(b"abc")
    body.release.set()

    response = Client().generic(
        "PUT",
        f"{urlsplit(imageset.dropbox_url).path}/cut.png",
        b"",
        content_type="application/octet-stream",
        **{"wsgi.input": body, "CONTENT_LENGTH": "10"},
    )

    assert response.status_code == 400 and response.json()["status"] == 400
    assert names_in(local_storage, dropbox_name(imageset.title)) == []
    assert partial_files(settings) == []


# --- deleting revokes the URL -----------------------------------------------------------------


def test_deleting_a_set_deletes_its_dropbox_and_a_new_set_with_its_title_refuses_the_old_url(any_storage, admin_user):
    title = unique_title("reuse")
    first = imageset_create(title=title, created_by=admin_user)
    assert upload(any_storage, first.dropbox_url, "first.png") == 201

    imageset_delete(imageset_id=first.pk)

    assert not ImageSet.objects.filter(pk=first.pk).exists()
    assert not any_storage.dropbox_exists(dropbox_name(title))
    assert upload(any_storage, first.dropbox_url, "orphan.png") in {403, 404}
    assert not any_storage.dropbox_exists(dropbox_name(title))

    second = imageset_create(title=title, created_by=admin_user)

    assert second.dropbox_key != first.dropbox_key
    assert upload(any_storage, first.dropbox_url, "stale.png") == 403
    assert names_in(any_storage, dropbox_name(title)) == []
    assert upload(any_storage, second.dropbox_url, "fresh.png") == 201
    assert names_in(any_storage, dropbox_name(title)) == ["fresh.png"]


def test_a_set_with_images_or_an_unfinished_job_is_not_deleted(local_storage, admin_user):
    with_images = imageset_create(title=unique_title("images"), created_by=admin_user)
    ImageFactory(imageset=with_images)
    running = imageset_create(title=unique_title("running"), created_by=admin_user)
    imageset_finish(imageset_id=running.pk, queue=False)  # its job is queued
    before = imageset_state()

    for imageset, reason in ((with_images, "has images"), (running, "job is queued")):
        with pytest.raises(Conflict) as refused:
            imageset_delete(imageset_id=imageset.pk)
        assert reason in refused.value.detail

    assert imageset_state() == before
    assert local_storage.dropbox_exists(dropbox_name(with_images.title))
    assert upload(local_storage, with_images.dropbox_url, "still-open.png") == 201


def test_a_storage_failure_while_deleting_deletes_nothing(local_storage, admin_user, monkeypatch):
    imageset = imageset_create(title=unique_title(), created_by=admin_user)
    before = imageset_state()

    def broken(name):
        raise StorageError("storage is down")

    monkeypatch.setattr(local_storage, "delete_dropbox", broken)
    with pytest.raises(StorageError):
        imageset_delete(imageset_id=imageset.pk)
    monkeypatch.undo()

    assert imageset_state() == before
    assert upload(local_storage, imageset.dropbox_url, "a.png") == 201  # the set and its URL live on


def test_deleting_a_finished_set_without_images_removes_its_leftover_copies(
    any_storage, admin_user, django_capture_on_commit_callbacks
):
    imageset = imageset_create(title=unique_title("skipped"), created_by=admin_user)
    assert upload(any_storage, imageset.dropbox_url, "notes.txt", b"not an image") == 201
    finish_and_run(imageset, django_capture_on_commit_callbacks)
    assert not Image.objects.filter(imageset=imageset).exists()

    imageset_delete(imageset_id=imageset.pk)

    assert not ImageSet.objects.filter(pk=imageset.pk).exists()
    assert names_in(any_storage, final_folder(imageset.title) + "/") == []


# --- the admin deletes through the service ----------------------------------------------------


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


def test_the_admin_delete_page_deletes_the_set_its_dropbox_and_its_url(superuser_client, local_storage, admin_user):
    imageset = imageset_create(title=unique_title("admin"), created_by=admin_user)

    response = superuser_client.post(reverse("admin:imagesets_imageset_delete", args=[imageset.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not ImageSet.objects.filter(pk=imageset.pk).exists()
    assert not local_storage.dropbox_exists(dropbox_name(imageset.title))
    assert upload(local_storage, imageset.dropbox_url, "a.png") == 403


def test_the_admin_delete_page_shows_a_refusal_as_a_message(superuser_client, local_storage, admin_user):
    imageset = imageset_create(title=unique_title("admin"), created_by=admin_user)
    imageset_finish(imageset_id=imageset.pk, queue=False)
    before = imageset_state()

    response = superuser_client.post(
        reverse("admin:imagesets_imageset_delete", args=[imageset.pk]), {"post": "yes"}, follow=True
    )

    assert response.status_code == 200
    assert any("Not deleted" in str(m) and "queued" in str(m) for m in response.context["messages"])
    assert imageset_state() == before


def test_the_admin_delete_action_deletes_each_set_and_reports_the_ones_it_cannot(
    superuser_client, local_storage, admin_user
):
    deletable = imageset_create(title=unique_title("bulk"), created_by=admin_user)
    busy = imageset_create(title=unique_title("bulk"), created_by=admin_user)
    imageset_finish(imageset_id=busy.pk, queue=False)
    changelist = reverse("admin:imagesets_imageset_changelist")
    selected = [str(deletable.pk), str(busy.pk)]

    confirm = superuser_client.post(changelist, {"action": "delete_selected", "_selected_action": selected})
    assert confirm.status_code == 200 and b"Are you sure" in confirm.content
    response = superuser_client.post(
        changelist, {"action": "delete_selected", "_selected_action": selected, "post": "yes"}, follow=True
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any(busy.title in m and "queued" in m for m in messages)
    assert any("1 image set(s) deleted" in m for m in messages)
    assert list(ImageSet.objects.values_list("pk", flat=True)) == [busy.pk]
    assert not local_storage.dropbox_exists(dropbox_name(deletable.title))
    assert upload(local_storage, deletable.dropbox_url, "a.png") == 403
