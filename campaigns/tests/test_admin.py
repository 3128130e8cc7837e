import html
import math
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import ApiKey
from accounts.services import apikey_issue, secret_matches
from accounts.tests.factories import UserFactory
from campaigns.admin.review_boxes import PALETTE
from campaigns.export.services import campaign_export_run
from campaigns.models import Campaign, CampaignImage, CampaignJob, Submission
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.export_data import EXPECTED_CSV, make_exportable_campaign
from campaigns.tests.factories import (
    CampaignFactory,
    CampaignImageFactory,
    CampaignLabelerFactory,
    make_campaign,
    objects_body,
    replace_objects_from_body,
)
from core.exceptions import NotFound
from imagesets.models import Image
from imagesets.tests.factories import ImageFactory, ImageSetFactory
from integrations.storage.local import unsign_read_token

pytestmark = pytest.mark.django_db

Status = Campaign.Status


@pytest.fixture
def site(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


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
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)[:1]), user=None)
    response = site.get(reverse("admin:campaigns_campaign_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert campaign.title in html
    assert "1/3" in html
    assert "agency@example.com" in html
    assert "Active" in html


def test_the_campaign_list_takes_the_same_queries_for_2_and_20_campaigns(
    site, django_assert_num_queries, django_assert_max_num_queries
):
    for _ in range(2):
        make_campaign(images=2, labeler=UserFactory())
    with django_assert_max_num_queries(math.inf) as captured:  # any number: 18 more campaigns must take no more
        assert site.get(reverse("admin:campaigns_campaign_changelist")).status_code == 200
    few = len(captured)
    for _ in range(18):
        make_campaign(images=2, labeler=UserFactory())
    with django_assert_num_queries(few):
        assert site.get(reverse("admin:campaigns_campaign_changelist")).status_code == 200


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


def test_the_finish_action_asks_first_and_changes_nothing_until_confirmed(site, django_capture_on_commit_callbacks):
    completed = CampaignFactory(title="beach-2024", status=Status.COMPLETED)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = run_action(site, "finish", [completed])

    assert callbacks == []
    page = response.content.decode()
    assert response.status_code == 200 and "Finish and export: 1 campaign(s)?" in page
    assert "a finished campaign cannot be reopened" in page and "beach-2024" in page
    assert 'name="apply" value="Yes, finish and export 1 campaign(s)"' in page
    assert f'name="_selected_action" value="{completed.pk}"' in page  # the same selection, posted back
    completed.refresh_from_db()
    assert completed.status == Status.COMPLETED and not CampaignJob.objects.exists()


def test_the_finish_action_finishes_and_queues_the_export(site, django_capture_on_commit_callbacks):
    completed = CampaignFactory(status=Status.COMPLETED)
    active = CampaignFactory(status=Status.ACTIVE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = site.post(
            reverse("admin:campaigns_campaign_changelist"),
            {"action": "finish", "_selected_action": [completed.pk, active.pk], "apply": "yes"},
            follow=True,
        )
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
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)[:1]), user=None)
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
            "metadata": "null",
            "label_translations": '{"Plastic": 5}',
            "labeler_links-TOTAL_FORMS": "0",
            "labeler_links-INITIAL_FORMS": "0",
            "campaign_images-TOTAL_FORMS": "0",
            "campaign_images-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "label_translations" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.label_translations is None


def test_an_images_revisions_are_visible_and_read_only(site):
    campaign = make_campaign(images=2, status=Status.ACTIVE)
    image = image_ids(campaign)[0]
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([image], 1, "FirstTry"), user=None)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([image], 1, "SecondTry"), user=None)
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
    replace_objects_from_body(campaign_id=shown.pk, items=objects_body(image_ids(shown), 1, "ShownLabel"), user=None)
    replace_objects_from_body(campaign_id=hidden.pk, items=objects_body(image_ids(hidden), 1, "HiddenLabel"), user=None)
    url = reverse("admin:campaigns_boundingbox_changelist")
    response = site.get(url, {"campaign_image__campaign__id__exact": shown.pk})
    assert [o.label for o in response.context["cl"].result_list] == ["ShownLabel"]
    assert "current" in response.content.decode()
    assert len(site.get(url).context["cl"].result_list) == 2


# --- creating a campaign: the agency's key shown once ---------------------------------


