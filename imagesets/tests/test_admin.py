import html
import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from campaigns.models import Campaign, CampaignImage
from campaigns.tests.conftest import image_ids
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory
from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.tests import samples
from imagesets.tests.conftest import imageset_state, new_imageset
from imagesets.tests.factories import ImageFactory, ImageSetFactory
from integrations.storage import StorageError

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
    counts = {s.title: s.image_count for s in rows}
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


def test_the_retry_action_reruns_only_failed_jobs(
    staff_client, local_storage, monkeypatch, django_capture_on_commit_callbacks
):
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
    assert any(m.startswith(f"{never_run.title}: Only a failed or stuck job") for m in messages)
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


def test_images_are_not_added_by_hand(staff_client):
    # Images come from finished sets; sets are added through the service (below).
    assert staff_client.get(reverse("admin:imagesets_image_add")).status_code == 403
    assert Image.objects.count() == 0


# --- creating a set and uploading into its dropbox ------------------------------------


def dropbox_url_on(page: str) -> str:
    return re.search(r'id="lh-dropbox-url" value="([^"]+)"', page).group(1)


def test_the_add_page_creates_a_set_with_its_dropbox_and_shows_its_upload_url(staff_client, local_storage):
    response = staff_client.post(
        reverse("admin:imagesets_imageset_add"), {"title": "new-set", "metadata": '{"country": "Nederland"}'}
    )

    imageset = ImageSet.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:imagesets_imageset_change", args=[imageset.pk])
    assert (imageset.title, imageset.status, imageset.metadata) == ("new-set", "created", {"country": "Nederland"})
    assert imageset.created_by.email == "staff@example.com"
    assert local_storage.dropbox_exists("dropbox-new-set")

    page = staff_client.get(response["Location"]).content.decode()
    url = html.unescape(dropbox_url_on(page))
    assert url.startswith("http://testserver/api/v1/dropbox/")
    assert 'data-copy-target="lh-dropbox-url"' in page and 'id="lh-files"' in page
    expires = re.search(r'id="lh-dropbox-expires" datetime="([^"]+)"', page).group(1)
    expected = timezone.now() + timedelta(days=settings.IMAGESET_UPLOAD_TOKEN_VALID_DAYS)
    assert abs(datetime.fromisoformat(expires) - expected) < timedelta(minutes=1)
    # The URL shown takes the same PUT as any client sends.
    put = staff_client.put(
        f"{urlsplit(url).path}/photo.png", data=samples.png(), content_type="image/png", HTTP_X_MS_BLOB_TYPE="BlockBlob"
    )
    assert put.status_code == 201
    assert [f.name for f in local_storage.list("dropbox-new-set")] == ["photo.png"]


@pytest.mark.parametrize(
    "title, metadata, field, reason",
    [
        ("Not A Name", "", "title", "lowercase"),
        ("taken", "", "title", "already exists"),
        ("fine-title", "[1, 2]", "metadata", "JSON object"),
        ("fine-title", "{not json", "metadata", "valid JSON"),
        ("", "", "title", "required"),
    ],
)
def test_the_add_page_rejects_bad_input_and_stores_nothing(staff_client, local_storage, title, metadata, field, reason):
    ImageSetFactory(title="taken")
    before = imageset_state()

    response = staff_client.post(reverse("admin:imagesets_imageset_add"), {"title": title, "metadata": metadata})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert reason.lower() in " ".join(errors[field]).lower(), errors
    assert imageset_state() == before
    assert [p.name for p in Path(settings.MEDIA_ROOT).iterdir() if p.name.startswith("dropbox-")] == []


def test_a_storage_failure_while_creating_keeps_nothing(staff_client, local_storage, monkeypatch):
    def broken(name):
        raise StorageError("disk full")

    monkeypatch.setattr(local_storage, "create_dropbox", broken)

    response = staff_client.post(reverse("admin:imagesets_imageset_add"), {"title": "new-set"})

    assert response.status_code == 200
    assert "disk full" in " ".join(response.context["form"].non_field_errors())
    assert ImageSet.objects.count() == 0


