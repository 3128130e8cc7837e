"""``/api/v1/webhooks``: who sees and changes which endpoint, what is refused, what agencies receive."""

from __future__ import annotations

import json

import pytest

from accounts.tests.factories import UserFactory
from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from campaigns.tests.factories import make_campaign
from webhooks import network
from webhooks.models import Webhook, WebhookDelivery, WebhookEvent
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db

URL = "https://hooks.agency.example/labelhub"
PUBLIC = "93.184.216.34"


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch):
    """Names resolve to a public address unless a test says otherwise (no real DNS in tests)."""
    table = {"hooks.agency.example": [PUBLIC], "internal.example": ["10.1.2.3"], "localhost": ["127.0.0.1"]}

    def resolve(host, port):
        if host in table:
            return table[host]
        return [host] if _is_ip(host) else _unknown(host)

    monkeypatch.setattr(network, "resolve", resolve)


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _unknown(host):
    raise OSError(f"Name or service not known: {host}")


def stored():
    return (
        list(Webhook.objects.order_by("pk").values_list("pk", "url", "events", "active", "owner_id", "description")),
        WebhookEvent.objects.count(),
        WebhookDelivery.objects.count(),
    )


# --- create, read, change, delete ----------------------------------------------------------


def test_an_agency_creates_its_endpoint_and_sees_the_secret_only_once(labeler_client, labeler_user):
    response = labeler_client.post(
        "/api/v1/webhooks", {"url": URL, "events": ["campaign.activated", "campaign.activated"]}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["owner"] == labeler_user.email
    assert body["events"] == ["campaign.activated"]
    assert body["active"] is True and body["disabled_reason"] is None
    webhook_id = body["webhook_id"]

    shown = labeler_client.get(f"/api/v1/webhooks/{webhook_id}").json()
    assert "secret" not in shown and shown == {k: v for k, v in body.items() if k != "secret"}
    listed = labeler_client.get("/api/v1/webhooks").json()
    assert listed["pagination"]["total"] == 1 and "secret" not in listed["webhooks"][0]


def test_staff_endpoints_have_no_owner_and_may_take_every_event(admin_client):
    response = admin_client.post(
        "/api/v1/webhooks", {"url": URL, "events": ["export.succeeded", "imageset.failed"]}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["owner"] is None


def test_patch_changes_only_the_fields_sent_and_re_enabling_clears_the_failures(labeler_client, labeler_user):
    webhook = webhook_create(url=URL, events=["campaign.activated"], owner=labeler_user)
    Webhook.objects.filter(pk=webhook.pk).update(
        active=False, consecutive_failures=50, disabled_reason="Disabled after 50 failed attempts"
    )
    response = labeler_client.patch(
        f"/api/v1/webhooks/{webhook.pk}", {"active": True, "description": "ours"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["active"], body["description"], body["url"]) == (True, "ours", URL)
    assert (body["consecutive_failures"], body["disabled_reason"], body["date_disabled"]) == (0, None, None)


def test_delete_removes_the_endpoint(labeler_client, labeler_user):
    webhook = webhook_create(url=URL, events=["campaign.activated"], owner=labeler_user)
    assert labeler_client.delete(f"/api/v1/webhooks/{webhook.pk}").status_code == 204
    assert not Webhook.objects.exists()
    assert labeler_client.delete(f"/api/v1/webhooks/{webhook.pk}").status_code == 404


# --- the security matrix ---------------------------------------------------------------------


@pytest.mark.parametrize("whose", ["other agency", "staff"])
def test_an_agency_cannot_see_or_touch_endpoints_not_its_own(labeler_client, whose):
    owner = UserFactory() if whose == "other agency" else None
    webhook = webhook_create(url=URL, events=["campaign.activated"], owner=owner)
    before = stored()
    path = f"/api/v1/webhooks/{webhook.pk}"
    for response in (
        labeler_client.get(path),
        labeler_client.patch(path, {"active": False}, format="json"),
        labeler_client.patch(path, {"url": 12}, format="json"),  # 404 before the body is judged
        labeler_client.delete(path),
        labeler_client.get(f"{path}/deliveries"),
    ):
        assert response.status_code == 404, response.content
        assert response.json()["detail"] == f"Webhook {webhook.pk} not found"
    assert labeler_client.get("/api/v1/webhooks").json()["webhooks"] == []
    assert stored() == before


def test_staff_see_and_change_every_endpoint(admin_client):
    agency = UserFactory()
    webhook = webhook_create(url=URL, events=["campaign.activated"], owner=agency)
    assert admin_client.get(f"/api/v1/webhooks/{webhook.pk}").json()["owner"] == agency.email
    assert admin_client.patch(f"/api/v1/webhooks/{webhook.pk}", {"active": False}, format="json").status_code == 200


def test_without_a_key_nothing_is_answered(api_client):
    assert api_client.get("/api/v1/webhooks").status_code == 401
    assert (
        api_client.post("/api/v1/webhooks", {"url": URL, "events": ["campaign.activated"]}, format="json").status_code
        == 401
    )


@pytest.mark.parametrize(
    "body, status, detail",
    [
        ({"url": "http://hooks.agency.example/x", "events": ["campaign.activated"]}, 422, "must use https"),
        ({"url": "ftp://hooks.agency.example/x", "events": ["campaign.activated"]}, 422, "absolute https"),
        ({"url": "hooks.agency.example", "events": ["campaign.activated"]}, 422, "absolute https"),
        ({"url": "https://127.0.0.1/x", "events": ["campaign.activated"]}, 422, "public addresses"),
        ({"url": "https://[::1]/x", "events": ["campaign.activated"]}, 422, "public addresses"),
        ({"url": "https://[::ffff:10.0.0.1]/x", "events": ["campaign.activated"]}, 422, "public addresses"),
        ({"url": "https://169.254.169.254/latest", "events": ["campaign.activated"]}, 422, "public addresses"),
        ({"url": "https://localhost/x", "events": ["campaign.activated"]}, 422, "public addresses"),
        ({"url": "https://internal.example/x", "events": ["campaign.activated"]}, 422, "public addresses"),
        ({"url": "https://nowhere.example/x", "events": ["campaign.activated"]}, 422, "does not resolve"),
        ({"url": "https://u:p@hooks.agency.example/x", "events": ["campaign.activated"]}, 422, "user name"),
        ({"url": "https://hooks.agency.example:99999/", "events": ["campaign.activated"]}, 422, "port"),
        ({"url": URL, "events": ["campaign.exploded"]}, 422, "unknown event type"),
        ({"url": URL, "events": []}, 422, "at least one"),
        ({"url": URL, "events": ["export.succeeded"]}, 422, "staff endpoints only"),
        ({"url": URL, "events": ["campaign.activated"], "description": "x" * 201}, 422, "200"),
        # A 500 on PostgreSQL (no NUL in text), found by the schema fuzz.
        ({"url": URL, "events": ["campaign.activated"], "description": "a\x00b"}, 400, "NUL"),
        ({"url": 5, "events": ["campaign.activated"]}, 400, ""),
        ({"url": URL, "events": "campaign.activated"}, 400, ""),
        ({"url": URL, "events": [1]}, 400, ""),
        ({"url": URL, "events": ["campaign.activated"], "active": "yes"}, 400, ""),
        ({"events": ["campaign.activated"]}, 400, ""),
        ([], 400, ""),
    ],
)
def test_bad_bodies_are_refused_with_detail_and_store_nothing(labeler_client, labeler_user, body, status, detail):
    webhook = webhook_create(url=URL, events=["campaign.activated"], owner=labeler_user)
    before = stored()
    created = labeler_client.post("/api/v1/webhooks", body, format="json")
    assert created.status_code == status, created.content
    assert detail in created.json()["detail"]
    if isinstance(body, dict) and status == 422:
        patched = labeler_client.patch(f"/api/v1/webhooks/{webhook.pk}", body, format="json")
        assert patched.status_code == 422, patched.content
    assert stored() == before


def test_http_private_addresses_and_other_ports_are_allowed_by_their_settings(admin_client, settings):
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOKS_ALLOWED_PORTS = [9]
    response = admin_client.post(
        "/api/v1/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["campaign.activated"]}, format="json"
    )
    assert response.status_code == 201, response.content


# --- what an agency receives ----------------------------------------------------------------


def test_an_agency_endpoint_gets_only_its_own_campaigns_events(settings, django_capture_on_commit_callbacks):
    agency, other = UserFactory(), UserFactory()
    mine = make_campaign(labeler=agency)
    theirs = make_campaign(labeler=other)
    agency_hook = webhook_create(url=URL, events=["campaign.activated", "campaign.completed"], owner=agency)
    staff_hook = webhook_create(url=URL, events=["campaign.activated"])

    with django_capture_on_commit_callbacks(execute=False):
        for campaign in (mine, theirs):
            campaign_set_status(campaign_id=campaign.pk, new_status=Campaign.Status.ACTIVE)

    got = {
        (d.webhook_id, d.event.type, json.loads(d.event.payload)["data"]["campaign_id"])
        for d in WebhookDelivery.objects.select_related("event")
    }
    assert got == {
        (agency_hook.pk, "campaign.activated", mine.pk),
        (staff_hook.pk, "campaign.activated", mine.pk),
        (staff_hook.pk, "campaign.activated", theirs.pk),
    }


def test_an_agency_endpoint_never_gets_a_staff_only_event_even_if_named(labeler_user):
    from webhooks.services import webhook_event_record

    hook = webhook_create(url=URL, events=["campaign.activated"], owner=labeler_user)
    Webhook.objects.filter(pk=hook.pk).update(events=["export.succeeded"])  # forced past the checks
    assert webhook_event_record(type="export.succeeded", data={}, campaign_user_ids=[labeler_user.pk]) is None


# --- lists: their queries ----------------------------------------------------------------------


def test_the_list_runs_a_fixed_number_of_queries(admin_client, django_assert_num_queries):
    for _ in range(3):
        webhook_create(url=URL, events=["campaign.activated"], owner=UserFactory())
    admin_client.get("/api/v1/webhooks")  # the key's last use is written once
    with django_assert_num_queries(2):  # the key with its user; the page with its total
        first = admin_client.get("/api/v1/webhooks?per_page=2")
    for _ in range(5):
        webhook_create(url=URL, events=["campaign.activated"], owner=UserFactory())
    with django_assert_num_queries(2):
        second = admin_client.get("/api/v1/webhooks?per_page=50")
    assert len(first.json()["webhooks"]) == 2 and len(second.json()["webhooks"]) == 8


def test_the_deliveries_list_runs_a_fixed_number_of_queries(
    labeler_client, labeler_user, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from webhooks.services import webhook_event_record

    hook = webhook_create(url=URL, events=["campaign.activated"], owner=labeler_user)
    labeler_client.get("/api/v1/webhooks")
    with django_capture_on_commit_callbacks(execute=False):
        for n in range(4):
            webhook_event_record(type="campaign.activated", data={"n": n}, campaign_user_ids=[labeler_user.pk])
    with django_assert_num_queries(3):  # the key; the endpoint (404 if not the agency's); the page
        response = labeler_client.get(f"/api/v1/webhooks/{hook.pk}/deliveries?per_page=3")
    body = response.json()
    assert body["pagination"]["total"] == 4 and len(body["deliveries"]) == 3
    first = body["deliveries"][0]
    assert first["type"] == "campaign.activated" and first["status"] == "pending"
    assert first["event_id"].startswith("msg_") and first["attempts"] == 0


def test_a_campaign_event_costs_one_query_without_endpoints_and_a_fixed_number_with_any(
    settings, django_assert_num_queries
):
    from campaigns.webhooks import campaign_event_record

    settings.WEBHOOKS_MAX_PER_OWNER = 10
    agency = UserFactory()
    campaign = make_campaign(labeler=agency, status=Campaign.Status.ACTIVE)

    with django_assert_num_queries(1):  # no endpoint: nothing serialized, nothing stored
        campaign_event_record(campaign=campaign)
    webhook_create(url=URL, events=["campaign.activated"], owner=agency)
    with django_assert_num_queries(5):  # endpoints, labelers, the campaign, the event, the deliveries
        campaign_event_record(campaign=campaign)
    for _ in range(5):
        webhook_create(url=URL, events=["campaign.activated"])
        webhook_create(url=URL, events=["campaign.activated"], owner=agency)
    with django_assert_num_queries(5):  # as many for 11 endpoints as for one
        campaign_event_record(campaign=campaign)
    assert WebhookDelivery.objects.filter(event=WebhookEvent.objects.order_by("-pk").first()).count() == 11