def test_the_add_page_creates_the_campaign_and_shows_the_new_key_once(site):
    response = site.post(
        reverse("admin:campaigns_campaign_add"),
        {
            "title": "campaign-26-10-2020",
            "labeler_email": "New_User@Example.com",
            "metadata": '{"to_be_used_for": "New train set"}',
            "label_translations": '{"PET": "Plastic"}',
        },
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    campaign = Campaign.objects.get()
    assert (campaign.title, campaign.status) == ("campaign-26-10-2020", "created")
    assert campaign.metadata == {"to_be_used_for": "New train set"}
    assert campaign.label_translations == {"PET": "Plastic"}
    assert campaign.created_by.email == "root@example.com"
    assert [u.email for u in campaign.labelers.all()] == ["new_user@example.com"]
    page = response.content.decode()
    key = ApiKey.objects.get(user__email="new_user@example.com")
    secret = re.search(r'<code class="lh-secret" id="lh-secret-1">([0-9a-f]+)</code>', page).group(1)
    assert f'<code class="lh-apikey" id="lh-apikey-1">{key.key}</code>' in page
    assert secret_matches(secret, key.secret_hash)
    # Nothing carries the secret to a later page.
    later = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert secret not in later
    assert secret not in str(site.cookies) and secret not in str(dict(site.session))


def test_a_labeler_who_has_a_key_gets_no_secret_on_the_add_page(site):
    agency = UserFactory(email="agency@example.com")
    issued = apikey_issue(user=agency)

    response = site.post(
        reverse("admin:campaigns_campaign_add"), {"title": "second", "labeler_email": "agency@example.com"}
    )

    page = response.content.decode()
    assert issued.apikey in page and 'class="lh-secret"' not in page
    assert "cannot be shown" in page
    assert list(Campaign.objects.get().labelers.all()) == [agency]
    assert ApiKey.objects.filter(user=agency).count() == 1


@pytest.mark.parametrize(
    "data, field, reason",
    [
        ({"title": "Bad Title", "labeler_email": "a@example.com"}, "title", "lowercase"),
        ({"title": "taken", "labeler_email": "a@example.com"}, "title", "already exists"),
        ({"title": "fine", "labeler_email": "not-an-email"}, "labeler_email", "valid email"),
        ({"title": "fine", "labeler_email": "a@example.com", "metadata": "[1]"}, "metadata", "JSON object"),
        (
            {"title": "fine", "labeler_email": "a@example.com", "label_translations": '{"PET": 5}'},
            "label_translations",
            "map labels",
        ),
        ({"title": "fine", "labeler_email": ""}, "labeler_email", "required"),
        ({"title": "fine", "labeler_email": "ROOT@example.com"}, "labeler_email", "staff account"),
        ({"title": "fine", "labeler_email": "other-staff@example.com"}, "labeler_email", "staff account"),
    ],
)
def test_the_add_page_rejects_bad_input_and_stores_nothing(site, data, field, reason):
    CampaignFactory(title="taken")
    apikey_issue(user=UserFactory(email="other-staff@example.com", is_staff=True))
    before = campaign_state()

    response = site.post(reverse("admin:campaigns_campaign_add"), data)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert reason.lower() in " ".join(errors[field]).lower(), errors
    assert campaign_state() == before


# --- status steps on the campaign's page ---------------------------------------------


def step(site, campaign, name):
    return site.post(reverse("admin:campaigns_campaign_step", args=[campaign.pk, name]), follow=True)


def test_the_step_buttons_run_the_transitions(site, django_capture_on_commit_callbacks):
    campaign = make_campaign(images=1)
    response = step(site, campaign, "activate")
    assert ("success", f"Activated {campaign.title}.") in messages_of(response)
    campaign.refresh_from_db()
    assert campaign.status == Status.ACTIVE and campaign.date_started is not None

    step(site, campaign, "complete")
    step(site, campaign, "reopen")
    step(site, campaign, "complete")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        step(site, campaign, "finish")
    campaign.refresh_from_db()
    assert campaign.status == Status.FINISHED and len(callbacks) == 1
    assert CampaignJob.objects.get(campaign=campaign).status == CampaignJob.Status.QUEUED


def test_a_refused_step_is_an_error_message_and_changes_nothing(site):
    campaign = make_campaign(images=1, status=Status.ACTIVE)
    before = campaign_state()

    response = step(site, campaign, "finish")

    assert any(
        level == "error" and "cannot go from 'active' to 'finished'" in text for level, text in messages_of(response)
    )
    assert campaign_state() == before
    assert site.post(reverse("admin:campaigns_campaign_step", args=[campaign.pk, "explode"])).status_code == 404
    assert site.get(reverse("admin:campaigns_campaign_step", args=[campaign.pk, "finish"])).status_code == 405
    assert site.post(reverse("admin:campaigns_campaign_step", args=[campaign.pk + 99, "finish"])).status_code == 404


@pytest.mark.parametrize(
    "status, offered",
    [
        (Status.CREATED, ["activate"]),
        (Status.ACTIVE, ["complete"]),
        (Status.COMPLETED, ["reopen", "finish"]),
        (Status.FINISHED, ["retry_export"]),
    ],
)
def test_the_campaign_page_offers_the_steps_of_its_status(site, status, offered):
    campaign = make_campaign(images=1, status=status)
    response = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert [s["name"] for s in response.context["panels"]["steps"]] == offered
    assert ('id="lh-add-images"' in response.content.decode()) == (status == Status.CREATED)


def test_a_finished_campaign_with_a_succeeded_export_offers_no_retry(site):
    campaign = CampaignFactory(status=Status.FINISHED)
    CampaignJob.objects.create(campaign=campaign, status=CampaignJob.Status.SUCCEEDED)
    response = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert response.context["panels"]["steps"] == []


def test_the_campaign_page_shows_progress_and_links_the_export_files(site, local_storage):
    campaign, _ = make_exportable_campaign()
    campaign_export_run(campaign_id=campaign.pk)

    response = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    page = response.content.decode()
    assert 'id="lh-campaign-progress-text">3/4<' in page
    job = CampaignJob.objects.get(campaign=campaign)
    links = re.findall(r'<a href="/api/v1/files/([^"]+)">([^<]+)</a>', page)
    assert [path for _, path in links] == [record["path"] for record in job.result["files"]]
    assert len(links) == 7  # CSV, AutoML JSONL + MLTable, COCO, images MLTable, YOLO and VOC zips
    for token, path in links:
        assert unsign_read_token(token)[0] == path
    # A link serves the file the export wrote.
    csv_token = next(token for token, path in links if path.endswith("_labels.csv"))
    served = site.get(f"/api/v1/files/{csv_token}")
    assert b"".join(served.streaming_content).decode() == EXPECTED_CSV


def test_the_files_of_a_failed_export_stay_listed_with_the_error(site):
    campaign = CampaignFactory(status=Status.FINISHED)
    CampaignJob.objects.create(
        campaign=campaign,
        status=CampaignJob.Status.FAILED,
        error="StorageError: gone",
        result={"files": [{"path": "images/label_sets/x_labels.csv", "size": 10, "sha256": "0"}]},
    )
    page = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "StorageError: gone" in page and "images/label_sets/x_labels.csv" in page
    assert 'id="lh-step-retry_export"' in page


# --- adding images ------------------------------------------------------------------


def test_a_whole_set_is_added_from_the_campaign_page(site):
    imageset = ImageSetFactory(status="finished")
    images = ImageFactory.create_batch(3, imageset=imageset)
    ImageFactory()  # another set
    campaign = CampaignFactory()
    CampaignImageFactory(campaign=campaign, image=images[0])
    page = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert f'<option value="{imageset.pk}">{imageset.title} (3 images)</option>' in page

    response = site.post(
        reverse("admin:campaigns_campaign_add_imageset", args=[campaign.pk]), {"imageset": imageset.pk}, follow=True
    )

    assert sorted(image_ids(campaign)) == sorted(i.pk for i in images)
    assert any("Added 2 image(s)" in text and "1 already in it" in text for _, text in messages_of(response))


def test_a_set_cannot_be_added_to_an_active_campaign(site):
    imageset = ImageSetFactory(status="finished")
    ImageFactory.create_batch(2, imageset=imageset)
    campaign = CampaignFactory(status=Status.ACTIVE)
    before = campaign_state()

    response = site.post(
        reverse("admin:campaigns_campaign_add_imageset", args=[campaign.pk]), {"imageset": imageset.pk}, follow=True
    )

    assert any(
        level == "error" and "only be added while the campaign is 'created'" in text
        for level, text in messages_of(response)
    )
    assert campaign_state() == before
    bad = site.post(
        reverse("admin:campaigns_campaign_add_imageset", args=[campaign.pk]), {"imageset": "x"}, follow=True
    )
    assert ("error", "Choose an image set.") in messages_of(bad)
    assert site.get(reverse("admin:campaigns_campaign_add_imageset", args=[campaign.pk])).status_code == 405


def test_adding_many_images_runs_in_batches_and_is_all_or_nothing(monkeypatch):
    from campaigns.services import images as adding

    monkeypatch.setattr(adding, "BATCH_SIZE", 2)
    campaign = CampaignFactory()
    images = ImageFactory.create_batch(5)

    added = adding.campaign_add_images(campaign_id=campaign.pk, image_ids=[i.pk for i in images] + [images[0].pk])
    assert (added.listed, added.new, added.total) == (5, 5, 5)

    other = CampaignFactory()
    with pytest.raises(NotFound):
        adding.campaign_add_images(campaign_id=other.pk, image_ids=[images[0].pk, images[1].pk, 10**9])
    assert CampaignImage.objects.filter(campaign=other).count() == 0


# --- labels.csv -----------------------------------------------------------------------


def test_labels_csv_streams_the_same_csv_as_the_api(site, admin_client):
    campaign, _ = make_exportable_campaign(status=Status.ACTIVE)

    response = site.get(reverse("admin:campaigns_campaign_labels_csv", args=[campaign.pk]))

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="beach-2024_labels.csv"'
    text = b"".join(response.streaming_content).decode()
    assert text == EXPECTED_CSV
    api = admin_client.get(f"/api/v1/campaigns/{campaign.pk}/labels.csv")
    assert b"".join(api.streaming_content).decode() == text
    assert site.get(reverse("admin:campaigns_campaign_labels_csv", args=[campaign.pk + 99])).status_code == 404


# --- the review page --------------------------------------------------------------------


def review(site, campaign, image=None, **query):
    if image is None:
        url = reverse("admin:campaigns_campaign_review", args=[campaign.pk])
    else:
        url = reverse("admin:campaigns_campaign_review_image", args=[campaign.pk, image.pk])
    return site.get(url, query)


def drawn(response) -> list[tuple[str, str, str]]:
    """(caption, x, y) of every box drawn over the image."""
    page = response.content.decode()
    svg = page[page.index('<svg id="lh-boxes"') : page.index("</svg>", page.index('<svg id="lh-boxes"'))]
    rects = re.findall(r'<rect x="(\d+)" y="(\d+)"', svg)
    chips = page[page.index('<div class="lh-captions"') : page.index("</div>", page.index('<div class="lh-captions"'))]
    # Captions are HTML chips over the image (the SVG text only when the image's size is unknown).
    captions = [html.unescape(t) for t in re.findall(r'<span class="lh-caption[^"]*"[^>]*>([^<]*)</span>', chips)]
    captions += [html.unescape(t) for t in re.findall(r'<text class="lh-box-label"[^>]*>([^<]*)</text>', svg)]
    assert len(rects) == len(captions) == svg.count('<g class="lh-box"')
    return [(caption, x, y) for caption, (x, y) in zip(captions, rects, strict=False)]


def test_review_draws_the_current_objects_of_the_image(site):
    campaign, images = make_exportable_campaign(status=Status.ACTIVE)

    response = review(site, campaign, images["a"])

    assert response.status_code == 200
    assert drawn(response) == [("Plastic 0.90", "20", "10"), ("Glass", "100", "0")]
    page = response.content.decode()
    assert 'viewBox="0 0 200 100"' in page
    assert f'<img id="lh-review-image" src="{reverse("admin:imagesets_image_display", args=[images["a"].pk])}"' in page
    colours = re.findall(r'<rect [^>]*stroke="(#[0-9a-f]{6})"', page)
    assert len(set(colours)) == 2 and set(colours) <= set(PALETTE)  # two labels, two colours of the palette


@pytest.mark.parametrize(
    ("orientation", "view_box", "rects"),
    [
        (3, "0 0 200 100", [("150", "60", "30", "30"), ("0", "0", "100", "100")]),
        (6, "0 0 100 200", [("60", "20", "30", "30"), ("0", "100", "100", "100")]),
        (8, "0 0 100 200", [("10", "150", "30", "30"), ("0", "0", "100", "100")]),
    ],
)
def test_review_draws_the_boxes_on_the_image_as_the_browser_turns_it(site, orientation, view_box, rects):
    # Boxes are sent in the file's 200x100 pixel frame; the browser shows the file turned by its EXIF orientation.
    campaign, images = make_exportable_campaign(status=Status.ACTIVE)
    Image.objects.filter(pk=images["a"].pk).update(orientation=orientation)

    page = review(site, campaign, images["a"]).content.decode()

    assert f'viewBox="{view_box}"' in page
    assert re.findall(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"', page) == rects
    assert "20, 10 – 50, 40" in page  # the objects table lists the coordinates as sent
    assert 'id="lh-orientation"' in page


def test_review_switches_to_an_earlier_revision(site):
    campaign, images = make_exportable_campaign(status=Status.ACTIVE)
    current = review(site, campaign, images["d"])
    assert drawn(current) == [("PET 0.56", "30", "15")]
    revisions = current.context["revisions"]
    assert [(r["current"], r["objects"]) for r in revisions] == [(True, 1), (False, 1)]

    earlier = review(site, campaign, images["d"], rev=revisions[1]["submission"].pk)

    assert drawn(earlier) == [("Old 0.10", "0", "0")]
    assert "an earlier revision" in earlier.content.decode()
    other_submission = Submission.objects.exclude(campaign=campaign).first()
    assert review(site, campaign, images["d"], rev=other_submission.pk).status_code == 404
    assert review(site, campaign, images["d"], rev="x").status_code == 404


def test_review_filters_and_steps_through_the_images(site):
    campaign, images = make_exportable_campaign(status=Status.ACTIVE)
    a, b, c, d = (images[k] for k in "abcd")

    first = review(site, campaign)
    assert first.status_code == 302 and first["Location"].endswith(f"/review/{a.pk}/")
    page = review(site, campaign, a)
    assert {f["name"]: f["count"] for f in page.context["filters"]} == {
        "all": 4,
        "unlabeled": 1,
        "labeled": 2,
        "empty": 1,
        "pending": 3,
        "accepted": 0,
        "rejected": 0,
    }
    assert page.context["previous_url"] is None
    assert page.context["next_url"].endswith(f"/review/{b.pk}/")
    assert 'id="lh-next"' in page.content.decode() and 'id="lh-prev"' not in page.content.decode()

    labeled = review(site, campaign, a, show="labeled")
    assert labeled.context["next_url"].endswith(f"/review/{d.pk}/?show=labeled")
    assert labeled.context["position"] == 1 and labeled.context["total"] == 2
    assert review(site, campaign, show="unlabeled")["Location"].endswith(f"/review/{c.pk}/?show=unlabeled")
    empty = review(site, campaign, b, show="empty")
    assert drawn(empty) == [] and empty.context["position"] == 1
    assert "yes" in empty.content.decode()  # labeled, with nothing found
    outside = review(site, campaign, a, show="empty")
    assert outside.context["in_filter"] is False and "not in this filter" in outside.content.decode()
    assert review(site, campaign, a, show="bogus").context["show"] == "all"


def test_review_of_an_image_outside_the_campaign_is_not_found(site):
    campaign, _ = make_exportable_campaign(status=Status.ACTIVE)
    stranger = ImageFactory()
    assert review(site, campaign, stranger).status_code == 404
    empty = CampaignFactory()
    response = review(site, empty)
    assert response.status_code == 200 and 'id="lh-review-empty"' in response.content.decode()


def test_a_review_page_takes_the_same_queries_for_few_and_many_images_and_objects(
    site, django_assert_num_queries, django_assert_max_num_queries
):
    def review_page_of(images, per_image):
        """The review page of the second image of a new campaign, labeled twice."""
        campaign = make_campaign(images=images, status=Status.ACTIVE)
        ids = image_ids(campaign)
        replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(ids[:-1], per_image), user=None)
        replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(ids[1:2], per_image, "Again"), user=None)
        return reverse("admin:campaigns_campaign_review_image", args=[campaign.pk, ids[1]])

    url = review_page_of(3, 1)
    with django_assert_max_num_queries(19) as captured:
        response = site.get(url)
    few = len(captured)
    assert len(drawn(response)) == 1
    url = review_page_of(30, 20)
    with django_assert_num_queries(few):
        response = site.get(url)
    assert len(drawn(response)) == 20