def test_a_finished_set_shows_no_dropbox_and_no_upload_box(staff_client):
    imageset = ImageSetFactory(status="finished", blobstorage_path="images/uploads/x")

    page = staff_client.get(reverse("admin:imagesets_imageset_change", args=[imageset.pk])).content.decode()

    assert 'id="lh-dropbox-url"' not in page and 'id="lh-finish"' not in page
    assert 'id="lh-job-status"' in page


# --- the job: status JSON, finish and retry buttons ----------------------------------


def test_the_status_json_reports_the_set_and_its_job(staff_client):
    imageset = ImageSetFactory(status="finished")
    ImageFactory.create_batch(2, imageset=imageset)
    ImageSetJob.objects.create(imageset=imageset, status="running", done=2, total=3, skipped=["notes.txt"])

    response = staff_client.get(reverse("admin:imagesets_imageset_status", args=[imageset.pk]))

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "finished" and body["image_count"] == 2
    assert body["job"]["status"] == "running"
    assert body["job"]["progress"] == {"done": 2, "total": 3}
    assert body["job"]["skipped"] == ["notes.txt"] and body["job"]["error"] is None
    assert staff_client.get(reverse("admin:imagesets_imageset_status", args=[imageset.pk + 1])).status_code == 404
    assert staff_client.post(reverse("admin:imagesets_imageset_status", args=[imageset.pk])).status_code == 405


def test_the_status_json_of_a_set_without_job_has_no_job(staff_client):
    imageset = ImageSetFactory()
    body = staff_client.get(reverse("admin:imagesets_imageset_status", args=[imageset.pk])).json()
    assert body == {
        "imageset_id": imageset.pk,
        "title": imageset.title,
        "status": "created",
        "image_count": 0,
        "job": None,
        "job_took": None,
        "may_retry": False,
    }


def test_the_finish_button_finishes_the_set_and_its_job_runs(
    staff_client, local_storage, django_capture_on_commit_callbacks
):
    imageset = new_imageset(
        UserFactory(is_staff=True), files={"a.png": samples.png(), "b.txt": b"text"}, storage=local_storage
    )
    url = reverse("admin:imagesets_imageset_finish", args=[imageset.pk])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(url, follow=True)

    assert len(callbacks) == 1
    assert response.redirect_chain[-1][0] == reverse("admin:imagesets_imageset_change", args=[imageset.pk])
    assert any("finished" in m for m in messages_of(response))
    job = ImageSetJob.objects.get(imageset=imageset)
    assert (job.status, job.skipped) == ("succeeded", ["b.txt"])
    assert Image.objects.filter(imageset=imageset).count() == 1
    # The page rendered before the commit showed the job queued; it now shows it done.
    assert 'id="lh-job-status" class="lh-status lh-status-queued">queued<' in response.content.decode()
    page = staff_client.get(reverse("admin:imagesets_imageset_change", args=[imageset.pk])).content.decode()
    assert 'id="lh-job-status" class="lh-status lh-status-succeeded">succeeded<' in page
    assert 'id="lh-job-skipped">b.txt<' in page

    before = imageset_state()
    again = staff_client.post(url, follow=True)
    assert any("cannot become finished" in m for m in messages_of(again))
    assert imageset_state() == before


def test_the_retry_button_requeues_only_a_failed_job(staff_client, django_capture_on_commit_callbacks):
    failed = ImageSetFactory(status="finished")
    ImageSetJob.objects.create(imageset=failed, status="failed", error="boom")
    succeeded = ImageSetFactory(status="finished")
    ImageSetJob.objects.create(imageset=succeeded, status="succeeded")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(reverse("admin:imagesets_imageset_retry", args=[failed.pk]), follow=True)
    assert len(callbacks) == 1
    assert ImageSetJob.objects.get(imageset=failed).status == "queued"
    assert any("queued again" in m for m in messages_of(response))

    before = imageset_state()
    refused = staff_client.post(reverse("admin:imagesets_imageset_retry", args=[succeeded.pk]), follow=True)
    assert any("Only a failed or stuck job can be retried" in m for m in messages_of(refused))
    assert imageset_state() == before


