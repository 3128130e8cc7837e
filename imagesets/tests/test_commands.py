import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.naming import dropbox_name, final_folder
from imagesets.services import imageset_finish
from imagesets.tests import samples
from imagesets.tests.conftest import new_imageset
from integrations.storage import StorageError
from testing.azurite import free_port


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "upload"
    for name, (data, _) in samples.dropbox_files().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


# --- upload_images ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_upload_images_puts_a_whole_folder_over_http_and_finishes_the_set(
    local_storage, live_server, admin_user, folder
):
    imageset = new_imageset(admin_user)

    out, err = run(
        "upload_images", str(imageset.pk), str(folder), "--finish", "--workers", "4", "--base-url", live_server.url
    )

    files = samples.dropbox_files()
    assert f"Uploaded {len(files)} of {len(files)} file(s)" in out
    assert "finished" in out and "FAILED" not in err
    imageset.refresh_from_db()
    assert imageset.status == ImageSet.Status.FINISHED
    job = ImageSetJob.objects.get(imageset=imageset)
    assert job.status == ImageSetJob.Status.SUCCEEDED
    assert job.skipped == ["empty.png", "notes.txt"]
    folder_path = final_folder(imageset.title)
    expected = {f"{folder_path}/{name}": facts for name, (_, facts) in files.items() if facts}
    got = {i.blobstorage_path: (i.filetype, i.width, i.height) for i in Image.objects.filter(imageset=imageset)}
    assert got == expected
    with local_storage.open(f"{folder_path}/sub/straße café ü.png") as stream:
        assert stream.read() == files["sub/straße café ü.png"][0]
    assert not local_storage.dropbox_exists(dropbox_name(imageset.title))


@pytest.mark.azurite
@pytest.mark.django_db(transaction=True)
def test_upload_images_puts_to_an_azure_dropbox_with_the_same_plain_http(azure_storage, admin_user, folder):
    imageset = new_imageset(admin_user)

    out, err = run("upload_images", str(imageset.pk), str(folder), "--finish", "--no-progress")

    assert "FAILED" not in err
    files = samples.dropbox_files()
    job = ImageSetJob.objects.get(imageset=imageset)
    assert (job.status, job.total, job.skipped) == ("succeeded", len(files), ["empty.png", "notes.txt"])
    image = Image.objects.get(blobstorage_path=f"{final_folder(imageset.title)}/sub/straße café ü.png")
    assert (image.filetype, image.width, image.height, image.content_type) == ("PNG", 12, 13, "image/png")


@pytest.mark.django_db(transaction=True)
def test_upload_images_reports_every_failure_exits_non_zero_and_does_not_finish(
    local_storage, live_server, admin_user, tmp_path, settings
):
    settings.LOCAL_DROPBOX_MAX_FILE_SIZE = 1000
    (tmp_path / "ok.png").write_bytes(samples.png())
    (tmp_path / "big-1.bin").write_bytes(b"x" * 1001)
    (tmp_path / "big-2.bin").write_bytes(b"x" * 5000)
    imageset = new_imageset(admin_user)

    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="2 of 3 file"):
        call_command(
            "upload_images",
            imageset.pk,
            str(tmp_path),
            "--finish",
            "--base-url",
            live_server.url,
            stdout=out,
            stderr=err,
        )

    assert "FAILED big-1.bin: HTTP 413" in err.getvalue()
    assert "FAILED big-2.bin: HTTP 413" in err.getvalue()
    assert [f.name for f in local_storage.list(dropbox_name(imageset.title))] == ["ok.png"]
    imageset.refresh_from_db()
    assert imageset.status == ImageSet.Status.CREATED


@pytest.mark.django_db
def test_upload_images_reports_an_unreachable_server(local_storage, admin_user, tmp_path):
    (tmp_path / "a.png").write_bytes(samples.png())
    imageset = new_imageset(admin_user)
    err = StringIO()

    with pytest.raises(CommandError, match="1 of 1 file"):
        call_command(
            "upload_images",
            imageset.pk,
            str(tmp_path),
            "--retries",
            "0",
            "--base-url",
            f"http://127.0.0.1:{free_port()}",
            stdout=StringIO(),
            stderr=err,
        )
    assert "FAILED a.png: ConnectionError" in err.getvalue()


