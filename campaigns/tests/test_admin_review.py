"""The review page as a work tool: decisions, the next image to review, label filters, comparing revisions."""

from __future__ import annotations

import math
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.tests.factories import UserFactory
from campaigns.admin.delivery import duration_text
from campaigns.admin.review_boxes import text_colour
from campaigns.models import Campaign, CampaignImage, Review
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import box, make_campaign, new_object, objects_body, replace_objects_from_body

pytestmark = pytest.mark.django_db

Status = Campaign.Status


@pytest.fixture
def staff():
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def site(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def delivered():
    campaign = make_campaign(images=3, status=Status.ACTIVE)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign), 2), user=None)
    return campaign


def page(site, campaign, image_id, **query):
    return site.get(reverse("admin:campaigns_campaign_review_image", args=[campaign.pk, image_id]), query)


def decide(site, campaign, image_id, data, **query):
    url = reverse("admin:campaigns_campaign_review_decide", args=[campaign.pk, image_id])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return site.post(url, data)


def test_accepting_moves_on_to_the_next_image_awaiting_review(site, delivered, staff):
    first, second, third = image_ids(delivered)
    response = page(site, delivered, first)
    content = response.content.decode()
    assert 'id="lh-accept-form"' in content and 'id="lh-reject-form"' in content
    assert response.context["next_pending_url"].endswith(f"/review/{second}/")
    submission = CampaignImage.objects.get(campaign=delivered, image_id=first).current_submission_id

    answer = decide(site, delivered, first, {"decision": "accepted", "submission_id": submission}, show="pending")
    assert answer.status_code == 302 and answer["Location"].endswith(f"/review/{second}/?show=pending")
    review = Review.objects.get()
    assert (review.decision, review.reviewer, review.submission_id) == ("accepted", staff, submission)
    assert AuditEvent.objects.filter(action="campaign.review", actor=staff.email).count() == 1
    accepted = page(site, delivered, first).content.decode()
    assert 'class="lh-state-accepted"' in accepted and "Last decision: <strong>accepted</strong>" in accepted


def test_a_rejection_from_the_page_needs_a_reason_and_reopens_the_campaign(site, delivered):
    first = image_ids(delivered)[0]
    before = campaign_state()
    refused = decide(site, delivered, first, {"decision": "rejected", "reason": ""})
    assert refused.status_code == 302 and refused["Location"].endswith(f"/review/{first}/")
    assert "needs a 'reason'" in [str(m) for m in get_messages(refused.wsgi_request)][0]
    assert campaign_state() == before

    decide(site, delivered, first, {"decision": "rejected", "reason_code": "missing-object", "reason": "the dog"})
    row = CampaignImage.objects.get(campaign=delivered, image_id=first)
    assert (row.review_state, row.labeled) == ("rejected", False)
    assert (row.last_review.reason_code, row.last_review.reason) == ("missing-object", "the dog")
    delivered.refresh_from_db()
    assert delivered.status == Status.ACTIVE


def test_a_decision_on_a_superseded_revision_is_refused_with_a_message(site, delivered):
    first = image_ids(delivered)[0]
    seen = CampaignImage.objects.get(campaign=delivered, image_id=first).current_submission_id
    Campaign.objects.filter(pk=delivered.pk).update(status=Status.ACTIVE)
    replace_objects_from_body(campaign_id=delivered.pk, items=objects_body([first]), user=None)
    before = campaign_state()
    answer = decide(site, delivered, first, {"decision": "accepted", "submission_id": seen})
    assert "not its current revision" in [str(m) for m in get_messages(answer.wsgi_request)][0]
    assert campaign_state() == before


def test_no_decision_buttons_on_a_finished_campaign_and_the_post_is_refused(site, delivered):
    first = image_ids(delivered)[0]
    Campaign.objects.filter(pk=delivered.pk).update(status=Status.FINISHED)
    assert 'id="lh-accept-form"' not in page(site, delivered, first).content.decode()
    before = campaign_state()
    decide(site, delivered, first, {"decision": "accepted"})
    assert campaign_state() == before


