"""Gold images in the admin: the campaign page's panel, the minimum F1 on the forms, the gold list, the scorecard."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.tests.factories import UserFactory
from campaigns.inputs import parse_object_items
from campaigns.models import Campaign, CampaignImage, GoldImage, GoldScore
from campaigns.services import gold_replace, objects_replace
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import make_campaign

pytestmark = pytest.mark.django_db

Status = Campaign.Status


def obj(label: str, xmin: int, ymin: int, xmax: int, ymax: int) -> dict:
    return {"label": label, "bounding_box": {"xmin": xmin, "xmax": xmax, "ymin": ymin, "ymax": ymax}}


REFERENCE = [obj("car", 0, 0, 100, 100), obj("person", 100, 100, 150, 200)]
# TP 2 (car at IoU 0.5, person at 1), FP 1 (the dog).
DELIVERY = [obj("car", 0, 0, 100, 50), obj("person", 100, 100, 150, 200), obj("dog", 10, 10, 20, 20)]


def items(objects: dict) -> list:
    return parse_object_items([{"image_id": image_id, "objects": boxes} for image_id, boxes in objects.items()])


def give(campaign, objects: dict) -> None:
    gold_replace(campaign_id=campaign.pk, objects_by_image=items(objects), actor=None)


def deliver(campaign, user, objects: dict):
    return objects_replace(campaign_id=campaign.pk, objects_by_image=items(objects), user=user)


@pytest.fixture
def site(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def agency():
    return UserFactory(email="vendor@example.com")


@pytest.fixture
def scored(agency):
    """An active campaign (minimum F1 0.9) of three images: two gold, both delivered (TP 2, FP 1, FN 1)."""
    campaign = make_campaign(images=3, status=Status.ACTIVE, labeler=agency, title="beach", gold_min_f1=Decimal("0.9"))
    first, second, _ = image_ids(campaign)
    give(campaign, {first: REFERENCE, second: [obj("car", 0, 0, 50, 50)]})
    deliver(campaign, agency, {first: DELIVERY, second: []})
    return campaign


def test_the_campaign_page_shows_its_gold_images_and_their_quality(site, scored):
    page = site.get(reverse("admin:campaigns_campaign_change", args=[scored.pk]))

    assert page.status_code == 200
    gold = page.context["panels"]["gold"]
    assert (gold["images"], gold["scored"], gold["f1"]) == (2, 2, pytest.approx(2 / 3))
    assert gold["below_min"] is True  # 0.667 < 0.9
    content = page.content.decode()
    assert '<span id="lh-gold-count">2, 2 delivered and scored</span>' in content
    assert '<span id="lh-gold-f1" class="lh-error">0.667</span>' in content
    assert '<span class="lh-error">the campaign is below it</span>' in content
    assert '<tr><th scope="row">car</th><td>0.667</td><td>1.000</td><td>0.500</td></tr>' in content
    assert f"?campaign__id__exact={scored.pk}" in content


def test_a_campaign_without_gold_images_says_how_to_give_them(site):
    campaign = make_campaign(images=1)
    content = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "No gold images" in content and f"PUT /campaigns/{campaign.pk}/gold" in content


def test_the_add_page_sets_the_minimum_f1_and_refuses_one_outside_0_to_1(site):
    url = reverse("admin:campaigns_campaign_add")
    refused = site.post(url, {"title": "gated", "labeler_email": "a@example.com", "gold_min_f1": "1.5"})
    assert refused.status_code == 200 and not Campaign.objects.exists()
    assert "gold_min_f1" in refused.context["form"].errors

    site.post(url, {"title": "gated", "labeler_email": "a@example.com", "gold_min_f1": "0.85"})
    assert Campaign.objects.get().gold_min_f1 == Decimal("0.850")
    site.post(url, {"title": "ungated", "labeler_email": "a@example.com"})
    assert Campaign.objects.get(title="ungated").gold_min_f1 is None


def test_the_change_page_edits_the_minimum_f1(site):
    campaign = make_campaign(images=0)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    form = site.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"gold_min_f1": "0.7", "labeler_links-TOTAL_FORMS": "0", "labeler_links-INITIAL_FORMS": "0"})

    response = site.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    campaign.refresh_from_db()
    assert campaign.gold_min_f1 == Decimal("0.700")


def test_the_gold_list_shows_each_reference_and_removes_one(site, scored):
    first, second, _ = image_ids(scored)
    other = make_campaign(images=1)
    give(other, {image_ids(other)[0]: []})
    url = reverse("admin:campaigns_goldimage_changelist")

    listed = site.get(url, {"campaign__id__exact": scored.pk})
    assert [row.image_id for row in listed.context["cl"].result_list] == [first, second]
    assert [row.latest_f1 for row in listed.context["cl"].result_list] == [pytest.approx(0.8), 0.0]
    assert "not delivered yet" in site.get(url).content.decode()  # the other campaign's
    detail = site.get(reverse("admin:campaigns_goldimage_change", args=[GoldImage.objects.get(image_id=first).pk]))
    assert detail.status_code == 200 and "reference boxes" in detail.content.decode().lower()

    chosen = GoldImage.objects.get(campaign=scored, image_id=first)
    response = site.post(url, {"action": "remove_gold", "_selected_action": [chosen.pk]}, follow=True)

    assert "Removed 1 gold image(s)" in [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert list(GoldImage.objects.filter(campaign=scored).values_list("image_id", flat=True)) == [second]
    assert not GoldScore.objects.filter(gold_id=chosen.pk).exists()
    assert CampaignImage.objects.filter(campaign=scored, image_id=first).exists()
    assert AuditEvent.objects.filter(action="campaign.gold_delete").count() == 1


def test_no_one_edits_a_reference_by_hand(site, scored):
    gold = GoldImage.objects.filter(campaign=scored).first()
    before = campaign_state()
    response = site.post(reverse("admin:campaigns_goldimage_change", args=[gold.pk]), {"source": "file"})
    assert response.status_code == 403
    assert site.get(reverse("admin:campaigns_goldimage_add")).status_code == 403
    assert campaign_state() == before


# --- the scorecard ------------------------------------------------------------------------


def test_the_agency_scorecard_adds_gold_figures_per_campaign_in_total_and_per_week(site, agency, scored):
    forest = make_campaign(images=2, status=Status.ACTIVE, labeler=agency, title="forest")
    image = image_ids(forest)[0]
    give(forest, {image: [obj("car", 0, 0, 10, 10)]})
    deliver(forest, agency, {image: [obj("car", 0, 0, 10, 10)]})  # TP 1
    # The beach's deliveries were made two weeks earlier; its first image delivered again since: TP 2, FN 0.
    earlier = timezone.now() - timedelta(days=14)
    GoldScore.objects.filter(campaign=scored).update(date_submitted=earlier)
    deliver(scored, agency, {image_ids(scored)[0]: REFERENCE})
    url = reverse("admin:campaigns_campaign_agency_stats")

    page = site.get(url, {"agency": agency.email})

    report = page.context["report"]
    beach, forest_row = report.rows
    # Latest scores: beach first image TP 2, second FN 1; forest TP 1. Total TP 3, FP 0, FN 1: F1 6/7.
    assert report.gold_of(beach) == {
        "images": 2,
        "scored": 2,
        "precision": 1.0,
        "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(0.8),
        "mean_iou": 1.0,
    }
    assert report.gold_of(forest_row)["f1"] == 1.0
    assert report.gold_of(report.total)["f1"] == pytest.approx(6 / 7)
    # Per week every delivery: two weeks ago TP 2, FP 1, FN 1 (F1 2/3); this week TP 3 (F1 1).
    weeks = report.gold_weeks
    assert [week["scored"] for week in weeks] == [2, 2]
    assert [week["f1"] for week in weeks] == [pytest.approx(2 / 3), 1.0]
    content = page.content.decode()
    assert 'id="lh-gold-weeks"' in content and '<td class="lh-gold-f1">0.857</td>' in content

    lines = site.get(url, {"agency": agency.email, "format": "csv"}).content.decode().splitlines()
    assert lines[0].endswith(",gold_images,gold_scored,gold_precision,gold_recall,gold_f1,gold_mean_iou")
    assert lines[-1].endswith(",3,3,1.0,0.75,0.857143,1.0")

    since = (timezone.now() - timedelta(days=3)).date().isoformat()
    recent = site.get(url, {"agency": agency.email, "since": since}).context["report"]
    assert recent.gold_of(recent.total)["scored"] == 2
    assert [week["scored"] for week in recent.gold_weeks] == [2]


def test_the_scorecard_takes_the_same_queries_for_one_and_many_campaigns_with_gold(
    site, django_assert_num_queries, django_assert_max_num_queries
):
    def agency_with_gold(campaigns):
        agency = UserFactory()
        for _ in range(campaigns):
            campaign = make_campaign(images=2, status=Status.ACTIVE, labeler=agency)
            first = image_ids(campaign)[0]
            give(campaign, {first: REFERENCE})
            deliver(campaign, agency, {first: DELIVERY})
        return agency

    url = reverse("admin:campaigns_campaign_agency_stats")
    agency = agency_with_gold(1)
    with django_assert_max_num_queries(math.inf) as captured:  # any number: 5 campaigns must take no more
        site.get(url, {"agency": agency.email})
    few = len(captured)
    agency = agency_with_gold(5)
    with django_assert_num_queries(few):
        response = site.get(url, {"agency": agency.email})
    assert response.context["report"].gold_of(response.context["report"].total)["scored"] == 5
