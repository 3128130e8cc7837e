import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.tests import samples
from imagesets.tests.conftest import new_imageset
from imagesets.tests.factories import ImageFactory, ImageSetFactory
from labelhub.storage import StorageError

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="staff@example.com", is_staff=True, is_superuser=True))
    return client


def run_action(client, action, pks):
    url = reverse("admin:imagesets_imageset_changelist")
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_set_list_shows_status_image_count_and_job(staff_client, django_assert_max_num_queries):
    for _ in range(3):
        imageset = ImageSetFactory(status="finished")
        ImageFactory.create_batch(2, imageset=imageset)
        ImageSetJob.objects.create(imageset=imageset, status="failed", error="boom", done=1, total=2)
    ImageSetFactory(title="fresh-set")

    with django_assert_max_num_queries(12):
        response = staff_client.get(reverse("admin:imagesets_imageset_changelist"))

    assert response.status_code == 200
    rows = response.context["cl"].result_list
    counts = {s.title: s._image_count for s in rows}
    assert counts.pop("fresh-set") == 0
    assert list(counts.values()) == [2, 2, 2]
    content = response.content.decode()
    assert "Failed" in content and "1/2" in content


def test_the_set_page_shows_the_job_read_only(staff_client):
    imageset = ImageSetFactory(status="finished")
    ImageSetJob.objects.create(imageset=imageset, status="succeeded", done=2, total=2, skipped=["notes.txt"])

    response = staff_client.get(reverse("admin:imagesets_imageset_change", args=[imageset.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "notes.txt" in content and "2/2" in content
    assert 'name="status"' not in content  # a transition goes through the actions


def test_the_finish_action_finishes_and_runs_the_job(staff_client, local_storage, django_capture_on_commit_callbacks):
    owner = UserFactory(is_staff=True)
    imageset = new_imageset(owner, files={"a.png": samples.png()}, storage=local_storage)
    done = ImageSetFactory(status="finished")

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(staff_client, "finish", [imageset.pk, done.pk])

    messages = messages_of(response)
    assert any("1 image set(s) finished" in m for m in messages)
    assert any(m.startswith(f"{done.title}: ") and "cannot become finished" in m for m in messages)
    assert ImageSetJob.objects.get(imageset=imageset).status == "succeeded"
    assert Image.objects.filter(imageset=imageset).count() == 1
    assert not ImageSetJob.objects.filter(imageset=done).exists()


def test_the_retry_action_reruns_only_failed_jobs(staff_client, local_storage, monkeypatch, django_capture_on_commit_callbacks):
    owner = UserFactory(is_staff=True)
    imageset = new_imageset(owner, files={"a.png": samples.png()}, storage=local_storage)
    copy = local_storage.copy
    monkeypatch.setattr(local_storage, "copy", lambda s, d: (_ for _ in ()).throw(StorageError("busy")))
    with django_capture_on_commit_callbacks(execute=True):
        run_action(staff_client, "finish", [imageset.pk])
    assert ImageSetJob.objects.get(imageset=imageset).status == "failed"
    monkeypatch.setattr(local_storage, "copy", copy)
    never_run = ImageSetFactory(status="finished")

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(staff_client, "retry_failed_job", [imageset.pk, never_run.pk])

    messages = messages_of(response)
    assert any("1 job(s) queued again" in m for m in messages)
    assert any(m.startswith(f"{never_run.title}: Only a failed job") for m in messages)
    assert ImageSetJob.objects.get(imageset=imageset).status == "succeeded"


def test_the_image_list_filters_by_set_and_filetype(staff_client, django_assert_max_num_queries):
    imageset = ImageSetFactory(status="finished")
    ImageFactory.create_batch(3, imageset=imageset)
    ImageFactory(filetype="JPEG", width=64, height=48)
    url = reverse("admin:imagesets_image_changelist")

    with django_assert_max_num_queries(12):
        response = staff_client.get(url)
    assert response.status_code == 200
    assert "200×200" in response.content.decode()

    assert len(staff_client.get(url, {"imageset__id__exact": imageset.pk}).context["cl"].result_list) == 3
    jpegs = staff_client.get(url, {"filetype": "JPEG"}).context["cl"].result_list
    assert [(i.width, i.height) for i in jpegs] == [(64, 48)]


def test_sets_and_images_are_not_added_by_hand(staff_client):
    assert staff_client.get(reverse("admin:imagesets_imageset_add")).status_code == 403
    assert staff_client.get(reverse("admin:imagesets_image_add")).status_code == 403
    assert ImageSet.objects.count() == 0
