"""The admin's side of agreement and annotators: the campaign compared with, the statistics, the review walk."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.tests.factories import UserFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory, make_campaign
from campaigns.tests.test_agreement import Pair, thing
from conftest import client_for

pytestmark = pytest.mark.django_db

Status = Campaign.Status


@pytest.fixture
def site(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def pair():
    """The hand-computed pair of ``test_agreement``, the first campaign compared with the second."""
    pair = Pair()
    pair.campaign.consensus_with = pair.other
    pair.campaign.save(update_fields=["consensus_with"])
    return pair


def change_form(**fields):
    return {
        "metadata": "null",
        "label_translations": "null",
        "labels": "",
        "aql": "2.5",
        "labeler_links-TOTAL_FORMS": "0",
        "labeler_links-INITIAL_FORMS": "0",
        **fields,
    }


def test_staff_choose_the_campaign_to_compare_with_on_the_campaign_page(site):
    campaign, other = CampaignFactory(), CampaignFactory(title="the-other-agency")
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    assert "the-other-agency" in site.get(url).content.decode()

    response = site.post(url, change_form(consensus_with=str(other.pk)))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    campaign.refresh_from_db()
    assert campaign.consensus_with == other

    site.post(url, change_form(consensus_with=""))
    campaign.refresh_from_db()
    assert campaign.consensus_with is None


def test_a_campaign_cannot_be_compared_with_itself(site):
    campaign = CampaignFactory()
    response = site.post(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]), change_form(consensus_with=str(campaign.pk))
    )
    assert response.status_code == 200
    assert "consensus_with" in response.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert campaign.consensus_with is None


def test_the_campaign_page_links_to_the_walk_through_the_disagreements(site, pair):
    html = site.get(reverse("admin:campaigns_campaign_change", args=[pair.campaign.pk])).content.decode()
    walk = reverse("admin:campaigns_campaign_review", args=[pair.campaign.pk]) + f"?disagree_with={pair.other.pk}"
    assert 'id="lh-agreement-link"' in html and walk in html and "Compared with second" in html


def test_the_statistics_show_the_agreement_and_the_figures_per_annotator(site, pair):
    response = site.get(reverse("admin:campaigns_campaign_stats", args=[pair.campaign.pk]))

    assert response.status_code == 200
    [agreement] = response.context["agreements"]
    assert (agreement["images"], agreement["disagreements"]) == (5, 3)
    assert agreement["f1"] == pytest.approx(4 / 9)
    html = response.content.decode()
    assert 'class="lh-agreement-f1">0.444<' in html and "3 disagree" in html
    rows = {row.annotator: row for row in response.context["annotators"]}
    assert set(rows) == {"w1", "w2", ""}
    assert rows["w1"].agreement["f1"] == pytest.approx(4 / 5) and rows["w2"].delivered == 3
    assert 'id="lh-annotators"' in html and 'class="lh-annotator-agreement-f1">0.800<' in html


def test_the_agency_statistics_pool_the_annotators_of_its_campaigns(site, pair):
    response = site.get(reverse("admin:campaigns_campaign_agency_stats"), {"agency": pair.agency.email})
    assert response.status_code == 200
    rows = {row.annotator: row for row in response.context["annotators"]}
    assert rows["w1"].images == 2 and rows["w2"].images == 3


def test_no_annotator_table_when_no_delivery_named_one(site, pair):
    response = site.get(reverse("admin:campaigns_campaign_stats", args=[pair.other.pk]))
    assert response.context["annotators"] == [] and response.context["agreements"] == []
    assert 'id="lh-annotators"' not in response.content.decode()


# --- the review page walks the disagreements ---------------------------------------------------


def review(site, campaign, image_id=None, **query):
    if image_id is None:
        return site.get(reverse("admin:campaigns_campaign_review", args=[campaign.pk]), query)
    return site.get(reverse("admin:campaigns_campaign_review_image", args=[campaign.pk, image_id]), query)


def test_the_walk_starts_at_the_lowest_f1_and_steps_in_that_order(site, pair):
    _, two, three, _, _, _, seven = pair.ids
    start = review(site, pair.campaign, disagree_with=pair.other.pk)
    assert start.status_code == 302 and f"/review/{three}/?disagree_with={pair.other.pk}" in start["Location"]

    first = review(site, pair.campaign, three, disagree_with=pair.other.pk)
    assert (first.context["position"], first.context["total"]) == (1, 3)
    assert first.context["previous_url"] is None
    assert first.context["next_url"].endswith(f"/review/{seven}/?disagree_with={pair.other.pk}")
    html = first.content.decode()
    assert 'id="lh-walk"' in html and "this image F1 <b>0.000</b>" in html and "second" in html

    last = review(site, pair.campaign, two, disagree_with=pair.other.pk)
    assert (last.context["position"], last.context["walk"]["f1"]) == (3, pytest.approx(2 / 3))
    assert last.context["next_url"] is None
    assert "disagree_with" not in last.context["walk"]["leave_url"]


def test_a_decision_in_the_walk_moves_on_to_the_next_disagreement(site, pair):
    _, _, three, _, _, _, seven = pair.ids
    url = reverse("admin:campaigns_campaign_review_decide", args=[pair.campaign.pk, three])
    response = site.post(f"{url}?disagree_with={pair.other.pk}", {"decision": "accepted", "seen_review": ""})
    assert response.status_code == 302
    assert f"/review/{seven}/?disagree_with={pair.other.pk}" in response["Location"]


def test_an_image_out_of_the_walk_says_so(site, pair):
    one = pair.ids[0]  # both drew the same box
    response = review(site, pair.campaign, one, disagree_with=pair.other.pk)
    assert response.context["position"] is None
    assert "this image is not one of them" in response.content.decode()


def test_two_campaigns_that_agree_everywhere_leave_a_walk_of_nothing(site):
    agency, rival = UserFactory(), UserFactory()
    campaign = make_campaign(images=1, status=Status.ACTIVE, labeler=agency)
    other = make_campaign(images=0, status=Status.ACTIVE, labeler=rival)
    CampaignImageFactory(campaign=other, image=campaign.campaign_images.get().image)
    image_id = campaign.campaign_images.get().image_id
    for who, where in ((agency, campaign), (rival, other)):
        body = [{"image_id": image_id, "objects": [thing("Plastic", 0, 0, 10, 10)]}]
        assert client_for(who).put(f"/api/v1/campaigns/{where.pk}/objects", body, format="json").status_code == 200

    response = review(site, campaign, disagree_with=other.pk)
    assert response.status_code == 302 and "disagree_with" not in response["Location"]
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"This campaign and campaign {other.pk} disagree on no image."
    ]
