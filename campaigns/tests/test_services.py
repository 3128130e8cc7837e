from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiKey, User
from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from campaigns.models import BoundingBox, Campaign, CampaignImage, CampaignJob, CampaignLabeler, Submission
from campaigns.selectors import image_objects_for_campaigns, labeler_can_read_image
from campaigns.services import (
    campaign_create,
    campaign_export_queue,
    campaign_export_retry,
    campaign_set_status,
)
from campaigns.tests.factories import (
    CampaignFactory,
    CampaignImageFactory,
    CampaignLabelerFactory,
    add_images_from_body,
    box,
    create_campaign_from_body,
    make_campaign,
    new_object,
    objects_body,
    progress,
    replace_objects_from_body,
    set_status_from_body,
)
from imagesets.tests.factories import ImageFactory
from labelhub.exceptions import BadRequest, Conflict, InvalidName, NotFound, Unprocessable

pytestmark = pytest.mark.django_db

Status = Campaign.Status


def image_ids(campaign):
    return list(campaign.campaign_images.order_by("image_id").values_list("image_id", flat=True))


def current_labels(campaign, image_id):
    return list(
        BoundingBox.objects.current()
        .filter(campaign_image__campaign=campaign, campaign_image__image_id=image_id)
        .order_by("position")
        .values_list("label", flat=True)
    )


def stored_state():
    """Everything objects_replace and campaign_add_images may write."""
    return (
        Submission.objects.count(),
        BoundingBox.objects.count(),
        list(CampaignImage.objects.order_by("pk").values_list("pk", "labeled", "current_submission_id")),
        list(Campaign.objects.order_by("pk").values_list("pk", "status", "date_completed")),
    )


# --- campaign_create -------------------------------------------------------------


def test_creating_a_campaign_creates_the_labeler_with_a_new_key_and_secret(admin_user):
    campaign, issued = campaign_create(
        title="campaign-26-10-2020",
        labeler_email="new_user@example.com",
        metadata={"to_be_used_for": "New train set"},
        created_by=admin_user,
    )
    labeler = User.objects.get(email="new_user@example.com")
    assert not labeler.is_staff
    assert list(campaign.labelers.all()) == [labeler]
    assert campaign.status == Status.CREATED
    assert campaign.metadata == {"to_be_used_for": "New train set"}
    assert campaign.created_by == admin_user
    assert issued.api_key.user == labeler
    assert issued.secret is not None and len(issued.secret) >= 32


def test_an_existing_labeler_is_found_case_insensitively_and_gets_their_key_without_secret(admin_user):
    labeler = UserFactory(email="agency@example.com")
    first = apikey_issue(user=labeler)
    campaign, issued = campaign_create(title="second", labeler_email="Agency@Example.COM", created_by=admin_user)
    assert list(campaign.labelers.all()) == [labeler]
    assert issued.apikey == first.apikey
    assert issued.secret is None
    assert User.objects.filter(email__iexact="agency@example.com").count() == 1
    assert ApiKey.objects.filter(user=labeler).count() == 1


def test_a_labeler_without_a_key_gets_a_fresh_key_and_secret(admin_user):
    labeler = UserFactory(email="agency@example.com")
    _, issued = campaign_create(title="c", labeler_email="agency@example.com", created_by=admin_user)
    assert issued.secret is not None
    assert issued.api_key.user == labeler


@pytest.mark.parametrize(
    "flags",
    [{"is_staff": True}, {"is_superuser": True}, {"is_staff": True, "is_active": False}],
    ids=["staff", "superuser", "disabled-staff"],
)
def test_a_staff_email_is_a_409_and_no_campaign_or_key_is_stored(admin_user, flags):
    staff = UserFactory(email="boss@example.com", **flags)
    with pytest.raises(Conflict, match="staff account"):
        campaign_create(title="c", labeler_email="Boss@Example.COM", created_by=admin_user)
    assert not Campaign.objects.exists()
    assert not CampaignLabeler.objects.exists()
    assert not ApiKey.objects.filter(user=staff).exists()


