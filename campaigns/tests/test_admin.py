import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.tests.factories import UserFactory
from campaigns.models import Campaign, CampaignImage, CampaignJob, Submission
from campaigns.services import objects_replace
from campaigns.tests.factories import CampaignFactory, make_campaign, objects_body

pytestmark = pytest.mark.django_db

Status = Campaign.Status


@pytest.fixture
def site(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


def image_ids(campaign):
    return list(campaign.campaign_images.order_by("image_id").values_list("image_id", flat=True))


def run_action(site, action, campaigns):
    return site.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": action, "_selected_action": [c.pk for c in campaigns]},
        follow=True,
    )


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_the_campaign_list_shows_progress_status_and_labelers(site):
    campaign = make_campaign(images=3, status=Status.ACTIVE, labeler=UserFactory(email="agency@example.com"))
    objects_replace(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)[:1]), user=None)
    response = site.get(reverse("admin:campaigns_campaign_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert campaign.title in html
    assert "1/3" in html
    assert "agency@example.com" in html
    assert "Active" in html


def test_the_campaign_list_takes_the_same_queries_for_2_and_20_campaigns(site, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (2, 18):
        for _ in range(n):
            make_campaign(images=2, labeler=UserFactory())
        with CaptureQueriesContext(connection) as ctx:
            assert site.get(reverse("admin:campaigns_campaign_changelist")).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]


def test_the_activate_action_activates_created_campaigns_and_reports_the_others(site):
    created = make_campaign(images=1)
    completed = CampaignFactory(status=Status.COMPLETED)
    response = run_action(site, "activate", [created, completed])
    created.refresh_from_db()
    completed.refresh_from_db()
    assert created.status == Status.ACTIVE and created.date_started is not None
    assert completed.status == Status.COMPLETED  # activate never reopens
    shown = messages_of(response)
    assert ("success", "Activated 1 campaign(s).") in shown
    assert any(level == "error" and completed.title in text for level, text in shown)


def test_the_reopen_action_reopens_only_completed_campaigns(site):
    completed = CampaignFactory(status=Status.COMPLETED)
    created = CampaignFactory()
    run_action(site, "reopen", [completed, created])
    completed.refresh_from_db()
    created.refresh_from_db()
    assert completed.status == Status.ACTIVE
    assert created.status == Status.CREATED


def test_the_finish_action_finishes_and_queues_the_export(site, django_capture_on_commit_callbacks):
    completed = CampaignFactory(status=Status.COMPLETED)
    active = CampaignFactory(status=Status.ACTIVE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = run_action(site, "finish", [completed, active])
    assert len(callbacks) == 1
    completed.refresh_from_db()
    active.refresh_from_db()
    assert completed.status == Status.FINISHED
    assert active.status == Status.ACTIVE
    assert CampaignJob.objects.get().campaign == completed
    assert any(level == "error" and active.title in text for level, text in messages_of(response))


def test_the_retry_action_requeues_a_failed_export_only(site, django_capture_on_commit_callbacks):
    failed = CampaignFactory(status=Status.FINISHED)
    CampaignJob.objects.create(campaign=failed, status=CampaignJob.Status.FAILED, error="boom")
    succeeded = CampaignFactory(status=Status.FINISHED)
    CampaignJob.objects.create(campaign=succeeded, status=CampaignJob.Status.SUCCEEDED)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_action(site, "retry_export", [failed, succeeded])
    assert len(callbacks) == 1
    assert CampaignJob.objects.get(campaign=failed).status == CampaignJob.Status.QUEUED
    assert CampaignJob.objects.get(campaign=succeeded).status == CampaignJob.Status.SUCCEEDED


def test_the_campaign_page_shows_its_images_with_their_labeled_flag(site):
    campaign = make_campaign(images=2, status=Status.ACTIVE)
    objects_replace(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)[:1]), user=None)
    response = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for image in CampaignImage.objects.filter(campaign=campaign).select_related("image"):
        assert image.image.blobstorage_path in html


def test_the_edit_form_rejects_bad_label_translations(site):
    campaign = CampaignFactory()
    response = site.post(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        {
            "metadata": "null", "label_translations": '{"Plastic": 5}',
            "labeler_links-TOTAL_FORMS": "0", "labeler_links-INITIAL_FORMS": "0",
            "campaign_images-TOTAL_FORMS": "0", "campaign_images-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "label_translations" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.label_translations is None


def test_an_images_revisions_are_visible_and_read_only(site):
    campaign = make_campaign(images=2, status=Status.ACTIVE)
    image = image_ids(campaign)[0]
    objects_replace(campaign_id=campaign.pk, items=objects_body([image], 1, "FirstTry"), user=None)
    objects_replace(campaign_id=campaign.pk, items=objects_body([image], 1, "SecondTry"), user=None)
    campaign_image = CampaignImage.objects.get(campaign=campaign, image_id=image)
    response = site.get(reverse("admin:campaigns_campaignimage_change", args=[campaign_image.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "FirstTry" in html and "SecondTry" in html
    assert 'name="_save"' not in html  # view only
    for submission in Submission.objects.all():
        page = site.get(reverse("admin:campaigns_submission_change", args=[submission.pk]))
        assert page.status_code == 200
    assert site.post(reverse("admin:campaigns_submission_delete", args=[submission.pk])).status_code == 403


def test_objects_are_filterable_by_campaign(site):
    shown = make_campaign(images=1, status=Status.ACTIVE)
    hidden = make_campaign(images=1, status=Status.ACTIVE)
    objects_replace(campaign_id=shown.pk, items=objects_body(image_ids(shown), 1, "ShownLabel"), user=None)
    objects_replace(campaign_id=hidden.pk, items=objects_body(image_ids(hidden), 1, "HiddenLabel"), user=None)
    url = reverse("admin:campaigns_object_changelist")
    response = site.get(url, {"campaign_image__campaign__id__exact": shown.pk})
    assert [o.label for o in response.context["cl"].result_list] == ["ShownLabel"]
    assert "current" in response.content.decode()
    assert len(site.get(url).context["cl"].result_list) == 2