# --- who may use the campaign admin ---------------------------------------------------


def campaign_admin_requests(campaign, image_id):
    return [
        ("get", reverse("admin:campaigns_campaign_changelist"), None),
        ("get", reverse("admin:campaigns_campaign_add"), None),
        ("post", reverse("admin:campaigns_campaign_add"), {"title": "sneaky", "labeler_email": "x@example.com"}),
        ("get", reverse("admin:campaigns_campaign_change", args=[campaign.pk]), None),
        ("post", reverse("admin:campaigns_campaign_step", args=[campaign.pk, "finish"]), {}),
        (
            "post",
            reverse("admin:campaigns_campaign_changelist"),
            {"action": "finish", "_selected_action": [campaign.pk]},
        ),
        ("post", reverse("admin:campaigns_campaign_add_imageset", args=[campaign.pk]), {"imageset": "1"}),
        ("get", reverse("admin:campaigns_campaign_labels_csv", args=[campaign.pk]), None),
        ("get", reverse("admin:campaigns_campaign_review", args=[campaign.pk]), None),
        ("get", reverse("admin:campaigns_campaign_review_image", args=[campaign.pk, image_id]), None),
        ("get", reverse("admin:campaigns_campaignimage_changelist"), None),
        ("get", reverse("admin:campaigns_boundingbox_changelist"), None),
    ]