def test_a_stuck_job_shows_the_retry_button_and_retrying_it_finishes_the_set(
    staff_client, local_storage, admin_user, django_capture_on_commit_callbacks
):
    imageset = new_imageset(admin_user, files={"a.png": samples.png()}, storage=local_storage)
    ImageSet.objects.filter(pk=imageset.pk).update(status="finished")
    # Committed as queued, but the broker never got it (it was down).
    ImageSetJob.objects.create(
        imageset=imageset,
        status="queued",
        enqueued_at=None,
        error="The job broker did not take the job (ConnectionError: refused)",
    )
    running = ImageSetFactory(status="finished")
    ImageSetJob.objects.create(
        imageset=running, status="running", heartbeat_at=timezone.now(), date_started=timezone.now()
    )

    page = staff_client.get(reverse("admin:imagesets_imageset_change", args=[imageset.pk])).content.decode()
    assert re.search(r'<form[^>]*id="lh-retry-form"(?![^>]*hidden)', page)
    busy = staff_client.get(reverse("admin:imagesets_imageset_change", args=[running.pk])).content.decode()
    assert re.search(r'<form[^>]*id="lh-retry-form"[^>]*hidden', busy)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:imagesets_imageset_retry", args=[imageset.pk]), follow=True)

    assert any("queued again" in m for m in messages_of(response))
    assert ImageSetJob.objects.get(imageset=imageset).status == "succeeded"
    assert Image.objects.filter(imageset=imageset).count() == 1


def test_finish_and_retry_take_only_post(staff_client):
    imageset = ImageSetFactory()
    for name in ("finish", "retry"):
        assert staff_client.get(reverse(f"admin:imagesets_imageset_{name}", args=[imageset.pk])).status_code == 405
    assert staff_client.post(reverse("admin:imagesets_imageset_finish", args=[imageset.pk + 1])).status_code == 404
    assert ImageSet.objects.get().status == "created"


# --- images: thumbnails, filters, "Add to campaign…" -----------------------------------


def test_image_thumbnails_are_derived_copies_sized_as_shown(staff_client, local_storage):
    image = ImageFactory(width=400, height=100)

    page = staff_client.get(reverse("admin:imagesets_image_changelist")).content.decode()

    # The thumbnail page redirects to a small stored copy (imagesets/tests/test_derived_admin.py).
    thumbnail = reverse("admin:imagesets_image_thumbnail", args=[image.pk])
    tag = re.search(rf'<img src="{thumbnail}" class="lh-thumb"[^>]*>', page)
    assert tag is not None
    assert 'width="80" height="20"' in tag.group(0)
    assert "400×100" in page and "4.4\xa0KB" in page


def test_the_image_list_takes_the_same_queries_for_3_and_30_images(
    staff_client, django_assert_num_queries, django_assert_max_num_queries
):
    campaign = CampaignFactory()

    def add_images(n):
        for image in ImageFactory.create_batch(n):
            CampaignImageFactory(campaign=campaign, image=image)

    add_images(3)
    with django_assert_max_num_queries(12) as captured:
        assert staff_client.get(reverse("admin:imagesets_image_changelist")).status_code == 200
    few = len(captured)
    add_images(27)
    with django_assert_num_queries(few):
        assert staff_client.get(reverse("admin:imagesets_image_changelist")).status_code == 200


def test_the_image_list_filters_by_campaign_and_type(staff_client):
    campaign = CampaignFactory(title="filter-me")
    inside = ImageFactory(type="drone")
    CampaignImageFactory(campaign=campaign, image=inside)
    ImageFactory(type="street")
    url = reverse("admin:imagesets_image_changelist")

    response = staff_client.get(url, {"campaign": campaign.pk})
    assert list(response.context["cl"].result_list) == [inside]
    assert "filter-me" in response.content.decode()
    assert [i.type for i in staff_client.get(url, {"type": "street"}).context["cl"].result_list] == ["street"]
    assert list(staff_client.get(url, {"campaign": "x"}).context["cl"].result_list) == []  # not every image


def run_image_action(client, data, query=""):
    return client.post(reverse("admin:imagesets_image_changelist") + query, data)


def test_add_to_campaign_asks_for_a_created_campaign_first(staff_client):
    images = ImageFactory.create_batch(2)
    created = CampaignFactory(title="open-one")
    CampaignFactory(title="running-one", status=Campaign.Status.ACTIVE)

    response = run_image_action(staff_client, {"action": "add_to_campaign", "_selected_action": [i.pk for i in images]})

    assert response.status_code == 200
    page = response.content.decode()
    assert "2 image(s) selected" in page
    choices = [c for c, _ in response.context["form"].fields["campaign"].choices]
    assert [c.value for c in choices] == [created.pk]
    for image in images:
        assert f'name="_selected_action" value="{image.pk}"' in page
    assert CampaignImage.objects.count() == 0


