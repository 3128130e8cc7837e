"""campaigns.services.campaigns: creating campaigns with their labeler's key, status transitions, the export job."""

from unittest import mock

import pytest
from django.utils import timezone

from accounts.models import ApiKey, User
from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from campaigns.models import Campaign, CampaignJob, CampaignLabeler
from campaigns.services import (
    campaign_create,
    campaign_export_queue,
    campaign_export_retry,
    campaign_set_status,
)
from campaigns.tests.factories import (
    CampaignFactory,
    create_campaign_from_body,
    make_campaign,
    set_status_from_body,
)
from core.exceptions import BadRequest, Conflict, InvalidName, NotFound

pytestmark = pytest.mark.django_db

Status = Campaign.Status


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
    with mock.patch("core.jobs.queue.async_task", return_value="task-1") as queue:
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