@pytest.mark.parametrize("who", ["anonymous", "labeler"])
def test_labelers_and_anonymous_users_get_nothing(client, who):
    campaign, images = make_exportable_campaign(status=Status.COMPLETED)
    if who == "labeler":
        labeler = UserFactory(email="agency@example.com")
        CampaignLabelerFactory(campaign=campaign, user=labeler)
        client.force_login(labeler)
    before = campaign_state()

    for method, url, data in campaign_admin_requests(campaign, images["a"].pk):
        response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url
        assert not getattr(response, "streaming", False)
        assert b"Plastic" not in response.content

    assert campaign_state() == before


def test_an_image_admin_runs_campaigns_without_django_permissions(client):
    client.force_login(UserFactory(email="imageadmin@example.com", is_staff=True, is_superuser=False))
    campaign, images = make_exportable_campaign(status=Status.COMPLETED)

    for method, url, _data in campaign_admin_requests(campaign, images["a"].pk):
        if method == "get":
            response = client.get(url, follow=True)
            assert response.status_code == 200, url
    step(client, campaign, "reopen")
    campaign.refresh_from_db()
    assert campaign.status == Status.ACTIVE
    assert client.get(reverse("admin:campaigns_campaign_delete", args=[campaign.pk])).status_code == 403


# --- odd values: a normal page, a 404 or a form error, never a 500 ------------------------

