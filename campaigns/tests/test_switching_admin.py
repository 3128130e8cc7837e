"""The switching rules and the gold gate on a campaign's page in the admin: what staff see, resume and allow."""

from __future__ import annotations

import html
import math
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.tests.factories import UserFactory
from campaigns.models import Campaign, ReviewSample
from campaigns.tests.conftest import campaign_state
from campaigns.tests.test_switching_services import LOT, Delivery, campaign_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def site(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def delivery(staff):
    campaign = campaign_of(UserFactory(email="agency@example.com"), 8 * LOT + 1, aql=Decimal("10"))
    return Delivery(campaign, campaign.labelers.get(), staff)


def page(site, campaign) -> str:
    response = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert response.status_code == 200
    return response.content.decode()


def text_of(content: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:div|form)>', content, re.S)
    assert match, element_id
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_the_page_tells_the_next_lots_inspection_and_each_samples(site, delivery):
    first = delivery.lot(accept=False)
    second = delivery.lot(accept=False)
    content = page(site, delivery.campaign)
    assert text_of(content, "lh-next-inspection") == (
        f"Tightened inspection: 2 of the last 2 lots were not accepted (samples {first.pk} and {second.pk}) (Table 2-B)"
    )
    assert 'id="lh-sample-form"' in content and 'id="lh-resume-inspection"' not in content

    delivery.deliver()
    start = reverse("admin:campaigns_campaign_sample_start", args=[delivery.campaign.pk])
    response = site.post(start, {"seed": "2"}, follow=True)
    sample = ReviewSample.objects.get(campaign=delivery.campaign, lot_decision="")
    assert (
        "success",
        f"Sample {sample.pk}: 8 of 26 images (tightened inspection, code letter D, accept with at "
        "most 1 rejected). Review them now.",
    ) in messages_of(response)
    content = page(site, delivery.campaign)
    assert text_of(content, "lh-sample-inspection") == (
        "Inspection Tightened inspection: 2 of the last 2 lots were not accepted "
        f"(samples {first.pk} and {second.pk}) (Table 2-B)"
    )
    assert 'id="lh-next-inspection"' not in content  # the open sample's own inspection is shown instead


def test_staff_turn_reduced_inspection_off_and_on_from_the_page(site, delivery):
    url = reverse("admin:campaigns_campaign_inspection", args=[delivery.campaign.pk])
    setting = text_of(page(site, delivery.campaign), "lh-reduced-inspection")
    assert "allowed once the switching score reaches 30" in setting
    response = site.post(url, {"action": "reduced_off"}, follow=True)
    assert ("success", "Reduced inspection turned off: lots stay on normal (or tightened) inspection.") in (
        messages_of(response)
    )
    assert Campaign.objects.get(pk=delivery.campaign.pk).reduced_inspection is False
    assert "turned off" in text_of(page(site, delivery.campaign), "lh-reduced-inspection")
    site.post(url, {"action": "reduced_on"}, follow=True)
    assert Campaign.objects.get(pk=delivery.campaign.pk).reduced_inspection is True
    assert AuditEvent.objects.filter(action="campaign.reduced_inspection").count() == 2

    before = campaign_state()
    response = site.post(url, {"action": "reduce"}, follow=True)
    assert messages_of(response) == [("error", "Choose what to do with the inspection.")]
    assert campaign_state() == before


def test_discontinued_inspection_offers_to_resume_instead_of_a_sample(site, delivery):
    url = reverse("admin:campaigns_campaign_inspection", args=[delivery.campaign.pk])
    before = campaign_state()
    response = site.post(url, {"action": "resume"}, follow=True)
    assert messages_of(response)[0][0] == "error" and "not discontinued" in messages_of(response)[0][1]
    assert campaign_state() == before

    for _ in range(7):  # 2 to tighten, 5 on tightened inspection
        delivery.lot(accept=False)
    content = page(site, delivery.campaign)
    assert text_of(content, "lh-next-inspection").startswith(
        "Inspection discontinued until staff resume it: 5 lots were not accepted"
    )
    assert 'id="lh-sample-form"' not in content and 'id="lh-resume-inspection"' in content

    response = site.post(url, {"action": "resume"}, follow=True)
    assert ("success", "Inspection resumed: the next sample is drawn under tightened inspection.") in (
        messages_of(response)
    )
    content = page(site, delivery.campaign)
    assert 'id="lh-sample-form"' in content
    assert "resumed by root@example.com" in text_of(content, "lh-next-inspection")


def test_a_lot_whose_gold_is_below_the_minimum_cannot_be_accepted_from_the_page(site, delivery):
    delivery.deliver()
    sample = delivery.draw()
    # As drawn from a lot holding three gold images that score F1 0.6251 under a minimum of 0.8.
    ReviewSample.objects.filter(pk=sample.pk).update(gold_images=3, gold_f1=0.6251, gold_min_f1=Decimal("0.8"))
    assert text_of(page(site, delivery.campaign), "lh-sample-gold") == (
        "Gold 3 gold images in the lot, F1 0.625; the campaign's minimum 0.80 — below the minimum: the lot is "
        "rejected and cannot be accepted"
    )
    sample = delivery.review_sampled(sample, accept=True)
    assert (sample.defects, sample.verdict) == (0, "reject")  # no defect: the gold rejects it
    button = re.search(r'<button[^>]*id="lh-lot-accept"[^>]*>', page(site, delivery.campaign)).group(0)
    refusal = (
        "The lot cannot be accepted: gold F1 0.625 is below the campaign's minimum 0.80 (3 gold images in the lot)"
    )
    assert f'disabled title="{refusal}"' in html.unescape(button)

    before = campaign_state()
    decide = reverse("admin:campaigns_campaign_sample_decide", args=[delivery.campaign.pk, sample.pk])
    response = site.post(decide, {"decision": "accept"}, follow=True)
    assert messages_of(response) == [("error", f"Lot not decided: {refusal}. Reject it, or discard the sample")]
    assert campaign_state() == before
    assert site.post(decide, {"decision": "reject"}).status_code == 302
    assert ReviewSample.objects.get(pk=sample.pk).lot_decision == "reject"


def test_the_campaign_page_costs_the_same_queries_for_1_and_5_lots(
    site, delivery, django_assert_num_queries, django_assert_max_num_queries
):
    delivery.lot(accept=True)
    page(site, delivery.campaign)
    with django_assert_max_num_queries(math.inf) as captured:
        page(site, delivery.campaign)
    for _ in range(4):
        delivery.lot(accept=True)
    with django_assert_num_queries(len(captured)):
        page(site, delivery.campaign)
