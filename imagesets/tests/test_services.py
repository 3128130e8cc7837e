from unittest import mock

import pytest
from django.db.models import QuerySet
from django.utils import timezone

from core.exceptions import BadRequest, Conflict, InvalidName, NotFound
from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.services import (
    imageset_add_images,
    imageset_create,
    imageset_finish,
    imageset_job_retry,
    imageset_set_status,
)
from imagesets.tests.conftest import unique_title
from imagesets.tests.factories import ImageFactory, ImageSetFactory
from integrations.storage import StorageError

pytestmark = pytest.mark.django_db


# --- create -------------------------------------------------------------------


def test_creating_a_set_stores_it_and_opens_its_dropbox(any_storage, admin_user):
    title = unique_title()

    imageset = imageset_create(title=title, metadata={"country": "Nederland"}, created_by=admin_user)

    imageset.refresh_from_db()
    assert (imageset.title, imageset.status, imageset.metadata) == (title, "created", {"country": "Nederland"})
    assert imageset.blobstorage_path == f"dropbox-{title}"
    assert imageset.created_by == admin_user
    assert any_storage.dropbox_exists(f"dropbox-{title}")


@pytest.mark.parametrize("title", ["", "Upper", "with space", "-dash", "dash-", "double--dash", "a" * 54, 12, None])
def test_an_invalid_title_is_refused_and_nothing_is_stored(local_storage, admin_user, title):
    with pytest.raises(InvalidName):
        imageset_create(title=title, metadata=None, created_by=admin_user)
    assert ImageSet.objects.count() == 0
    assert not any(local_storage.dropbox_exists(name) for name in ["dropbox-", "dropbox-Upper"])


def test_a_duplicate_title_is_a_conflict(local_storage, admin_user):
    first = imageset_create(title="dup", metadata={"a": 1}, created_by=admin_user)

    with pytest.raises(Conflict, match="already exists"):
        imageset_create(title="dup", metadata={"b": 2}, created_by=admin_user)

    assert list(ImageSet.objects.values_list("pk", "metadata")) == [(first.pk, {"a": 1})]


def test_a_duplicate_title_that_slips_past_the_check_is_still_a_conflict(local_storage, admin_user):
    imageset_create(title="race", metadata=None, created_by=admin_user)

    # A concurrent create committed between the check and the insert.
    with mock.patch.object(QuerySet, "exists", return_value=False):
        with pytest.raises(Conflict):
            imageset_create(title="race", metadata=None, created_by=admin_user)

    assert ImageSet.objects.filter(title="race").count() == 1


@pytest.mark.parametrize("metadata", [[1, 2], "text", 3])
def test_metadata_must_be_an_object_or_null(local_storage, admin_user, metadata):
    with pytest.raises(BadRequest):
        imageset_create(title="meta", metadata=metadata, created_by=admin_user)
    assert ImageSet.objects.count() == 0
    assert not local_storage.dropbox_exists("dropbox-meta")


def test_a_storage_failure_while_creating_leaves_no_set(local_storage, admin_user, monkeypatch):
    def broken(name):
        raise StorageError("storage is down")

    monkeypatch.setattr(local_storage, "create_dropbox", broken)

    with pytest.raises(StorageError):
        imageset_create(title="down", metadata=None, created_by=admin_user)
    assert ImageSet.objects.count() == 0


# --- finish ---------------------------------------------------------------------


def test_finishing_commits_the_status_and_queues_the_job_on_commit(
    local_storage, admin_user, django_capture_on_commit_callbacks
):
    imageset = imageset_create(title=unique_title(), metadata=None, created_by=admin_user)

    with mock.patch("core.jobs.queue.async_task", return_value="task-1") as async_task:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            imageset_finish(imageset_id=imageset.pk)
        async_task.assert_not_called()  # nothing starts before the commit
        imageset.refresh_from_db()
        assert imageset.status == ImageSet.Status.FINISHED
        assert imageset.date_finished is not None
        job = ImageSetJob.objects.get(imageset=imageset)
        assert job.status == ImageSetJob.Status.QUEUED

        assert len(callbacks) == 1
        callbacks[0]()

    async_task.assert_called_once_with(
        "imagesets.tasks.imageset_finish_run", imageset.pk, task_name=f"imageset_finish-{imageset.pk}"
    )
    job.refresh_from_db()
    assert job.task_id == "task-1"


def test_finishing_a_finished_set_is_a_conflict(local_storage, admin_user):
    imageset = ImageSetFactory(status=ImageSet.Status.FINISHED)

    with pytest.raises(Conflict):
        imageset_finish(imageset_id=imageset.pk)
    assert not ImageSetJob.objects.exists()


def test_finishing_an_unknown_set_is_not_found(db):
    with pytest.raises(NotFound):
        imageset_finish(imageset_id=424242)