# '²' passes str.isdigit() but not int(); '١' is an Arabic-Indic one; the last two are beyond 64 bits.
ODD_IDS = ["²", "1²", "١", "0", str(2**63), str(2**64)]
UNSTORABLE_JSON = {
    "nul": '{"note": "a\\u0000b"}',
    "lone-surrogate": '{"note": "\\ud800"}',
    "nested-beyond-the-parser": "[" * 5000 + "]" * 5000,
    "nested-beyond-the-limit": '{"a": ' + "[" * 40 + "]" * 40 + "}",
}


@pytest.fixture
def page_site(site):
    """The admin as a browser sees it: a 500 is an answer, not an exception in the test."""
    site.raise_request_exception = False
    return site


@pytest.mark.parametrize("odd", ODD_IDS)
def test_odd_ids_in_campaign_urls_are_not_found(page_site, odd):
    campaign, images = make_exportable_campaign(status=Status.COMPLETED)
    image_id = images["a"].pk
    before = campaign_state()

    for method, url in [
        ("get", f"/admin/campaigns/campaign/{odd}/change/"),
        ("post", f"/admin/campaigns/campaign/{odd}/step/reopen/"),
        ("post", f"/admin/campaigns/campaign/{odd}/add-imageset/"),
        ("get", f"/admin/campaigns/campaign/{odd}/labels.csv"),
        ("get", f"/admin/campaigns/campaign/{odd}/review/"),
        ("get", f"/admin/campaigns/campaign/{campaign.pk}/review/{odd}/"),
        ("get", f"/admin/campaigns/campaign/{odd}/review/{image_id}/"),
        ("get", f"/admin/campaigns/campaignimage/{odd}/change/"),
    ]:
        # A 404, or Django's redirect to "… doesn't exist" on the admin index (via …/change/).
        response = getattr(page_site, method)(url, follow=True)
        assert response.status_code in (200, 404), (url, response.status_code)
        if response.status_code == 200:
            assert response.redirect_chain[-1][0] == "/admin/", (url, response.redirect_chain)
    assert campaign_state() == before


