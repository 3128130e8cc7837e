"""The switching rules over HTTP: ``/campaigns/{id}/inspection``, its resumption, and each sample's ``inspection``."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from accounts.audit import Actor
from accounts.models import AuditEvent
from campaigns.models import Campaign, ReviewSample
from campaigns.tests.conftest import campaign_state
from campaigns.tests.test_switching_services import LOT, Delivery, campaign_of
from testing.api import assert_error

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def delivery(admin_user, labeler_user):
    campaign = campaign_of(labeler_user, 8 * LOT + 1, aql=Decimal("10"), title="switching")
    return Delivery(campaign, labeler_user, admin_user)


def inspection_of(client, campaign):
    return client.get(f"{API}/campaigns/{campaign.pk}/inspection")


def test_the_first_lot_is_inspected_normally(admin_client, delivery):
    response = inspection_of(admin_client, delivery.campaign)
    assert response.status_code == 200
    assert response.json() == {
        "campaign_id": delivery.campaign.pk,
        "severity": "normal",
        "table": "2-A",
        "reason": "Normal inspection: no lot decided yet, and inspection starts normal",
        "switching_score": 0,
        "discontinued": False,
        "lots": 0,
        "reduced_inspection": True,
    }


def test_two_rejected_lots_tighten_the_next_sample_and_its_body_says_why(admin_client, delivery):
    first = delivery.lot(accept=False)
    second = delivery.lot(accept=False)
    expected = {
        "severity": "tightened",
        "table": "2-B",
        "reason": f"Tightened inspection: 2 of the last 2 lots were not accepted (samples {first.pk} and {second.pk})",
        "switching_score": None,
    }
    told = inspection_of(admin_client, delivery.campaign).json()
    assert {key: told[key] for key in expected} == expected
    assert (told["lots"], told["discontinued"]) == (2, False)

    delivery.deliver()
    response = admin_client.post(f"{API}/campaigns/{delivery.campaign.pk}/samples", {"seed": 5}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["inspection"] == expected
    assert (body["code_letter"], body["sample_size"], body["acceptance_number"], body["rejection_number"]) == (
        "D",
        8,
        1,
        2,
    )
    assert body["gold"] == {"images": 0, "f1": None, "min_f1": None, "passed": None}
    listed = admin_client.get(f"{API}/campaigns/{delivery.campaign.pk}/samples").json()["samples"]
    assert [sample["inspection"]["severity"] for sample in listed] == ["tightened", "normal", "normal"]
    assert listed[2]["inspection"]["reason"] == "Normal inspection: no lot decided yet, and inspection starts normal"


def test_staff_turn_reduced_inspection_off_and_on(admin_client, admin_user, delivery):
    url = f"{API}/campaigns/{delivery.campaign.pk}/inspection"
    response = admin_client.patch(url, {"reduced_inspection": False}, format="json")
    assert response.status_code == 200 and response.json()["reduced_inspection"] is False
    assert Campaign.objects.get(pk=delivery.campaign.pk).reduced_inspection is False
    event = AuditEvent.objects.get(action="campaign.reduced_inspection")
    assert (event.actor_user, event.details) == (admin_user, {"reduced_inspection": False})

    before = campaign_state()
    for body in ({}, {"reduced_inspection": False}):  # nothing to change: nothing recorded
        response = admin_client.patch(url, body, format="json")
        assert response.status_code == 200 and response.json()["reduced_inspection"] is False
    assert campaign_state() == before
    assert admin_client.patch(url, {"reduced_inspection": True}, format="json").json()["reduced_inspection"] is True


@pytest.mark.parametrize(
    "body, detail",
    [
        ([], 'Expected an object: {"reduced_inspection": true|false}'),
        ("yes", 'Expected an object: {"reduced_inspection": true|false}'),
        ({"reduced_inspection": "false"}, "'reduced_inspection' must be true or false"),
        ({"reduced_inspection": 0}, "'reduced_inspection' must be true or false"),
        ({"reduced_inspection": None}, "'reduced_inspection' must be true or false"),
        ({"reduced_inspection": [True]}, "'reduced_inspection' must be true or false"),
    ],
)
def test_a_malformed_inspection_setting_is_a_400_and_changes_nothing(admin_client, delivery, body, detail):
    before = campaign_state()
    response = admin_client.patch(f"{API}/campaigns/{delivery.campaign.pk}/inspection", body, format="json")
    assert assert_error(response, 400)["detail"] == detail
    assert campaign_state() == before


def test_an_unknown_campaign_is_a_404_for_each_inspection_operation(admin_client, delivery):
    before = campaign_state()
    for response in (
        admin_client.get(f"{API}/campaigns/999999/inspection"),
        admin_client.patch(f"{API}/campaigns/999999/inspection", {"reduced_inspection": False}, format="json"),
        admin_client.patch(f"{API}/campaigns/999999/inspection", {}, format="json"),
        admin_client.post(f"{API}/campaigns/999999/inspection/resume"),
    ):
        assert_error(response, 404, "Campaign 999999 not found")
    assert campaign_state() == before


def test_resuming_inspection_that_runs_is_a_409_and_changes_nothing(admin_client, delivery):
    delivery.lot(accept=True)
    before = campaign_state()
    response = admin_client.post(f"{API}/campaigns/{delivery.campaign.pk}/inspection/resume")
    assert_error(
        response,
        409,
        "Inspection of this campaign is not discontinued, there is nothing to resume: Normal inspection continues",
    )
    assert campaign_state() == before


def test_discontinued_inspection_refuses_samples_until_staff_resume_it(admin_client, delivery):
    delivery.lot(accept=False)
    delivery.lot(accept=False)
    tightened = [delivery.lot(accept=False) for _ in range(5)]
    told = inspection_of(admin_client, delivery.campaign).json()
    assert told["discontinued"] is True and told["severity"] == "tightened"
    assert told["reason"].startswith("Inspection discontinued until staff resume it: 5 lots were not accepted")
    assert ReviewSample.objects.get(pk=tightened[-1].pk).discontinued

    delivery.deliver()
    before = campaign_state()
    response = admin_client.post(f"{API}/campaigns/{delivery.campaign.pk}/samples", {}, format="json")
    assert_error(response, 409, "Inspection discontinued until staff resume it")
    assert campaign_state() == before

    response = admin_client.post(f"{API}/campaigns/{delivery.campaign.pk}/inspection/resume")
    assert response.status_code == 200
    body = response.json()
    assert (body["severity"], body["discontinued"]) == ("tightened", False)
    assert f"discontinued after the lot of sample {tightened[-1].pk} and resumed by jayke@test.com" in body["reason"]
    drawn = admin_client.post(f"{API}/campaigns/{delivery.campaign.pk}/samples", {}, format="json")
    assert drawn.status_code == 200 and drawn.json()["inspection"]["severity"] == "tightened"
    assert_error(admin_client.post(f"{API}/campaigns/{delivery.campaign.pk}/inspection/resume"), 409)


def test_the_inspection_costs_the_same_queries_for_1_and_6_lots(
    admin_client, delivery, django_assert_num_queries, django_assert_max_num_queries
):
    delivery.lot(accept=True)
    inspection_of(admin_client, delivery.campaign)  # the key's use is recorded at most once an interval
    with django_assert_max_num_queries(math.inf) as captured:
        assert inspection_of(admin_client, delivery.campaign).json()["lots"] == 1
    for _ in range(5):
        delivery.lot(accept=True)
    with django_assert_num_queries(len(captured)):
        assert inspection_of(admin_client, delivery.campaign).json()["lots"] == 6


def test_the_sample_list_costs_the_same_queries_for_1_and_4_samples(
    admin_client, delivery, django_assert_num_queries, django_assert_max_num_queries
):
    delivery.lot(accept=False)
    url = f"{API}/campaigns/{delivery.campaign.pk}/samples"
    admin_client.get(url)  # the key's use is recorded at most once an interval
    with django_assert_max_num_queries(math.inf) as captured:
        assert len(admin_client.get(url).json()["samples"]) == 1
    for _ in range(3):
        delivery.lot(accept=False)
    with django_assert_num_queries(len(captured)):
        samples = admin_client.get(url).json()["samples"]
    assert [sample["inspection"]["table"] for sample in samples] == ["2-B", "2-B", "2-A", "2-A"]


def test_the_agency_cannot_read_or_change_the_inspection(labeler_client, delivery):
    campaign = delivery.campaign
    before = campaign_state()
    for response in (
        labeler_client.get(f"{API}/campaigns/{campaign.pk}/inspection"),
        labeler_client.patch(f"{API}/campaigns/{campaign.pk}/inspection", {"reduced_inspection": False}, format="json"),
        labeler_client.post(f"{API}/campaigns/{campaign.pk}/inspection/resume"),
    ):
        assert response.status_code == 401
    assert campaign_state() == before


def test_an_admin_changes_the_setting_through_the_service_with_the_audit_trails_actor(admin_user, delivery):
    from campaigns.services import campaign_set_reduced_inspection

    campaign_set_reduced_inspection(campaign_id=delivery.campaign.pk, allowed=False, actor=Actor(user=admin_user))
    assert AuditEvent.objects.get(action="campaign.reduced_inspection").actor == "jayke@test.com"