def test_an_agency_user_logged_in_cannot_decide(client, delivered):
    client.force_login(UserFactory(email="agency@example.com"))
    before = campaign_state()
    response = decide(client, delivered, image_ids(delivered)[0], {"decision": "accepted"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert campaign_state() == before


def test_the_label_filter_keeps_only_images_with_such_a_box(site):
    campaign = make_campaign(images=3, status=Status.ACTIVE)
    a, b, c = image_ids(campaign)
    replace_objects_from_body(
        campaign_id=campaign.pk,
        items=[
            {"image_id": a, "objects": [new_object("cat")]},
            {"image_id": b, "objects": [new_object("dog")]},
            {"image_id": c, "objects": [new_object("cat"), new_object("dog")]},
        ],
        user=None,
    )
    response = page(site, campaign, a, label="dog")
    assert [item["label"] for item in response.context["labels"]] == ["cat", "dog"]
    counts = {f["name"]: f["count"] for f in response.context["filters"]}
    assert counts["all"] == 2 and counts["pending"] == 2
    assert response.context["in_filter"] is False
    assert response.context["next_url"].endswith(f"/review/{b}/?label=dog")
    first = site.get(reverse("admin:campaigns_campaign_review", args=[campaign.pk]), {"label": "cat", "show": "all"})
    assert first["Location"].endswith(f"/review/{a}/?label=cat")


def test_comparing_with_the_previous_revision_marks_what_changed(site):
    campaign = make_campaign(images=2, status=Status.ACTIVE)  # one stays unlabeled: the campaign stays active
    image_id = image_ids(campaign)[0]
    before = [
        new_object("cat", bounding_box=box(0, 50, 0, 50)),
        new_object("dog", bounding_box=box(100, 150, 100, 150)),
        new_object("bird", bounding_box=box(10, 20, 150, 180)),
    ]
    after = [
        new_object("cat", bounding_box=box(0, 50, 0, 50)),  # kept
        new_object("dog", bounding_box=box(102, 152, 100, 150)),  # moved
        new_object("fox", bounding_box=box(150, 190, 0, 40)),  # added (the bird is removed)
    ]
    replace_objects_from_body(campaign_id=campaign.pk, items=[{"image_id": image_id, "objects": before}], user=None)
    replace_objects_from_body(campaign_id=campaign.pk, items=[{"image_id": image_id, "objects": after}], user=None)
    plain = page(site, campaign, image_id)
    assert plain.context["can_compare"] and not plain.context["comparing"]
    compared = page(site, campaign, image_id, compare="1")
    assert compared.context["changes"] == {"kept": 1, "moved": 1, "relabeled": 0, "added": 1, "removed": 1}
    content = compared.content.decode()
    assert re.findall(r'data-change="(\w+)"', content).count("removed") == 1
    assert 'class="lh-box lh-change-moved"' in content and 'class="lh-box lh-change-added"' in content
    assert "removed: bird" in content


def test_captions_use_a_text_colour_that_reads_on_the_labels_colour():
    assert text_colour("#ffe119") == "#000000"  # yellow: black text
    assert text_colour("#000075") == "#ffffff"  # navy: white text


# --- the review panel, samples and statistics pages ---------------------------------------------


def test_the_campaign_page_draws_a_sample_and_decides_its_lot(site, staff):
    campaign = make_campaign(images=6, status=Status.ACTIVE)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=None)
    change = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="lh-review-panel"' in change and "6 awaiting review" in change and 'id="lh-sample-form"' in change

    drawn = site.post(reverse("admin:campaigns_campaign_sample_start", args=[campaign.pk]), {"size": "2", "seed": "9"})
    sample = campaign.samples.get()
    assert drawn["Location"].endswith(f"/review/?sample={sample.pk}&show=pending")
    walk = site.get(drawn["Location"], follow=True)
    sampled = set(sample.sample_images.values_list("campaign_image__image_id", flat=True))
    assert walk.context["image"].pk in sampled and walk.context["total"] == 2

    for image_id in sampled:
        decide(site, campaign, image_id, {"decision": "accepted"}, sample=sample.pk, show="pending")
    change = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="lh-sample-verdict">Accept the lot<' in change and 'id="lh-lot-accept"' in change
    site.post(reverse("admin:campaigns_campaign_sample_decide", args=[campaign.pk, sample.pk]), {"decision": "accept"})
    sample.refresh_from_db()
    assert sample.lot_decision == "accept" and sample.lot_decided_by == staff
    assert set(CampaignImage.objects.filter(campaign=campaign).values_list("review_state", flat=True)) == {"accepted"}


def test_a_refused_sample_is_a_message_and_stores_nothing(site):
    campaign = make_campaign(images=2, status=Status.ACTIVE)
    before = campaign_state()
    answer = site.post(reverse("admin:campaigns_campaign_sample_start", args=[campaign.pk]), {"size": "x"})
    assert "No sample drawn" in [str(m) for m in get_messages(answer.wsgi_request)][0]
    answer = site.post(reverse("admin:campaigns_campaign_sample_start", args=[campaign.pk]), {})
    assert "no lot" in [str(m) for m in get_messages(answer.wsgi_request)][-1]
    assert campaign_state() == before


def test_the_statistics_pages_and_their_csv(site, staff):
    agency = UserFactory(email="vendor@example.com")
    campaign = make_campaign(images=3, status=Status.ACTIVE, labeler=agency, title="beach")
    other = make_campaign(images=2, status=Status.ACTIVE, labeler=agency, title="forest")
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign), 2), user=agency)
    replace_objects_from_body(campaign_id=other.pk, items=objects_body(image_ids(other)[:1]), user=agency)

    page_ = site.get(reverse("admin:campaigns_campaign_stats", args=[campaign.pk]))
    assert page_.status_code == 200 and 'id="lh-stats"' in page_.content.decode()
    csv_text = site.get(reverse("admin:campaigns_campaign_stats", args=[campaign.pk]), {"format": "csv"})
    assert csv_text["Content-Type"].startswith("text/csv")
    lines = csv_text.content.decode().splitlines()
    assert lines[0].startswith("campaign_id,campaign,images,unlabeled,labeled,pending")
    assert lines[1].startswith(f"{campaign.pk},beach,3,0,3,3,")

    url = reverse("admin:campaigns_campaign_agency_stats")
    empty = site.get(url)
    assert empty.context["report"] is None
    by_agency = site.get(url, {"agency": "vendor@example.com", "format": "csv"}).content.decode().splitlines()
    assert [line.split(",")[1] for line in by_agency[1:]] == ["beach", "forest", "total"]
    assert by_agency[-1].startswith(",total,5,1,4,4,")
    bad = site.get(url, {"agency": "vendor@example.com", "since": "2026-02-01", "until": "2026-01-01"})
    assert bad.status_code == 200 and bad.context["report"] is None


def test_the_statistics_pages_take_the_same_queries_for_one_and_many_campaigns(
    site, django_assert_num_queries, django_assert_max_num_queries
):
    def agency_labeling(campaigns):
        agency = UserFactory()
        for _ in range(campaigns):
            campaign = make_campaign(images=3, status=Status.ACTIVE, labeler=agency)
            replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=agency)
        return agency

    url = reverse("admin:campaigns_campaign_agency_stats")
    agency = agency_labeling(1)
    with django_assert_max_num_queries(math.inf) as captured:  # any number: 6 campaigns must take no more
        site.get(url, {"agency": agency.email, "format": "csv"})
    few = len(captured)
    agency = agency_labeling(6)
    with django_assert_num_queries(few):
        site.get(url, {"agency": agency.email, "format": "csv"})


@pytest.mark.parametrize(
    "seconds, text",
    [(None, "—"), (40.4, "40 s"), (125, "2 min 5 s"), (7500, "2 h 5 min"), (3 * 86400 + 4 * 3600, "3 d 4 h")],
)
def test_medians_read_as_durations(seconds, text):

    assert duration_text(seconds) == text