def test_a_staff_email_keeps_its_key_unrotated(admin_user):
    staff = UserFactory(email="boss@example.com", is_staff=True)
    apikey_issue(user=staff)
    before = list(ApiKey.objects.values_list("pk", "key", "secret_hash", "rotated_at", "revoked_at"))
    with pytest.raises(Conflict, match="staff account"):
        campaign_create(title="c", labeler_email="boss@example.com", created_by=admin_user)
    assert list(ApiKey.objects.values_list("pk", "key", "secret_hash", "rotated_at", "revoked_at")) == before
    assert not Campaign.objects.exists()


def test_a_staff_email_stored_in_another_case_is_still_recognised(admin_user):
    staff = UserFactory(email="boss@example.com", is_staff=True)
    User.objects.filter(pk=staff.pk).update(email="Boss@Example.com")  # bypasses save()'s lowercasing
    with pytest.raises(Conflict, match="staff account"):
        campaign_create(title="c", labeler_email="BOSS@example.com", created_by=admin_user)
    assert User.objects.count() == 2  # admin_user and the staff user: no look-alike agency was created
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("title", ["", "Campaign", "with space", "-dash", "dash-", "double--dash", "a" * 54, 5, None])
def test_an_invalid_title_is_a_422_and_stores_nothing(admin_user, title):
    with pytest.raises(InvalidName):
        create_campaign_from_body(title=title, labeler_email="x@example.com", created_by=admin_user)
    assert not Campaign.objects.exists()
    assert not User.objects.filter(email="x@example.com").exists()


def test_a_duplicate_title_is_a_409_and_stores_nothing(admin_user):
    campaign_create(title="taken", labeler_email="a@example.com", created_by=admin_user)
    with pytest.raises(Conflict, match="already exists"):
        campaign_create(title="taken", labeler_email="b@example.com", created_by=admin_user)
    assert Campaign.objects.count() == 1
    assert not User.objects.filter(email="b@example.com").exists()


def test_a_duplicate_title_that_slips_past_the_pre_check_is_still_a_409(admin_user):
    CampaignFactory(title="taken")
    with mock.patch("django.db.models.query.QuerySet.exists", return_value=False):
        with pytest.raises(Conflict):
            campaign_create(title="taken", labeler_email="b@example.com", created_by=admin_user)
    assert Campaign.objects.count() == 1
    assert not User.objects.filter(email="b@example.com").exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"metadata": []},
        {"metadata": "text"},
        {"metadata": {"k": "nul\x00"}},
        {"label_translations": ["a"]},
        {"label_translations": {"Plastic": 5}},
        {"label_translations": {"Plastic": ""}},
        {"label_translations": {"Plastic": "x" * 129}},
        {"labeler_email": "not-an-email"},
        {"labeler_email": ""},
        {"labeler_email": 42},
        {"labeler_email": "a" * 250 + "@example.com"},
    ],
)
def test_a_malformed_field_is_a_400_and_stores_nothing(admin_user, fields):
    kwargs = {"title": "ok", "labeler_email": "x@example.com", "created_by": admin_user, **fields}
    with pytest.raises(BadRequest):
        create_campaign_from_body(**kwargs)
    assert not Campaign.objects.exists()
    assert not CampaignLabeler.objects.exists()


# --- campaign_set_status -----------------------------------------------------------


def test_activating_sets_date_started():
    campaign = CampaignFactory()
    campaign_set_status(campaign_id=campaign.pk, new_status="active")
    campaign.refresh_from_db()
    assert campaign.status == Status.ACTIVE
    assert campaign.date_started is not None


def test_an_admin_may_complete_an_active_campaign():
    campaign = make_campaign(status=Status.ACTIVE)
    campaign_set_status(campaign_id=campaign.pk, new_status="completed")
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED
    assert campaign.date_completed is not None


def test_reopening_clears_the_completion_date_and_keeps_the_start_date():
    campaign = make_campaign()
    campaign_set_status(campaign_id=campaign.pk, new_status="active")
    campaign_set_status(campaign_id=campaign.pk, new_status="completed")
    campaign.refresh_from_db()
    started = campaign.date_started
    assert started is not None and campaign.date_completed is not None
    campaign_set_status(campaign_id=campaign.pk, new_status="active")
    campaign.refresh_from_db()
    assert campaign.status == Status.ACTIVE
    assert campaign.date_completed is None and campaign.date_finished is None
    assert campaign.date_started == started