@pytest.mark.parametrize("odd", [*ODD_IDS, "-1", " 1"])
def test_an_odd_revision_is_not_found(page_site, odd):
    campaign, images = make_exportable_campaign(status=Status.ACTIVE)
    assert review(page_site, campaign, images["d"], rev=odd).status_code == 404


@pytest.mark.parametrize("odd", ODD_IDS)
def test_adding_an_image_set_with_an_odd_id_adds_nothing_and_says_so(page_site, odd):
    campaign = make_campaign(images=0)
    ImageFactory()  # in a set of its own: image set 1 holds an image
    before = campaign_state()

    response = page_site.post(
        reverse("admin:campaigns_campaign_add_imageset", args=[campaign.pk]), {"imageset": odd}, follow=True
    )

    assert response.status_code == 200
    assert ("error", "Choose an image set.") in messages_of(response)
    assert campaign_state() == before


@pytest.mark.parametrize("odd", ODD_IDS)
def test_a_step_action_on_an_odd_selection_does_nothing_and_says_so(page_site, odd):
    campaign = make_campaign(images=1)
    before = campaign_state()

    response = page_site.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "activate", "_selected_action": [campaign.pk, odd]},
        follow=True,
    )

    assert response.status_code == 200
    assert ("error", "The selection holds an invalid id; nothing was done.") in messages_of(response)
    assert campaign_state() == before