@pytest.mark.parametrize(
    "status, new_status, error",
    [
        ("created", "created", Conflict),
        ("finished", "created", Conflict),
        ("finished", "finished", Conflict),
        ("created", "active", BadRequest),
        ("created", None, BadRequest),
        ("created", "", BadRequest),
    ],
)
def test_only_created_to_finished_is_allowed(db, status, new_status, error):
    imageset = ImageSetFactory(status=status)

    with pytest.raises(error):
        imageset_set_status(imageset_id=imageset.pk, new_status=new_status)

    imageset.refresh_from_db()
    assert imageset.status == status and imageset.date_finished is None
    assert not ImageSetJob.objects.exists()


def test_setting_the_status_of_an_unknown_set_is_not_found(db):
    with pytest.raises(NotFound):
        imageset_set_status(imageset_id=424242, new_status="created")


# --- retry ------------------------------------------------------------------------


@pytest.mark.parametrize("job_status", [None, "queued", "running", "succeeded"])
def test_only_a_failed_or_stuck_job_can_be_retried(db, job_status):
    imageset = ImageSetFactory(status=ImageSet.Status.FINISHED)
    if job_status:
        now = timezone.now()
        # Queued and handed to the broker just now / running with a fresh heartbeat: not stuck.
        ImageSetJob.objects.create(
            imageset=imageset,
            status=job_status,
            done=3,
            total=5,
            enqueued_at=now,
            heartbeat_at=now,
            date_started=now,
        )

    with pytest.raises(Conflict, match="Only a failed or stuck job"):
        imageset_job_retry(imageset_id=imageset.pk)

    if job_status:
        job = ImageSetJob.objects.get(imageset=imageset)
        assert (job.status, job.done) == (job_status, 3)


def test_retrying_a_failed_job_resets_it_and_queues_it(db, django_capture_on_commit_callbacks):
    imageset = ImageSetFactory(status=ImageSet.Status.FINISHED)
    ImageSetJob.objects.create(imageset=imageset, status="failed", error="boom", skipped=["x"], done=2, total=4)

    with mock.patch("core.jobs.queue.async_task", return_value="t") as async_task:
        with django_capture_on_commit_callbacks(execute=True):
            job = imageset_job_retry(imageset_id=imageset.pk)

    job.refresh_from_db()
    assert (job.status, job.error, job.skipped, job.done, job.total) == ("queued", None, [], 0, 0)
    async_task.assert_called_once()


# --- add images ----------------------------------------------------------------------


def test_adding_images_by_id_and_by_path_attaches_them(db):
    imageset = ImageSetFactory()
    by_id, by_path = ImageFactory(imageset=None), ImageFactory(imageset=None)

    attached = imageset_add_images(imageset_id=imageset.pk, image_ids=[by_id.pk], paths=[by_path.blobstorage_path])

    assert attached == 2
    assert set(imageset.images.values_list("pk", flat=True)) == {by_id.pk, by_path.pk}


def test_images_already_in_the_set_are_ignored(db):
    imageset = ImageSetFactory()
    inside, loose = ImageFactory(imageset=imageset), ImageFactory(imageset=None)

    assert imageset_add_images(imageset_id=imageset.pk, image_ids=[inside.pk, loose.pk]) == 1
    assert imageset.images.count() == 2


def test_an_unknown_image_attaches_nothing(db):
    imageset = ImageSetFactory()
    loose = ImageFactory(imageset=None)

    with pytest.raises(NotFound, match="Unknown image provided"):
        imageset_add_images(imageset_id=imageset.pk, image_ids=[loose.pk], paths=["images/nope.png"])
    with pytest.raises(NotFound, match="Unknown image provided"):
        imageset_add_images(imageset_id=imageset.pk, image_ids=[loose.pk, loose.pk + 1000])
    # Ids no row can have are unknown too (2**63 was an OverflowError on SQLite).
    for outside in (0, -1, 2**63, 2**70):
        with pytest.raises(NotFound) as excinfo:
            imageset_add_images(imageset_id=imageset.pk, image_ids=[loose.pk, outside])
        assert excinfo.value.extra == {"unknown": [f"id {outside}"]}

    loose.refresh_from_db()
    assert loose.imageset_id is None


def test_an_image_of_another_set_attaches_nothing(db):
    imageset = ImageSetFactory()
    loose, elsewhere = ImageFactory(imageset=None), ImageFactory()

    with pytest.raises(Conflict, match="another image set"):
        imageset_add_images(imageset_id=imageset.pk, image_ids=[loose.pk, elsewhere.pk])

    assert Image.objects.get(pk=loose.pk).imageset_id is None
    assert Image.objects.get(pk=elsewhere.pk).imageset_id == elsewhere.imageset_id


def test_a_finished_set_takes_no_images(db):
    imageset = ImageSetFactory(status=ImageSet.Status.FINISHED)
    loose = ImageFactory(imageset=None)

    with pytest.raises(Conflict):
        imageset_add_images(imageset_id=imageset.pk, image_ids=[loose.pk])
    assert Image.objects.get(pk=loose.pk).imageset_id is None


def test_adding_to_an_unknown_set_is_not_found(db):
    with pytest.raises(NotFound):
        imageset_add_images(imageset_id=424242, image_ids=[ImageFactory().pk])
