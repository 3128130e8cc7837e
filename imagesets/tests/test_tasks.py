"""The finish job on both storage backends: formats, paging, bytes read, idempotency, failures."""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import connection
from django_q.brokers.orm import ORM as OrmBroker
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.conf import Conf
from django_q.models import OrmQ

from core import jobs
from imagesets import ingest, services
from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.naming import dropbox_name, final_folder
from imagesets.probe import HEADER_BYTES
from imagesets.services import imageset_job_retry
from imagesets.tasks import finish_imageset
from imagesets.tests import samples
from imagesets.tests.conftest import finish_and_run, new_imageset, put_files
from integrations.storage import StorageError
from testing.processes import process_group

pytestmark = pytest.mark.django_db

FILES = samples.dropbox_files()
IMAGES = {name: expected for name, (_, expected) in FILES.items() if expected}
SKIPPED = sorted(name for name, (_, expected) in FILES.items() if expected is None)


def file_bytes() -> dict[str, bytes]:
    return {name: data for name, (data, _) in FILES.items()}


def stored_names(storage, prefix: str) -> list[str]:
    return sorted(f.name for f in storage.list(prefix))


def test_finishing_registers_every_image_with_format_size_and_dimensions(
    any_storage, storage_spy, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.IMAGESET_LIST_PAGE_SIZE = 2  # the listing spans several pages
    imageset = new_imageset(admin_user, files=file_bytes(), storage=any_storage)

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    folder = final_folder(imageset.title)
    images = {image.blobstorage_path: image for image in Image.objects.filter(imageset=imageset)}
    assert sorted(images) == sorted(f"{folder}/{name}" for name in IMAGES)
    for name, (filetype, width, height) in IMAGES.items():
        image = images[f"{folder}/{name}"]
        assert (image.filetype, image.width, image.height) == (filetype, width, height), name
        assert image.filesize == len(FILES[name][0])
        assert image.content_type.startswith("image/")
    job = ImageSetJob.objects.get(imageset=imageset)
    assert job.status == ImageSetJob.Status.SUCCEEDED
    assert job.skipped == SKIPPED
    assert (job.done, job.total) == (len(FILES), len(FILES))
    assert job.error is None and job.date_done is not None


def test_finished_set_lives_in_its_final_folder_and_the_dropbox_is_gone(
    any_storage, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.IMAGESET_LIST_PAGE_SIZE = 2
    imageset = new_imageset(admin_user, files=file_bytes(), storage=any_storage)

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    imageset.refresh_from_db()
    folder = final_folder(imageset.title)
    assert imageset.blobstorage_path == folder
    assert (
        folder
        == f"{settings.AZURE_STORAGE_IMAGESET_CONTAINER}/{settings.AZURE_STORAGE_IMAGESET_FOLDER}/{imageset.title}"
    )
    assert not any_storage.dropbox_exists(dropbox_name(imageset.title))
    # Skipped files are copied like the rest: nothing is lost.
    assert stored_names(any_storage, folder + "/") == sorted(FILES)
    for name, (data, _) in FILES.items():
        with any_storage.open(f"{folder}/{name}") as stream:
            assert stream.read() == data, name


def test_image_headers_are_read_with_one_ranged_read_and_only_an_oversized_header_reads_more(
    any_storage, storage_spy, admin_user, django_capture_on_commit_callbacks
):
    imageset = new_imageset(admin_user, files=file_bytes(), storage=any_storage)

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    folder = final_folder(imageset.title)
    big_header = f"{folder}/big exif.jpg"
    for name in IMAGES:
        path = f"{folder}/{name}"
        if path != big_header:
            assert storage_spy.bytes_read[path] <= HEADER_BYTES, name
            assert storage_spy.full_reads[path] == 0, name
    assert len(FILES["noise.png"][0]) > HEADER_BYTES  # a large image is still read 64 KiB only
    assert not storage_spy.full_reads  # no file is ever read whole
    # A second ranged read, bounded by IMAGESET_PROBE_MAX_BYTES (the file is smaller than that).
    assert storage_spy.bytes_read[big_header] == len(FILES["big exif.jpg"][0])
    assert storage_spy.bytes_read[f"{folder}/empty.png"] == 0


def test_a_job_interrupted_half_way_and_retried_registers_every_image_exactly_once(
    any_storage, storage_spy, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(ingest, "INSERT_BATCH", 2)  # rows are committed as the job goes
    imageset = new_imageset(admin_user, files=file_bytes(), storage=any_storage)
    storage_spy.fail_copies_after = len(FILES) // 2

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    job = ImageSetJob.objects.get(imageset=imageset)
    assert job.status == ImageSetJob.Status.FAILED
    assert "injected failure" in job.error
    assert 0 < Image.objects.filter(imageset=imageset).count() < len(IMAGES)
    assert any_storage.dropbox_exists(dropbox_name(imageset.title))

    registered_before = Image.objects.filter(imageset=imageset).count()
    storage_spy.fail_copies_after = None
    copies_before = storage_spy.copies
    with django_capture_on_commit_callbacks(execute=True):
        imageset_job_retry(imageset_id=imageset.pk)
    # The retry goes on from where the first run stopped: registered images are not copied again.
    assert storage_spy.copies - copies_before == len(FILES) - registered_before

    job.refresh_from_db()
    assert job.status == ImageSetJob.Status.SUCCEEDED
    assert job.attempts == 1  # a retry by staff starts a fresh count of attempts
    assert job.skipped == SKIPPED
    paths = list(Image.objects.filter(imageset=imageset).values_list("blobstorage_path", flat=True))
    assert sorted(paths) == sorted(f"{final_folder(imageset.title)}/{name}" for name in IMAGES)
    assert not any_storage.dropbox_exists(dropbox_name(imageset.title))


def test_a_job_that_died_after_deleting_the_dropbox_finishes_on_retry_with_the_same_result(
    any_storage, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    imageset = new_imageset(admin_user, files=file_bytes(), storage=any_storage)
    delete_dropbox = any_storage.delete_dropbox

    def delete_then_die(name):
        delete_dropbox(name)
        raise StorageError("injected failure after the delete")

    monkeypatch.setattr(any_storage, "delete_dropbox", delete_then_die)
    finish_and_run(imageset, django_capture_on_commit_callbacks)
    assert ImageSetJob.objects.get(imageset=imageset).status == ImageSetJob.Status.FAILED
    monkeypatch.setattr(any_storage, "delete_dropbox", delete_dropbox)

    with django_capture_on_commit_callbacks(execute=True):
        imageset_job_retry(imageset_id=imageset.pk)

    job = ImageSetJob.objects.get(imageset=imageset)
    assert job.status == ImageSetJob.Status.SUCCEEDED
    assert job.skipped == SKIPPED
    assert (job.done, job.total) == (len(FILES), len(FILES))
    assert Image.objects.filter(imageset=imageset).count() == len(IMAGES)
    imageset.refresh_from_db()
    assert imageset.blobstorage_path == final_folder(imageset.title)


def test_a_failing_job_is_recorded_as_failed_and_a_retry_succeeds(
    any_storage, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    imageset = new_imageset(admin_user, files={"a.png": samples.png()}, storage=any_storage)

    def broken_list(prefix, **options):
        raise StorageError("listing is down")

    monkeypatch.setattr(any_storage, "list", broken_list)
    finish_and_run(imageset, django_capture_on_commit_callbacks)

    job = ImageSetJob.objects.get(imageset=imageset)
    assert job.status == ImageSetJob.Status.FAILED
    assert job.error == "StorageError: listing is down"
    assert job.date_done is not None
    assert Image.objects.filter(imageset=imageset).count() == 0
    assert ImageSet.objects.get(pk=imageset.pk).status == ImageSet.Status.FINISHED

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        imageset_job_retry(imageset_id=imageset.pk)
    job.refresh_from_db()
    assert job.status == ImageSetJob.Status.SUCCEEDED
    assert job.error is None
    assert Image.objects.filter(imageset=imageset).count() == 1


def test_the_task_reraises_a_failure_so_the_worker_records_it_too(local_storage, admin_user, monkeypatch):
    imageset = new_imageset(admin_user, files={"a.png": samples.png()}, storage=local_storage)
    services.imageset_finish(imageset_id=imageset.pk, queue=False)
    monkeypatch.setattr(
        local_storage, "copy", lambda source, destination: (_ for _ in ()).throw(StorageError("disk full"))
    )

    with pytest.raises(StorageError, match="disk full"):
        finish_imageset(imageset.pk)
    assert ImageSetJob.objects.get(imageset=imageset).error == "StorageError: disk full"


def test_running_the_task_again_after_success_changes_nothing(local_storage, admin_user):
    imageset = new_imageset(admin_user, files={"a.png": samples.png(), "b.txt": b"x"}, storage=local_storage)
    services.imageset_finish(imageset_id=imageset.pk, queue=False)
    finish_imageset(imageset.pk)
    job = ImageSetJob.objects.get(imageset=imageset)

    assert finish_imageset(imageset.pk) == {"status": "succeeded", "done": 2, "total": 2, "skipped": 1}

    again = ImageSetJob.objects.get(imageset=imageset)
    assert (again.attempts, again.date_done, again.skipped) == (job.attempts, job.date_done, ["b.txt"])
    assert Image.objects.filter(imageset=imageset).count() == 1


def test_the_task_of_a_deleted_set_does_nothing(db):
    assert finish_imageset(987654) is None


def test_an_empty_dropbox_finishes_with_no_images(local_storage, admin_user, django_capture_on_commit_callbacks):
    imageset = new_imageset(admin_user)

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    job = ImageSetJob.objects.get(imageset=imageset)
    assert (job.status, job.done, job.total, job.skipped) == ("succeeded", 0, 0, [])
    assert not local_storage.dropbox_exists(dropbox_name(imageset.title))


def test_progress_is_written_in_batches_not_per_file(
    local_storage, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(ingest, "PROGRESS_STEP", 4)
    monkeypatch.setattr(ingest, "PROGRESS_INTERVAL", 3600)
    writes = []
    set_progress = ImageSetJob.set_progress

    def recording(self, *, done=None, total=None):
        writes.append((done, total))
        set_progress(self, done=done, total=total)

    monkeypatch.setattr(ImageSetJob, "set_progress", recording)
    files = {f"img-{i:02}.png": samples.png(10 + i, 10) for i in range(10)}
    imageset = new_imageset(admin_user, files=files, storage=local_storage)

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    # Nothing listed yet, then every 4 files (the total grows as the listing is read), then the end.
    assert writes == [(0, 0), (4, 10), (8, 10), (10, 10)]


def test_files_in_subfolders_keep_their_relative_names(local_storage, admin_user, django_capture_on_commit_callbacks):
    imageset = new_imageset(admin_user)
    put_files(local_storage, imageset, {"day1/a.png": samples.png(), "day2/a.png": samples.png(20, 10)})

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    folder = final_folder(imageset.title)
    assert sorted(Image.objects.values_list("blobstorage_path", "width")) == [
        (f"{folder}/day1/a.png", 40),
        (f"{folder}/day2/a.png", 20),
    ]


# --- a real django-q2 worker ---------------------------------------------------------------


REPO_ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("IMAGESETS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKER_TIMEOUT = 60.0


def test_database_url() -> str:
    """The URL of the database this test runs on (the test database), for a subprocess."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


class _RedisBroker(RedisBroker):
    """django-q2's Redis broker on REDIS_URL, whatever this process's Q_CLUSTER says."""

    @staticmethod
    def get_connection(list_key=None):
        return redis.from_url(REDIS_URL)


class _OrmBroker(OrmBroker):
    @staticmethod
    def get_connection(list_key=None):
        return OrmQ.objects.using("default")


def _broker(kind: str, name: str):
    return _RedisBroker(list_key=name) if kind == "redis" else _OrmBroker(list_key=name)


@contextmanager
def qcluster(kind: str, name: str, media_root: str, log_path: Path):
    env = {
        **os.environ,
        "DJANGO_Q_SYNC": "0",
        "DJANGO_Q_NAME": name,
        "DJANGO_Q_WORKERS": "1",
        "DATABASE_URL": test_database_url(),
        "MEDIA_ROOT": media_root,
        "STORAGE_BACKEND": "local",
        "IMAGESET_COPY_WORKERS": "4",
    }
    env.pop("DATABASE_TEST_NAME", None)
    if kind == "redis":
        env["REDIS_URL"] = REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    with process_group([sys.executable, "manage.py", "qcluster"], env=env, log_path=log_path) as process:
        yield process


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["redis", "orm"])
def test_a_real_worker_process_finishes_the_set(kind, local_storage, admin_user, settings, monkeypatch, tmp_path):
    if kind == "redis":
        try:
            redis.from_url(REDIS_URL).ping()
        except redis.RedisError:
            # In CI the broker test must run: an unreachable Redis is a failure there.
            if os.environ.get("CI", "").lower() == "true":
                raise
            pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    name = f"labelhub-imagesets-{uuid.uuid4().hex[:10]}"
    broker = _broker(kind, name)
    imageset = new_imageset(admin_user, files=file_bytes(), storage=local_storage)
    real_async_task = jobs.queue.async_task
    # This test process runs tasks inline (DJANGO_Q_SYNC=1); send this one to the real cluster,
    # signed with the cluster's name (django-q2 salts its packages with Q_CLUSTER["name"]).
    monkeypatch.setattr(Conf, "PREFIX", name)
    monkeypatch.setattr(
        jobs.queue,
        "async_task",
        lambda func, *args, **kw: real_async_task(func, *args, sync=False, broker=broker, **kw),
    )
    log_path = tmp_path / "qcluster.log"

    try:
        with qcluster(kind, name, settings.MEDIA_ROOT, log_path) as process:
            services.imageset_finish(imageset_id=imageset.pk)  # autocommit: queued at once
            job = ImageSetJob.objects.get(imageset=imageset)
            assert job.task_id  # the broker accepted it
            deadline = time.monotonic() + WORKER_TIMEOUT
            while time.monotonic() < deadline and process.poll() is None:
                job.refresh_from_db()
                if job.is_finished:
                    break
                time.sleep(0.2)
    finally:
        if kind == "redis":
            broker.delete_queue()

    log = log_path.read_text(errors="replace")[-3000:]
    assert job.status == ImageSetJob.Status.SUCCEEDED, f"job {job.status} {job.error}; worker log:\n{log}"
    assert job.skipped == SKIPPED
    assert Image.objects.filter(imageset=imageset).count() == len(IMAGES)
    assert not local_storage.dropbox_exists(dropbox_name(imageset.title))
    imageset.refresh_from_db()
    assert imageset.blobstorage_path == final_folder(imageset.title)


def test_files_are_copied_while_later_listing_pages_are_still_being_read(
    any_storage, admin_user, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.IMAGESET_LIST_PAGE_SIZE = 2  # Azure: one listing request per two files
    monkeypatch.setattr(ingest, "INSERT_BATCH", 2)
    files = {f"img-{i:02}.png": samples.png(10 + i, 10) for i in range(12)}
    imageset = new_imageset(admin_user, files=files, storage=any_storage)
    events: list[tuple[str, str]] = []
    lock = threading.Lock()
    list_, copy = any_storage.list, any_storage.copy

    def listing(prefix, **options):
        for stored in list_(prefix, **options):
            with lock:
                events.append(("listed", stored.name))
            yield stored

    def copying(source, destination):
        with lock:
            events.append(("copy", source.rsplit("/", 1)[1]))
        copy(source, destination)

    monkeypatch.setattr(any_storage, "list", listing)
    monkeypatch.setattr(any_storage, "copy", copying)

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    assert ImageSetJob.objects.get(imageset=imageset).status == "succeeded"
    first_copy = next(i for i, (kind, _) in enumerate(events) if kind == "copy")
    last_listed = max(i for i, (kind, _) in enumerate(events) if kind == "listed")
    # Streamed: the first files are copied before the listing has reached the last ones.
    assert first_copy < last_listed
    assert sum(1 for kind, _ in events if kind == "copy") == len(files)
    assert Image.objects.filter(imageset=imageset).count() == len(files)


@pytest.mark.azurite
def test_a_file_uploaded_while_the_job_runs_is_registered_not_deleted_unseen(
    azure_storage, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    # Azure: a revoked dropbox SAS may keep working for a while after the set is finished.
    any_storage = azure_storage
    imageset = new_imageset(admin_user, files={"a.png": samples.png(10, 10)}, storage=any_storage)
    copy = any_storage.copy
    late = {"done": False}

    def copy_then_a_late_upload(source, destination):
        copy(source, destination)
        if not late["done"]:
            late["done"] = True  # lands after the first listing, before the dropbox is deleted
            put_files(any_storage, imageset, {"late.png": samples.png(12, 12)})

    monkeypatch.setattr(any_storage, "copy", copy_then_a_late_upload)

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    names = sorted(
        p.rsplit("/", 1)[1] for p in Image.objects.filter(imageset=imageset).values_list("blobstorage_path", flat=True)
    )
    assert names == ["a.png", "late.png"]
    job = ImageSetJob.objects.get(imageset=imageset)
    assert (job.status, job.done, job.total) == ("succeeded", 2, 2)


def test_on_local_storage_the_dropbox_is_listed_once(
    local_storage, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    # No upload can land in a local dropbox once its set is finished: no pass looks for late files.
    imageset = new_imageset(admin_user, files={"a.png": samples.png(10, 10)}, storage=local_storage)
    listings = []
    list_ = local_storage.list

    def listing(prefix, **options):
        listings.append(prefix)
        return list_(prefix, **options)

    monkeypatch.setattr(local_storage, "list", listing)

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    assert listings == [dropbox_name(imageset.title)]
    assert Image.objects.filter(imageset=imageset).count() == 1