def test_finishing_sets_date_finished_and_queues_one_export_on_commit(django_capture_on_commit_callbacks):
    campaign = CampaignFactory(status=Status.COMPLETED)
    with mock.patch("labelhub.jobs.queue.async_task", return_value="task-1") as queue:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            campaign_set_status(campaign_id=campaign.pk, new_status="finished")
            assert queue.call_count == 0  # not before the commit
    assert len(callbacks) == 1
    queue.assert_called_once_with(
        "campaigns.tasks.campaign_export_run", campaign.pk, task_name=f"campaign_export-{campaign.pk}"
    )
    campaign.refresh_from_db()
    assert campaign.status == Status.FINISHED and campaign.date_finished is not None
    job = CampaignJob.objects.get(campaign=campaign)
    assert job.status == CampaignJob.Status.QUEUED
    assert job.task_id == "task-1"


@pytest.mark.parametrize(
    "start, target",
    [
        (Status.ACTIVE, Status.FINISHED),
        (Status.CREATED, Status.FINISHED),
        (Status.CREATED, Status.COMPLETED),
        (Status.CREATED, Status.CREATED),
        (Status.ACTIVE, Status.ACTIVE),
        (Status.FINISHED, Status.ACTIVE),
        (Status.FINISHED, Status.COMPLETED),
        (Status.FINISHED, Status.FINISHED),
    ],
)
def test_a_transition_outside_the_table_is_a_409_and_queues_no_export(
    django_capture_on_commit_callbacks, start, target
):
    campaign = CampaignFactory(status=start)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(Conflict):
            campaign_set_status(campaign_id=campaign.pk, new_status=target)
    assert callbacks == []
    assert not CampaignJob.objects.exists()
    campaign.refresh_from_db()
    assert campaign.status == start


@pytest.mark.parametrize("status", ["done", "", "FINISHED", None, 3, ["active"]])
def test_an_unknown_status_is_a_400(status):
    campaign = CampaignFactory()
    with pytest.raises(BadRequest):
        set_status_from_body(campaign_id=campaign.pk, new_status=status)
    campaign.refresh_from_db()
    assert campaign.status == Status.CREATED


def test_changing_the_status_of_an_unknown_campaign_is_a_404():
    with pytest.raises(NotFound):
        campaign_set_status(campaign_id=12345, new_status="active")


def test_from_status_keeps_activate_from_reopening_a_completed_campaign():
    campaign = CampaignFactory(status=Status.COMPLETED)
    with pytest.raises(Conflict):
        campaign_set_status(campaign_id=campaign.pk, new_status="active", from_status=Status.CREATED)
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED


def test_a_failed_export_can_be_retried_and_is_reset_to_queued(django_capture_on_commit_callbacks):
    campaign = CampaignFactory(status=Status.FINISHED)
    CampaignJob.objects.create(campaign=campaign, status=CampaignJob.Status.FAILED, error="boom", attempts=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = campaign_export_retry(campaign_id=campaign.pk)
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == CampaignJob.Status.QUEUED
    assert job.error is None
    assert job.attempts == 0  # a retry starts a fresh count of attempts
    assert CampaignJob.objects.count() == 1


@pytest.mark.parametrize(
    "job_status", [CampaignJob.Status.QUEUED, CampaignJob.Status.RUNNING, CampaignJob.Status.SUCCEEDED]
)
def test_only_a_failed_or_stuck_export_can_be_retried(django_capture_on_commit_callbacks, job_status):
    campaign = CampaignFactory(status=Status.FINISHED)
    now = timezone.now()  # handed to the broker / beating just now: not stuck
    CampaignJob.objects.create(campaign=campaign, status=job_status, enqueued_at=now, heartbeat_at=now)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(Conflict):
            campaign_export_retry(campaign_id=campaign.pk)
    assert callbacks == []
    assert CampaignJob.objects.get().status == job_status


def test_an_unfinished_campaign_is_not_exported(django_capture_on_commit_callbacks):
    campaign = CampaignFactory(status=Status.COMPLETED)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(Conflict):
            campaign_export_retry(campaign_id=campaign.pk)
    assert callbacks == []


def test_queueing_an_export_twice_reuses_the_one_job(django_capture_on_commit_callbacks):
    campaign = CampaignFactory(status=Status.FINISHED)
    with django_capture_on_commit_callbacks(execute=False):
        first = campaign_export_queue(campaign=campaign)
        second = campaign_export_queue(campaign=campaign)
    assert first.pk == second.pk
    assert CampaignJob.objects.count() == 1


# --- campaign_add_images --------------------------------------------------------------


def test_images_are_added_by_id_and_by_filepath():
    campaign = CampaignFactory()
    by_id, by_path = ImageFactory(), ImageFactory()
    add_images_from_body(campaign_id=campaign.pk, items=[{"id": by_id.pk}, {"filepath": by_path.blobstorage_path}])
    assert image_ids(campaign) == sorted([by_id.pk, by_path.pk])
    assert progress(campaign.pk) == {"done": 0, "total": 2}


def test_images_already_in_the_campaign_are_ignored():
    campaign = make_campaign(images=1)
    present = image_ids(campaign)[0]
    other = ImageFactory()
    add_images_from_body(campaign_id=campaign.pk, items=[{"id": present}, {"id": other.pk}, {"id": other.pk}])
    assert image_ids(campaign) == sorted([present, other.pk])


@pytest.mark.parametrize("unknown", [{"id": 999999}, {"id": -1}, {"id": 2**70}, {"filepath": "images/nope.png"}])
def test_an_unknown_image_is_a_404_naming_it_and_nothing_is_added(unknown):
    campaign = CampaignFactory()
    known = ImageFactory()
    with pytest.raises(NotFound, match="Unknown image provided") as excinfo:
        add_images_from_body(campaign_id=campaign.pk, items=[{"id": known.pk}, unknown])
    assert str(next(iter(unknown.values()))) in excinfo.value.detail
    assert not CampaignImage.objects.exists()


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.COMPLETED, Status.FINISHED])
def test_adding_images_unless_created_is_a_409(status):
    campaign = CampaignFactory(status=status)
    image = ImageFactory()
    with pytest.raises(Conflict):
        add_images_from_body(campaign_id=campaign.pk, items=[{"id": image.pk}])
    assert not CampaignImage.objects.exists()