@pytest.mark.django_db
def test_upload_images_refuses_a_finished_or_unknown_set_and_a_missing_folder(local_storage, admin_user, tmp_path):
    imageset = new_imageset(admin_user)
    with pytest.raises(CommandError, match="not a folder"):
        run("upload_images", str(imageset.pk), str(tmp_path / "missing"))
    imageset_finish(imageset_id=imageset.pk, queue=False)
    with pytest.raises(CommandError, match="finished"):
        run("upload_images", str(imageset.pk), str(tmp_path))
    with pytest.raises(CommandError, match="does not exist"):
        run("upload_images", "424242", str(tmp_path))


# --- finish_imageset ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_finish_imageset_finishes_and_runs_the_job_inline(local_storage, admin_user):
    imageset = new_imageset(admin_user, files={"a.png": samples.png(), "b.txt": b"b"}, storage=local_storage)

    out, _ = run("finish_imageset", str(imageset.pk))

    job = json.loads(out)
    assert job["status"] == "succeeded"
    assert job["progress"] == {"done": 2, "total": 2}
    assert job["skipped"] == ["b.txt"]
    assert Image.objects.filter(imageset=imageset).count() == 1
    assert ImageSet.objects.get(pk=imageset.pk).status == ImageSet.Status.FINISHED


@pytest.mark.django_db
def test_finish_imageset_retries_a_failed_job_only_with_retry(local_storage, admin_user, monkeypatch):
    imageset = new_imageset(admin_user, files={"a.png": samples.png()}, storage=local_storage)
    copy = local_storage.copy
    monkeypatch.setattr(local_storage, "copy", lambda s, d: (_ for _ in ()).throw(StorageError("throttled")))

    out = StringIO()
    with pytest.raises(CommandError, match="failed: throttled"):
        call_command("finish_imageset", imageset.pk, stdout=out, stderr=StringIO())
    assert json.loads(out.getvalue())["status"] == "failed"
    monkeypatch.setattr(local_storage, "copy", copy)

    with pytest.raises(CommandError, match="--retry"):
        run("finish_imageset", str(imageset.pk))
    out, _ = run("finish_imageset", str(imageset.pk), "--retry")

    assert json.loads(out)["status"] == "succeeded"
    assert Image.objects.filter(imageset=imageset).count() == 1


@pytest.mark.django_db
def test_finish_imageset_reruns_a_job_left_running_only_with_force(local_storage, admin_user):
    imageset = new_imageset(admin_user, files={"a.png": samples.png()}, storage=local_storage)
    imageset_finish(imageset_id=imageset.pk, queue=False)
    ImageSetJob.objects.filter(imageset=imageset).update(status="running")

    with pytest.raises(CommandError, match="--force"):
        run("finish_imageset", str(imageset.pk))
    out, _ = run("finish_imageset", str(imageset.pk), "--force")

    assert json.loads(out)["status"] == "succeeded"


@pytest.mark.django_db
def test_finish_imageset_of_a_succeeded_job_changes_nothing(local_storage, admin_user):
    imageset = new_imageset(admin_user, files={"a.png": samples.png()}, storage=local_storage)
    run("finish_imageset", str(imageset.pk))

    out, _ = run("finish_imageset", str(imageset.pk))

    assert json.loads(out)["status"] == "succeeded"
    assert ImageSetJob.objects.get(imageset=imageset).attempts == 1
    with pytest.raises(CommandError, match="Only a failed or stuck job"):
        run("finish_imageset", str(imageset.pk), "--retry")


@pytest.mark.django_db
def test_finish_imageset_of_an_unknown_set_fails(db):
    with pytest.raises(CommandError, match="does not exist"):
        run("finish_imageset", "424242")