@pytest.mark.parametrize("value", UNSTORABLE_JSON.values(), ids=UNSTORABLE_JSON.keys())
@pytest.mark.parametrize("field", ["metadata", "label_translations"])
def test_json_that_cannot_be_stored_or_shown_is_a_form_error_on_both_campaign_forms(page_site, field, value):
    campaign = make_campaign(images=0)
    change_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    management = {"campaignlabeler_set-TOTAL_FORMS": "0", "campaignlabeler_set-INITIAL_FORMS": "0"}
    before = campaign_state()

    pages = [
        page_site.post(change_url, {"metadata": "", "label_translations": "", **management, field: value}),
        page_site.post(
            reverse("admin:campaigns_campaign_add"),
            {"title": "fresh", "labeler_email": "agency@example.com", field: value},
        ),
    ]

    for page in pages:
        assert page.status_code == 200
        form = page.context["adminform"].form if "adminform" in page.context else page.context["form"]
        assert form.errors[field], form.errors
        assert html.escape(value[:200]) in page.content.decode()  # shown as typed, to be corrected
    assert campaign_state() == before


# --- truthful, live pages; errors where they happen; wording ------------------------------------


def live(site, campaign):
    return site.get(reverse("admin:campaigns_campaign_live", args=[campaign.pk])).json()


def test_the_export_panel_is_followed_while_the_job_runs_and_shows_the_files_once_it_succeeded(site, local_storage):
    campaign, _ = make_exportable_campaign()
    job = CampaignJob.objects.create(campaign=campaign, status=CampaignJob.Status.QUEUED)

    page = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert re.search(
        r'<div class="lh-panels" id="lh-campaign" data-lh-live-url="[^"]+/live/" [^>]*data-lh-live-active', page
    )
    queued = live(site, campaign)
    assert queued["active"] is True and queued["job"]["status"] == "queued"
    assert 'id="lh-export-status" class="lh-status lh-status-queued">Queued<' in queued["panels"]["lh-export"]
    assert "not started yet" in queued["panels"]["lh-export"]

    job.delete()
    campaign_export_run(campaign_id=campaign.pk)

    done = live(site, campaign)
    assert done["active"] is False and done["job"]["status"] == "succeeded"
    export = done["panels"]["lh-export"]
    assert ">Succeeded<" in export and 'id="lh-export-files"' in export and "_labels.csv</a>" in export
    assert re.search(r"\(took \d+ ms\)|\(took [\d.]+ s\)", export)
    assert 'id="lh-status"' in done["panels"]["lh-status"]
    page = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "data-lh-live-active" not in page  # nothing left to follow
    assert site.post(reverse("admin:campaigns_campaign_live", args=[campaign.pk])).status_code == 405


def test_no_field_of_the_campaign_form_repeats_what_the_panels_show(site):
    campaign = make_campaign(images=1, status=Status.FINISHED)
    CampaignJob.objects.create(campaign=campaign, status=CampaignJob.Status.RUNNING, done=1, total=7)

    page = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()

    for field in ("status", "progress", "export", "export_error"):
        assert f'class="form-row field-{field}' not in page, field
    assert 'id="lh-export-status" class="lh-status lh-status-running">Running<' in page


def test_the_campaign_page_names_its_agency(site):
    campaign = make_campaign(images=1, labeler=UserFactory(email="vendor@agency.example"))

    page = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()

    assert '<strong>Agency</strong> <span id="lh-agency">vendor@agency.example</span>' in page
    listed = site.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert re.search(r'class="column-labeler_emails">\s*<div class="text"><span>Agency</span>', listed)


def test_finishing_from_the_campaign_page_asks_first(site):
    campaign = make_campaign(images=2, status=Status.COMPLETED, title="beach-2024")

    page = html.unescape(site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode())

    finish = re.search(r'<input type="submit" id="lh-step-finish" value="Finish and export"[^>]*>', page).group(0)
    assert (
        'data-lh-confirm="Finish beach-2024 and export its labels (0 of 2 images labeled)? The agency can no longer '
        'submit, and a finished campaign cannot be reopened."'
    ) in finish
    reopen = re.search(r'<input type="submit" id="lh-step-reopen"[^>]*>', page).group(0)
    assert "data-lh-confirm" not in reopen  # a step that can be undone runs at once