def test_add_to_campaign_adds_the_selected_images_and_goes_to_the_campaign(staff_client):
    images = ImageFactory.create_batch(3)
    campaign = CampaignFactory()
    CampaignImageFactory(campaign=campaign, image=images[0])

    response = run_image_action(
        staff_client,
        {
            "action": "add_to_campaign",
            "_selected_action": [i.pk for i in images[:2]],
            "campaign": campaign.pk,
            "apply": "1",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    assert image_ids(campaign) == [images[0].pk, images[1].pk]
    shown = messages_of(staff_client.get(response["Location"]))
    assert any("Added 1 image(s)" in m and "1 already in it" in m and "now holds 2" in m for m in shown)


def test_add_to_campaign_with_select_all_takes_every_filtered_image(staff_client):
    imageset = ImageSetFactory(status="finished")
    in_set = ImageFactory.create_batch(3, imageset=imageset)
    ImageFactory()  # filtered out
    campaign = CampaignFactory()

    run_image_action(
        staff_client,
        {
            "action": "add_to_campaign",
            "select_across": "1",
            "_selected_action": [in_set[0].pk],
            "campaign": campaign.pk,
            "apply": "1",
        },
        query=f"?imageset__id__exact={imageset.pk}",
    )

    assert image_ids(campaign) == sorted(i.pk for i in in_set)


def test_add_to_campaign_refuses_a_campaign_that_is_no_longer_created(staff_client):
    image = ImageFactory()
    active = CampaignFactory(status=Campaign.Status.ACTIVE)

    response = run_image_action(
        staff_client,
        {
            "action": "add_to_campaign",
            "_selected_action": [image.pk],
            "campaign": active.pk,
            "apply": "1",
        },
    )

    assert response.status_code == 200
    assert "campaign" in response.context["form"].errors
    assert CampaignImage.objects.count() == 0


# --- who may use the image-set admin ------------------------------------------------


def image_set_admin_requests(imageset, image):
    return [
        ("get", reverse("admin:imagesets_imageset_changelist"), None),
        ("get", reverse("admin:imagesets_imageset_add"), None),
        ("post", reverse("admin:imagesets_imageset_add"), {"title": "sneaky"}),
        ("get", reverse("admin:imagesets_imageset_change", args=[imageset.pk]), None),
        ("get", reverse("admin:imagesets_imageset_status", args=[imageset.pk]), None),
        ("post", reverse("admin:imagesets_imageset_finish", args=[imageset.pk]), None),
        ("post", reverse("admin:imagesets_imageset_retry", args=[imageset.pk]), None),
        (
            "post",
            reverse("admin:imagesets_imageset_changelist"),
            {"action": "finish", "_selected_action": [imageset.pk]},
        ),
        ("get", reverse("admin:imagesets_image_changelist"), None),
        ("get", reverse("admin:imagesets_image_change", args=[image.pk]), None),
        (
            "post",
            reverse("admin:imagesets_image_changelist"),
            {
                "action": "add_to_campaign",
                "_selected_action": [image.pk],
                "campaign": CampaignFactory().pk,
                "apply": "1",
            },
        ),
    ]


@pytest.mark.parametrize("who", ["anonymous", "labeler"])
def test_labelers_and_anonymous_users_get_nothing(client, local_storage, who):
    imageset = new_imageset(UserFactory(is_staff=True), files={"a.png": samples.png()}, storage=local_storage)
    image = ImageFactory()
    if who == "labeler":
        client.force_login(UserFactory(email="agency@example.com"))
    before = imageset_state(), list(CampaignImage.objects.values_list("pk"))

    for method, url, data in image_set_admin_requests(imageset, image):
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url
        assert "lh-dropbox-url" not in response.content.decode()

    assert (imageset_state(), list(CampaignImage.objects.values_list("pk"))) == before


def test_an_image_admin_uses_the_pages_without_django_permissions(client, local_storage):
    client.force_login(UserFactory(email="imageadmin@example.com", is_staff=True, is_superuser=False))
    imageset = ImageSetFactory()
    image = ImageFactory()

    assert client.get(reverse("admin:index")).status_code == 200
    for method, url, _data in image_set_admin_requests(imageset, image)[:7]:
        if method == "get":
            assert client.get(url).status_code == 200, url
    assert client.post(reverse("admin:imagesets_imageset_add"), {"title": "by-image-admin"}).status_code == 302
    # Deleting stays under Django's permissions.
    assert client.get(reverse("admin:imagesets_imageset_delete", args=[imageset.pk])).status_code == 403


@pytest.mark.azurite
def test_with_azure_storage_the_set_page_shows_a_sas_url_the_page_can_put_to(staff_client, azure_storage):
    response = staff_client.post(reverse("admin:imagesets_imageset_add"), {"title": "azure-set"}, follow=True)

    page = response.content.decode()
    url = html.unescape(dropbox_url_on(page))
    parts = urlsplit(url)
    assert parts.path.endswith("/dropbox-azure-set") and "sig=" in parts.query
    assert "CORS rule" in page
    # The request the page's script sends: PUT <path>/<name>?<query>, x-ms-blob-type: BlockBlob.
    put = requests.put(
        f"{parts.scheme}://{parts.netloc}{parts.path}/photo.png?{parts.query}",
        data=samples.png(),
        headers={"x-ms-blob-type": "BlockBlob"},
        timeout=10,
    )
    assert put.status_code == 201, put.text
    assert [f.name for f in azure_storage.list("dropbox-azure-set")] == ["photo.png"]


# --- odd values: a normal page, a 404 or a form error, never a 500 ------------------------

# '²' passes str.isdigit() but not int(); '١' is an Arabic-Indic one; the last two are beyond 64 bits.
ODD_IDS = ["²", "1²", "١", "0", str(2**63), str(2**64)]
# JSON that neither database stores or that the page cannot show again.
UNSTORABLE_JSON = {
    "nul": '{"note": "a\\u0000b"}',
    "nul-in-a-key": '{"a\\u0000": 1}',
    "lone-surrogate": '{"note": "\\ud800"}',
    "nested-beyond-the-parser": "[" * 5000 + "]" * 5000,
    "nested-beyond-the-limit": '{"a": ' + "[" * 40 + "]" * 40 + "}",
    "not-an-object": "[1]",
}


@pytest.fixture
def plain_client(staff_client):
    """The admin as a browser sees it: a 500 is an answer, not an exception in the test."""
    staff_client.raise_request_exception = False
    return staff_client


@pytest.mark.parametrize("odd", ODD_IDS)
def test_odd_ids_in_image_set_urls_are_not_found(plain_client, odd):
    imageset = ImageSetFactory()
    before = imageset_state()

    for method, url in [
        ("get", f"/admin/imagesets/imageset/{odd}/change/"),
        ("get", f"/admin/imagesets/imageset/{odd}/status/"),
        ("post", f"/admin/imagesets/imageset/{odd}/finish/"),
        ("post", f"/admin/imagesets/imageset/{odd}/retry/"),
        ("get", f"/admin/imagesets/image/{odd}/change/"),
    ]:
        # A 404, or Django's redirect to "… doesn't exist" on the admin index (via …/change/).
        response = getattr(plain_client, method)(url, follow=True)
        assert response.status_code in (200, 404), (url, response.status_code)
        if response.status_code == 200:
            assert response.redirect_chain[-1][0] == "/admin/", (url, response.redirect_chain)
            assert any("doesn’t exist" in message for message in messages_of(response)), url
    assert imageset_state() == before
    assert plain_client.get(f"/admin/imagesets/imageset/{imageset.pk}/status/").status_code == 200


@pytest.mark.parametrize("odd", ODD_IDS)
def test_an_odd_campaign_filter_value_lists_no_image_and_says_why(plain_client, odd):
    CampaignImageFactory()  # the filter is offered (and applied) once a campaign exists
    response = plain_client.get(reverse("admin:imagesets_image_changelist"), {"campaign": odd})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert [str(m) for m in response.context["messages"]] == [f"No campaign has the id “{odd}”, so no image is listed."]


@pytest.mark.parametrize("odd", ODD_IDS)
@pytest.mark.parametrize(
    "changelist, action",
    [("admin:imagesets_imageset_changelist", "finish"), ("admin:imagesets_image_changelist", "add_to_campaign")],
)
def test_an_action_on_an_odd_selection_does_nothing_and_says_so(plain_client, odd, changelist, action):
    imageset = ImageSetFactory()
    ImageFactory(imageset=imageset)
    campaign = CampaignFactory(status=Campaign.Status.CREATED)
    before = imageset_state(), CampaignImage.objects.count()

    response = plain_client.post(
        reverse(changelist),
        {"action": action, "_selected_action": [str(imageset.pk), odd], "apply": "1", "campaign": campaign.pk},
        follow=True,
    )

    assert response.status_code == 200
    assert "The selection holds an invalid id; nothing was done." in messages_of(response)
    assert (imageset_state(), CampaignImage.objects.count()) == before


@pytest.mark.parametrize("value", UNSTORABLE_JSON.values(), ids=UNSTORABLE_JSON.keys())
def test_metadata_that_cannot_be_stored_or_shown_is_a_form_error(plain_client, local_storage, value):
    imageset = ImageSetFactory(metadata={"country": "Nederland"})
    image = ImageFactory(imageset=imageset, metadata={"camera": "x"})
    before = imageset_state(), list(Image.objects.values_list("metadata", flat=True))

    pages = [
        plain_client.post(reverse("admin:imagesets_imageset_change", args=[imageset.pk]), {"metadata": value}),
        plain_client.post(reverse("admin:imagesets_image_change", args=[image.pk]), {"metadata": value}),
        plain_client.post(reverse("admin:imagesets_imageset_add"), {"title": "new-set", "metadata": value}),
    ]

    for page in pages:
        assert page.status_code == 200
        form = page.context["adminform"].form if "adminform" in page.context else page.context["form"]
        assert form.errors["metadata"], form.errors
        # The page shows the text as typed, to be corrected.
        assert html.escape(value[:200]) in page.content.decode()
    assert (imageset_state(), list(Image.objects.values_list("metadata", flat=True))) == before
    assert [p.name for p in Path(settings.MEDIA_ROOT).iterdir() if p.name.startswith("dropbox-")] == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's jsonb never holds a lone surrogate")
def test_a_stored_lone_surrogate_is_shown_escaped_on_the_set_page(plain_client):
    # Stored before the form refused it: SQLite keeps it as the escape \ud800.
    imageset = ImageSetFactory()
    ImageSet.objects.filter(pk=imageset.pk).update(metadata={"note": "\ud800"})

    page = plain_client.get(reverse("admin:imagesets_imageset_change", args=[imageset.pk]))

    assert page.status_code == 200
    assert "\\ud800" in page.content.decode()


def test_a_finished_sets_page_says_its_status_and_job_only_in_the_live_panel(staff_client):
    imageset = ImageSetFactory(status="finished")
    ImageFactory(imageset=imageset)
    ImageSetJob.objects.create(imageset=imageset, status="succeeded", done=1, total=1)

    page = staff_client.get(reverse("admin:imagesets_imageset_change", args=[imageset.pk])).content.decode()

    # Once the fields said "Images 0, Job Queued" under a panel saying "1 image, succeeded".
    for field in ("status", "image_count", "job_status", "job_progress", "job_error", "job_skipped", "job_dates"):
        assert f'class="form-row field-{field}' not in page, field
    assert 'id="lh-image-count">1<' in page
    assert 'id="lh-job-status" class="lh-status lh-status-succeeded">succeeded<' in page


def test_deleting_a_set_asks_first_and_deletes_nothing_until_confirmed(staff_client):
    imageset = ImageSetFactory(title="to-delete")

    page = staff_client.get(reverse("admin:imagesets_imageset_delete", args=[imageset.pk])).content.decode()

    assert 'Are you sure you want to delete the image set "to-delete"?' in html.unescape(page)
    assert "Its dropbox goes with it: the upload URLs stop working" in page
    assert '<input type="submit" value="Yes, I’m sure">' in html.unescape(page)
    assert ImageSet.objects.filter(pk=imageset.pk).exists()
    staff_client.post(reverse("admin:imagesets_imageset_delete", args=[imageset.pk]), {"post": "yes"})
    assert not ImageSet.objects.filter(pk=imageset.pk).exists()