@pytest.mark.parametrize(
    "items",
    [
        {"id": 1},
        "1",
        [1],
        [{"id": "1"}],
        [{"id": True}],
        [{"filepath": ""}],
        [{"filepath": 3}],
        [{"id": 1, "filepath": "x"}],
        [{}],
        None,
    ],
)
def test_a_malformed_image_list_is_a_400(items):
    campaign = CampaignFactory()
    ImageFactory(pk=1)
    with pytest.raises(BadRequest):
        add_images_from_body(campaign_id=campaign.pk, items=items)
    assert not CampaignImage.objects.exists()


def test_adding_images_takes_the_same_queries_for_2_and_20_images():
    counts = []
    for n in (2, 20):
        campaign = CampaignFactory()
        images = ImageFactory.create_batch(n)
        items = [{"id": i.pk} for i in images[: n // 2]] + [{"filepath": i.blobstorage_path} for i in images[n // 2 :]]
        with CaptureQueriesContext(connection) as ctx:
            add_images_from_body(campaign_id=campaign.pk, items=items)
        counts.append(len(ctx))
        assert campaign.campaign_images.count() == n
    assert counts[0] == counts[1]


# --- objects_replace ------------------------------------------------------------------


@pytest.fixture
def active():
    return make_campaign(images=3, status=Status.ACTIVE)


def test_objects_are_stored_in_order_and_the_images_marked_labeled(active, labeler_user):
    first, second, _ = image_ids(active)
    api_key = apikey_issue(user=labeler_user).api_key
    submission = replace_objects_from_body(
        campaign_id=active.pk,
        items=[
            {
                "image_id": first,
                "objects": [
                    new_object("Plastic", bounding_box=box(13, 57, 123, 198)),
                    new_object("Organic", confidence=0.56),
                ],
            },
            {"image_id": second, "objects": []},
        ],
        user=labeler_user,
        api_key=api_key,
    )
    assert (submission.user, submission.api_key) == (labeler_user, api_key)
    assert (submission.image_count, submission.object_count) == (2, 2)
    assert current_labels(active, first) == ["Plastic", "Organic"]
    assert current_labels(active, second) == []
    stored = BoundingBox.objects.get(label="Plastic")
    assert (stored.xmin, stored.xmax, stored.ymin, stored.ymax) == (13, 57, 123, 198)
    assert progress(active.pk) == {"done": 2, "total": 3}
    active.refresh_from_db()
    assert active.status == Status.ACTIVE


def test_a_second_put_replaces_the_objects_and_keeps_the_old_ones_as_a_revision(active, labeler_user):
    image = image_ids(active)[0]
    old = replace_objects_from_body(campaign_id=active.pk, items=objects_body([image], 2, "Old"), user=labeler_user)
    new = replace_objects_from_body(campaign_id=active.pk, items=objects_body([image], 1, "New"), user=labeler_user)
    assert current_labels(active, image) == ["New"]
    assert BoundingBox.objects.filter(submission=old).count() == 2  # superseded, not lost
    assert CampaignImage.objects.get(campaign=active, image_id=image).current_submission == new
    assert progress(active.pk) == {"done": 1, "total": 3}


def test_label_translated_becomes_the_label_and_keeps_the_original(active, labeler_user):
    image = image_ids(active)[0]
    replace_objects_from_body(
        campaign_id=active.pk,
        items=[{"image_id": image, "objects": [new_object("Plastic", label_translated="PET")]}],
        user=labeler_user,
    )
    stored = BoundingBox.objects.get()
    assert (stored.label, stored.label_original) == ("PET", "Plastic")


def test_the_campaign_translations_apply_when_no_label_translated_is_given(labeler_user):
    campaign = make_campaign(images=1, status=Status.ACTIVE, label_translations={"Plastic": "PET"})
    image = image_ids(campaign)[0]
    replace_objects_from_body(
        campaign_id=campaign.pk,
        items=[
            {
                "image_id": image,
                "objects": [
                    new_object("Plastic"),
                    new_object("Wood"),
                    new_object("Plastic", label_translated="HDPE"),
                    new_object("Plastic", label_translated=None),
                ],
            }
        ],
        user=labeler_user,
    )
    assert list(BoundingBox.objects.order_by("position").values_list("label", "label_original")) == [
        ("PET", "Plastic"),
        ("Wood", "Wood"),
        ("HDPE", "Plastic"),
        ("PET", "Plastic"),
    ]


@pytest.mark.parametrize("confidence, stored", [(None, None), (0, 0.0), (1, 1.0), (0.56, 0.56)])
def test_confidence_may_be_null_or_a_number_from_0_to_1(active, labeler_user, confidence, stored):
    image = image_ids(active)[0]
    replace_objects_from_body(
        campaign_id=active.pk,
        items=[{"image_id": image, "objects": [new_object(confidence=confidence)]}],
        user=labeler_user,
    )
    assert BoundingBox.objects.get().confidence == stored


def test_a_missing_confidence_is_stored_as_null(active, labeler_user):
    image = image_ids(active)[0]
    obj = new_object()
    del obj["confidence"]
    replace_objects_from_body(campaign_id=active.pk, items=[{"image_id": image, "objects": [obj]}], user=labeler_user)
    assert BoundingBox.objects.get().confidence is None


def test_a_box_may_touch_the_image_border_and_integral_floats_are_integers(active, labeler_user):
    image = image_ids(active)[0]  # 200 x 200
    replace_objects_from_body(
        campaign_id=active.pk,
        items=[{"image_id": image, "objects": [new_object(bounding_box=box(0, 200.0, 0, 200))]}],
        user=labeler_user,
    )
    stored = BoundingBox.objects.get()
    assert (stored.xmin, stored.xmax, stored.ymin, stored.ymax) == (0, 200, 0, 200)


def test_any_box_fits_an_image_of_unknown_size(labeler_user):
    campaign = CampaignFactory(status=Status.ACTIVE)
    image = ImageFactory(width=None, height=None)
    CampaignImageFactory(campaign=campaign, image=image)
    replace_objects_from_body(
        campaign_id=campaign.pk,
        items=[{"image_id": image.pk, "objects": [new_object(bounding_box=box(0, 50_000, 0, 90_000))]}],
        user=labeler_user,
    )
    assert BoundingBox.objects.get().ymax == 90_000


def test_labeling_the_last_image_completes_the_campaign(active, labeler_user):
    first, second, third = image_ids(active)
    replace_objects_from_body(campaign_id=active.pk, items=objects_body([first, second]), user=labeler_user)
    active.refresh_from_db()
    assert active.status == Status.ACTIVE
    replace_objects_from_body(campaign_id=active.pk, items=[{"image_id": third, "objects": []}], user=labeler_user)
    active.refresh_from_db()
    assert active.status == Status.COMPLETED
    assert active.date_completed is not None
    assert progress(active.pk) == {"done": 3, "total": 3}


def test_a_reopened_campaign_accepts_objects_again_and_completes_again(active, labeler_user):
    replace_objects_from_body(campaign_id=active.pk, items=objects_body(image_ids(active)), user=labeler_user)
    campaign_set_status(campaign_id=active.pk, new_status="active")
    image = image_ids(active)[0]
    replace_objects_from_body(campaign_id=active.pk, items=objects_body([image], 1, "Fixed"), user=labeler_user)
    assert current_labels(active, image) == ["Fixed"]
    active.refresh_from_db()
    assert active.status == Status.COMPLETED


@pytest.mark.parametrize("status", [Status.CREATED, Status.COMPLETED, Status.FINISHED])
def test_objects_unless_active_are_a_409_and_nothing_is_stored(labeler_user, status):
    campaign = make_campaign(images=1, status=status)
    before = stored_state()
    with pytest.raises(Conflict):
        replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=labeler_user)
    assert stored_state() == before


def test_an_image_not_in_the_campaign_is_a_404_and_nothing_is_stored(active, labeler_user):
    elsewhere = make_campaign(images=1, status=Status.ACTIVE)
    foreign = image_ids(elsewhere)[0]
    before = stored_state()
    with pytest.raises(NotFound) as excinfo:
        replace_objects_from_body(
            campaign_id=active.pk, items=objects_body([image_ids(active)[0], foreign, 2**70]), user=labeler_user
        )
    assert str(foreign) in excinfo.value.detail
    assert excinfo.value.extra == {"image_id": foreign}
    assert stored_state() == before


def test_objects_for_an_unknown_campaign_are_a_404(labeler_user):
    with pytest.raises(NotFound):
        replace_objects_from_body(campaign_id=4242, items=[], user=labeler_user)


def test_an_empty_list_changes_nothing(active, labeler_user):
    before = stored_state()
    assert replace_objects_from_body(campaign_id=active.pk, items=[], user=labeler_user) is None
    assert stored_state() == before


def _with(**changes):
    obj = new_object()
    for key, value in changes.items():
        if key.startswith("box_"):
            obj["bounding_box"] = {**obj["bounding_box"], key[4:]: value}
        elif value is _DROP:
            del obj[key]
        else:
            obj[key] = value
    return obj


_DROP = object()


@pytest.mark.parametrize(
    "bad_object, error",
    [
        pytest.param("box", BadRequest, id="object-not-a-dict"),
        pytest.param(_with(label=_DROP), BadRequest, id="label-missing"),
        pytest.param(_with(label=5), BadRequest, id="label-not-a-string"),
        pytest.param(_with(label=""), Unprocessable, id="label-empty"),
        pytest.param(_with(label="x" * 129), Unprocessable, id="label-too-long"),
        pytest.param(_with(label="a\x00b"), Unprocessable, id="label-nul"),
        pytest.param(_with(label_translated=7), BadRequest, id="translated-not-a-string"),
        pytest.param(_with(label_translated=""), Unprocessable, id="translated-empty"),
        pytest.param(_with(confidence="0.5"), BadRequest, id="confidence-string"),
        pytest.param(_with(confidence=True), BadRequest, id="confidence-bool"),
        pytest.param(_with(confidence=1.01), Unprocessable, id="confidence-above-1"),
        pytest.param(_with(confidence=-0.1), Unprocessable, id="confidence-negative"),
        pytest.param(_with(confidence=float("nan")), Unprocessable, id="confidence-nan"),
        pytest.param(_with(bounding_box=_DROP), BadRequest, id="box-missing"),
        pytest.param(_with(bounding_box=[1, 2, 3, 4]), BadRequest, id="box-a-list"),
        pytest.param(_with(box_xmin=_DROP), BadRequest, id="xmin-missing"),
        pytest.param(_with(box_xmin="1"), BadRequest, id="xmin-string"),
        pytest.param(_with(box_xmin=1.5), BadRequest, id="xmin-fraction"),
        pytest.param(_with(box_ymax=True), BadRequest, id="ymax-bool"),
        pytest.param(_with(box_xmin=-1), Unprocessable, id="xmin-negative"),
        pytest.param(_with(box_ymin=-5, box_ymax=-1), Unprocessable, id="y-negative"),
        pytest.param(_with(box_xmin=11, box_xmax=10), Unprocessable, id="xmin-above-xmax"),
        pytest.param(_with(box_ymin=21, box_ymax=20), Unprocessable, id="ymin-above-ymax"),
        pytest.param(_with(box_xmax=201), Unprocessable, id="outside-the-image-width"),
        pytest.param(_with(box_ymax=250), Unprocessable, id="outside-the-image-height"),
        pytest.param(_with(box_xmax=2**40), Unprocessable, id="xmax-huge"),
    ],
)
def test_an_invalid_object_is_rejected_naming_the_image_and_object_and_nothing_is_stored(
    active, labeler_user, bad_object, error
):
    first, second, _ = image_ids(active)
    items = [
        {"image_id": first, "objects": [new_object()]},
        {"image_id": second, "objects": [new_object(), new_object(), bad_object]},
    ]
    before = stored_state()
    with pytest.raises(error) as excinfo:
        replace_objects_from_body(campaign_id=active.pk, items=items, user=labeler_user)
    assert f"Image {second}, object 2" in excinfo.value.detail
    assert excinfo.value.extra == {"image_id": second, "object_index": 2}
    assert stored_state() == before


@pytest.mark.parametrize(
    "items",
    [
        pytest.param({"image_id": 1, "objects": []}, id="dict-not-list"),
        pytest.param(["x"], id="item-not-dict"),
        pytest.param([{"objects": []}], id="image-id-missing"),
        pytest.param([{"image_id": "1", "objects": []}], id="image-id-string"),
        pytest.param([{"image_id": True, "objects": []}], id="image-id-bool"),
        pytest.param([{"image_id": 1}], id="objects-missing"),
        pytest.param([{"image_id": 1, "objects": {}}], id="objects-dict"),
        pytest.param(None, id="null"),
    ],
)
def test_a_malformed_body_is_a_400_and_nothing_is_stored(active, labeler_user, items):
    before = stored_state()
    with pytest.raises(BadRequest):
        replace_objects_from_body(campaign_id=active.pk, items=items, user=labeler_user)
    assert stored_state() == before


def test_the_same_image_twice_in_one_body_is_a_400(active, labeler_user):
    image = image_ids(active)[0]
    before = stored_state()
    with pytest.raises(BadRequest, match="more than once"):
        replace_objects_from_body(campaign_id=active.pk, items=objects_body([image, image]), user=labeler_user)
    assert stored_state() == before


def test_replacing_objects_takes_the_same_queries_for_2_and_20_images(labeler_user):
    counts = []
    for n in (2, 20):
        campaign = make_campaign(images=n + 1, status=Status.ACTIVE)  # one stays unlabeled
        body = objects_body(image_ids(campaign)[:n], per_image=3)
        with CaptureQueriesContext(connection) as ctx:
            replace_objects_from_body(campaign_id=campaign.pk, items=body, user=labeler_user)
        counts.append(len(ctx))
        assert BoundingBox.objects.filter(campaign_image__campaign=campaign).count() == 3 * n
    assert counts[0] == counts[1]
    assert counts[0] <= 10


def test_completing_by_objects_takes_the_same_queries_for_2_and_20_images(labeler_user):
    counts = []
    for n in (2, 20):
        campaign = make_campaign(images=n, status=Status.ACTIVE)
        with CaptureQueriesContext(connection) as ctx:
            replace_objects_from_body(
                campaign_id=campaign.pk, items=objects_body(image_ids(campaign), 2), user=labeler_user
            )
        counts.append(len(ctx))
        campaign.refresh_from_db()
        assert campaign.status == Status.COMPLETED
    assert counts[0] == counts[1]


# --- selectors --------------------------------------------------------------------------


def test_progress_stays_right_when_the_query_also_joins_labelers():
    campaign = make_campaign(images=3, status=Status.ACTIVE)
    CampaignImage.objects.filter(pk=campaign.campaign_images.first().pk).update(labeled=True)
    a, b = UserFactory(), UserFactory()
    CampaignLabelerFactory(campaign=campaign, user=a)
    CampaignLabelerFactory(campaign=campaign, user=b)
    row = Campaign.objects.filter(labelers=a).with_progress().get()
    assert (row.progress_done, row.progress_total) == (1, 3)
    rows = Campaign.objects.filter(labelers__in=[a, b]).with_progress()
    assert {(r.progress_done, r.progress_total) for r in rows} == {(1, 3)}


def test_progress_of_a_campaign_without_images_is_zero_of_zero():
    campaign = CampaignFactory()
    assert progress(campaign.pk) == {"done": 0, "total": 0}


def test_a_labeler_can_read_only_images_of_their_campaigns(labeler_user):
    own = make_campaign(images=1, labeler=labeler_user)
    other = make_campaign(images=1)
    loose = ImageFactory()
    assert labeler_can_read_image(user=labeler_user, image_id=image_ids(own)[0])
    assert not labeler_can_read_image(user=labeler_user, image_id=image_ids(other)[0])
    assert not labeler_can_read_image(user=labeler_user, image_id=loose.pk)


class TestImageObjectsPriority:
    """The six cases of ``GET /images/{id}/objects`` (plus an unknown image)."""

    @pytest.fixture
    def image(self):
        return ImageFactory()

    def _label(self, image, label, *, status=Status.ACTIVE, user=None):
        campaign = CampaignFactory(status=Status.ACTIVE)
        CampaignImageFactory(campaign=campaign, image=image)
        CampaignImageFactory(campaign=campaign)  # keeps it active after labeling
        replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([image.pk], 1, label), user=user)
        Campaign.objects.filter(pk=campaign.pk).update(status=status)
        return campaign

    def _labels(self, image, campaign_ids):
        return [o.label for o in image_objects_for_campaigns(image_id=image.pk, campaign_ids=campaign_ids)]

    def test_a_listed_campaign_that_labeled_the_image_gives_its_objects(self, image):
        first = self._label(image, "First")
        self._label(image, "Second")
        assert self._labels(image, [first.pk]) == ["First"]

    def test_the_first_listed_campaign_that_labeled_the_image_wins(self, image):
        unlabeled = CampaignFactory(status=Status.ACTIVE)
        CampaignImageFactory(campaign=unlabeled, image=image)
        labeled = self._label(image, "Labeled")
        later = self._label(image, "Later")
        assert self._labels(image, [unlabeled.pk, labeled.pk, later.pk]) == ["Labeled"]
        assert self._labels(image, [later.pk, labeled.pk]) == ["Later"]

    def test_a_listed_campaign_without_the_image_is_skipped(self, image):
        without = make_campaign(images=1, status=Status.FINISHED)
        labeled = self._label(image, "Labeled")
        assert self._labels(image, [without.pk]) == []
        assert self._labels(image, [without.pk, labeled.pk]) == ["Labeled"]

    def test_with_none_listed_the_most_recently_finished_campaign_wins(self, image):
        from datetime import timedelta

        from django.utils import timezone

        older = self._label(image, "Older", status=Status.FINISHED)
        newer = self._label(image, "Newer", status=Status.FINISHED)
        self._label(image, "Active")  # labeled but not finished: never chosen by default
        now = timezone.now()
        Campaign.objects.filter(pk=older.pk).update(date_finished=now)
        Campaign.objects.filter(pk=newer.pk).update(date_finished=now - timedelta(days=1))
        assert self._labels(image, []) == ["Older"]

    def test_with_none_listed_and_no_finished_campaign_the_answer_is_empty(self, image):
        self._label(image, "Active")
        self._label(image, "Completed", status=Status.COMPLETED)
        assert self._labels(image, []) == []

    def test_an_unknown_listed_campaign_is_a_404(self, image):
        labeled = self._label(image, "Labeled")
        with pytest.raises(NotFound, match="Campaign 98765"):
            image_objects_for_campaigns(image_id=image.pk, campaign_ids=[labeled.pk, 98765])

    def test_an_unknown_image_is_a_404(self):
        with pytest.raises(NotFound):
            image_objects_for_campaigns(image_id=98765, campaign_ids=[])

    def test_only_the_current_objects_are_returned(self, image):
        campaign = self._label(image, "Old")
        replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([image.pk], 2, "New"), user=None)
        objects = image_objects_for_campaigns(image_id=image.pk, campaign_ids=[campaign.pk])
        assert [o.label for o in objects] == ["New", "New"]
        assert {(o.campaign_image.campaign_id, o.campaign_image.image_id) for o in objects} == {(campaign.pk, image.pk)}