def test_every_lot_decision_asks_first(site):
    campaign = make_campaign(images=4, status=Status.ACTIVE)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=None)
    site.post(reverse("admin:campaigns_campaign_sample_start", args=[campaign.pk]), {"size": "1", "seed": "3"})
    sample = campaign.samples.get()
    image_id = sample.sample_images.get().campaign_image.image_id
    site.post(
        reverse("admin:campaigns_campaign_review_decide", args=[campaign.pk, image_id]) + f"?sample={sample.pk}",
        {"decision": "accepted"},
    )

    page = html.unescape(site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode())

    for decision, question in [
        ("accept", f"Accept the lot of sample {sample.pk}? Those of its 4 images still awaiting review"),
        ("reject", f"Reject the lot of sample {sample.pk}? Those of its 4 images still awaiting review go back"),
        ("discard", f"Discard sample {sample.pk}? No image is decided"),
    ]:
        button = re.search(rf'<button type="submit" name="decision" value="{decision}"[^>]*>', page).group(0)
        assert f'data-lh-confirm="{question}' in button, decision


def test_a_refused_sample_names_the_field_as_the_page_does(site):
    campaign = make_campaign(images=2, status=Status.ACTIVE)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=None)

    answer = site.post(reverse("admin:campaigns_campaign_sample_start", args=[campaign.pk]), {"size": "0"})

    (message,) = [str(m) for m in get_messages(answer.wsgi_request)]
    assert message.startswith("No sample drawn: The sample size must be between 1 and ")
    assert "'size'" not in message


def test_the_statistics_say_what_is_the_state_now_and_what_was_done_in_the_period(site):
    campaign = make_campaign(images=2, status=Status.ACTIVE, title="beach")
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=None)

    page = site.get(reverse("admin:campaigns_campaign_stats", args=[campaign.pk])).content.decode()

    start = page.index('<table id="lh-stats">')
    table = page[start : page.index("</thead>", start)]
    headers = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th [^>]*>(.*?)</th>", table)]
    assert headers[:3] == ["campaign", "now", "in the period"]
    for label in ("images accepted", "images rejected", "decisions made", "rejections made", "revisions submitted"):
        assert label in headers, label
    assert "accepted" not in headers and "rejected" not in headers  # never a bare count of unknown kind
    summary = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "<strong>Images now</strong>" in summary
    bad = site.get(
        reverse("admin:campaigns_campaign_stats", args=[campaign.pk]), {"since": "2026-02-01", "until": "2026-01-01"}
    )
    assert "“From” must not be later than “Until”." in html.unescape(bad.content.decode())


def test_a_submission_and_a_campaign_image_read_as_what_they_are():
    campaign = make_campaign(images=1)
    (campaign_image,) = CampaignImage.objects.filter(campaign=campaign)
    submission = Submission.objects.create(campaign=campaign)

    assert str(submission) == f"submission {submission.pk} (campaign {campaign.pk})"
    assert str(campaign_image) == f"image {campaign_image.image_id} in campaign {campaign.pk}"


def test_the_add_to_campaign_picker_stays_open_with_the_reason_when_the_campaign_refuses(site, monkeypatch):
    from campaigns.admin import images as image_admin
    from core.exceptions import Conflict

    campaign = CampaignFactory(title="taking")
    image = ImageFactory()

    def refuse(**kwargs):
        raise Conflict("Images can only be added while the campaign is 'created'; it is 'active'")

    monkeypatch.setattr(image_admin, "campaign_add_images", refuse)
    response = site.post(
        reverse("admin:imagesets_image_changelist"),
        {"action": "add_to_campaign", "_selected_action": [image.pk], "campaign": campaign.pk, "apply": "1"},
    )

    assert response.status_code == 200  # the picker, not the list
    page = html.unescape(response.content.decode())
    assert "Please correct the error below." in page
    assert page.count("Not added: Images can only be added while the campaign is 'created'; it is 'active'") == 1
    assert f'name="_selected_action" value="{image.pk}"' in page
    assert messages_of(response) == []


def test_a_refused_field_is_named_as_the_form_names_it(site):
    response = site.post(
        reverse("admin:campaigns_campaign_add"),
        {"title": "fresh", "labeler_email": "agency@example.com", "labels": '[{"name": "a", "colour": 7}]'},
    )

    (error,) = response.context["form"].errors["labels"]
    assert error.startswith("The label schema item 0: 'colour' must be")  # 'colour' is a key staff typed
    assert "'labels'" not in error


def test_a_failed_export_ends_the_following_and_offers_the_retry(site):
    campaign = make_campaign(images=1, status=Status.FINISHED)
    CampaignJob.objects.create(
        campaign=campaign, status=CampaignJob.Status.FAILED, error="storage is down", done=2, total=8
    )

    answer = live(site, campaign)

    assert answer["active"] is False and answer["job"]["status"] == "failed"
    assert 'id="lh-export-error">storage is down<' in answer["panels"]["lh-export"]
    assert 'id="lh-step-retry_export" value="Retry the export"' in answer["panels"]["lh-status"]
