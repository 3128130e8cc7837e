"""Endpoint changes: capped per owner, audited with who asked, disabled when their owner may no longer act."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.tests.factories import UserFactory
from testing.api import assert_error
from webhooks.models import Webhook, WebhookDelivery
from webhooks.services import (
    OWNER_DEACTIVATED,
    webhook_create,
    webhook_event_record,
    webhooks_disable_for_owner,
)

pytestmark = pytest.mark.django_db

# A literal public address: nothing to resolve, so no DNS in these tests.
URL = "https://93.184.216.34/hook"


def audit_rows(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def post_endpoint(client, url=URL, events=("campaign.activated",)):
    return client.post("/api/v1/webhooks", {"url": url, "events": list(events)}, format="json")


# --- the cap -------------------------------------------------------------------------------


def test_an_agency_at_the_cap_is_refused_a_new_endpoint_with_a_409_and_nothing_is_stored(
    labeler_client, labeler_user, settings
):
    settings.WEBHOOKS_MAX_PER_OWNER = 2
    for _ in range(2):
        assert post_endpoint(labeler_client).status_code == 201
    Webhook.objects.filter(owner=labeler_user).update(active=False)  # disabled endpoints count too
    audit_before = AuditEvent.objects.count()

    response = post_endpoint(labeler_client)

    assert_error(response, 409, "WEBHOOKS_MAX_PER_OWNER")
    assert Webhook.objects.filter(owner=labeler_user).count() == 2
    assert AuditEvent.objects.count() == audit_before


def test_the_cap_counts_each_agency_on_its_own_and_room_comes_back_when_one_is_deleted(
    labeler_client, labeler_user, settings
):
    from conftest import client_for

    settings.WEBHOOKS_MAX_PER_OWNER = 1
    first = post_endpoint(labeler_client).json()["webhook_id"]
    other = client_for(UserFactory(email="other-agency@example.com"))
    assert post_endpoint(other).status_code == 201
    assert post_endpoint(labeler_client).status_code == 409

    assert labeler_client.delete(f"/api/v1/webhooks/{first}").status_code == 204
    assert post_endpoint(labeler_client).status_code == 201


def test_staff_endpoints_are_counted_together_under_their_own_cap(admin_client, settings):
    from conftest import client_for

    settings.WEBHOOKS_MAX_STAFF = 2
    settings.WEBHOOKS_MAX_PER_OWNER = 1
    another_admin = client_for(UserFactory(email="boss2@example.com", is_staff=True))
    assert post_endpoint(admin_client).status_code == 201
    assert post_endpoint(another_admin).status_code == 201  # over the agencies' cap: staff have their own

    assert_error(post_endpoint(admin_client), 409, "WEBHOOKS_MAX_STAFF")
    assert Webhook.objects.filter(owner=None).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises every writer: no race to lose")
@pytest.mark.parametrize("staff", [False, True], ids=["agency", "staff"])
def test_concurrent_creates_never_get_an_owner_past_the_cap(settings, staff):
    settings.WEBHOOKS_MAX_PER_OWNER = settings.WEBHOOKS_MAX_STAFF = 1
    owner = None if staff else UserFactory()
    barrier = threading.Barrier(4)
    outcomes = []

    def create():
        try:
            barrier.wait(timeout=10)
            webhook_create(url=URL, events=["campaign.activated"], owner=owner)
            outcomes.append("created")
        except Exception as exc:  # noqa: BLE001 - counted in the main thread
            outcomes.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["EndpointLimitReached"] * 3 + ["created"]
    assert Webhook.objects.filter(owner=owner).count() == 1


# --- the audit trail over the API -----------------------------------------------------------


def test_an_agency_creating_changing_and_deleting_its_endpoint_is_audited_as_its_key(labeler_client, labeler_user):
    created = post_endpoint(labeler_client).json()
    webhook_id = created["webhook_id"]
    labeler_client.patch(
        f"/api/v1/webhooks/{webhook_id}", {"events": ["campaign.completed"], "active": False}, format="json"
    )
    labeler_client.delete(f"/api/v1/webhooks/{webhook_id}")

    create, update, delete = audit_rows("webhook.create"), audit_rows("webhook.update"), audit_rows("webhook.delete")
    for row in (*create, *update, *delete):
        assert (row.actor, row.actor_user, row.actor_key) == (
            labeler_user.email,
            labeler_user,
            labeler_client.issued.api_key,
        )
        assert row.target_type == "webhooks.webhook" and row.target_id == str(webhook_id)
        assert created["secret"] not in str(row.details)
    assert create[0].details == {
        "url": URL,
        "events": ["campaign.activated"],
        "description": "",
        "active": True,
        "owner": labeler_user.email,
    }
    assert update[0].details == {
        "events": {"from": ["campaign.activated"], "to": ["campaign.completed"]},
        "active": {"from": True, "to": False},
    }
    assert delete[0].details == {"url": URL, "events": ["campaign.completed"], "owner": labeler_user.email}


def test_a_change_that_changes_nothing_and_a_refused_one_leave_no_audit_row(labeler_client):
    webhook_id = post_endpoint(labeler_client).json()["webhook_id"]
    labeler_client.patch(f"/api/v1/webhooks/{webhook_id}", {"url": URL}, format="json")
    labeler_client.patch(f"/api/v1/webhooks/{webhook_id}", {"events": ["no.such"]}, format="json")
    assert audit_rows("webhook.update") == []


# --- the admin ------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def admin_form(webhook: Webhook, **changes) -> dict:
    data = {
        "url": webhook.url,
        "description": webhook.description,
        "events": webhook.events,
        "owner": webhook.owner_id or "",
        "active": "on" if webhook.active else "",
    }
    return {key: value for key, value in {**data, **changes}.items() if value not in ("", None)}


def test_the_admin_handing_an_endpoint_to_another_agency_is_audited_from_and_to(staff_client, admin_user):
    before, after = UserFactory(email="before@example.com"), UserFactory(email="after@example.com")
    webhook = webhook_create(url=URL, events=["campaign.activated"], owner=before)

    response = staff_client.post(
        reverse("admin:webhooks_webhook_change", args=[webhook.pk]), admin_form(webhook, owner=after.pk)
    )

    assert response.status_code == 302, response.content
    assert Webhook.objects.get(pk=webhook.pk).owner == after
    (row,) = audit_rows("webhook.update")
    assert (row.actor, row.actor_user, row.actor_key) == (admin_user.email, admin_user, None)
    assert row.details == {"owner": {"from": "before@example.com", "to": "after@example.com"}}


def test_the_admin_refuses_to_hand_an_endpoint_to_an_agency_at_the_cap_with_a_form_error(staff_client, settings):
    settings.WEBHOOKS_MAX_PER_OWNER = 1
    full = UserFactory(email="full@example.com")
    webhook_create(url=URL, events=["campaign.activated"], owner=full)
    staff_hook = webhook_create(url=URL, events=["campaign.activated"])

    response = staff_client.post(
        reverse("admin:webhooks_webhook_change", args=[staff_hook.pk]), admin_form(staff_hook, owner=full.pk)
    )

    assert response.status_code == 200
    assert "WEBHOOKS_MAX_PER_OWNER" in str(response.context["adminform"].form.errors["owner"])
    assert Webhook.objects.get(pk=staff_hook.pk).owner is None
    assert audit_rows("webhook.update") == []


def test_the_admin_add_page_refuses_an_endpoint_over_the_cap_with_a_form_error(staff_client, settings):
    settings.WEBHOOKS_MAX_STAFF = 1
    webhook_create(url=URL, events=["campaign.activated"])

    response = staff_client.post(
        reverse("admin:webhooks_webhook_add"), {"url": URL, "events": ["campaign.activated"], "active": "on"}
    )

    assert response.status_code == 200
    assert "WEBHOOKS_MAX_STAFF" in str(response.context["adminform"].form.errors["owner"])
    assert Webhook.objects.count() == 1


def test_the_admin_creating_and_deleting_an_endpoint_is_audited_as_the_staff_member(client):
    superuser = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)  # delete is Django's
    client.force_login(superuser)
    client.post(reverse("admin:webhooks_webhook_add"), {"url": URL, "events": ["campaign.activated"], "active": "on"})
    webhook = Webhook.objects.get()
    client.post(reverse("admin:webhooks_webhook_delete", args=[webhook.pk]), {"post": "yes"})

    assert not Webhook.objects.exists()
    (create,) = audit_rows("webhook.create")
    (delete,) = audit_rows("webhook.delete")
    assert create.actor_user == delete.actor_user == superuser
    assert create.details["owner"] is None and delete.details["url"] == URL
    assert webhook.secret not in str(create.details)


# --- disabling an owner's endpoints ---------------------------------------------------------


def test_disabling_an_owners_endpoints_says_why_and_stops_their_deliveries():
    owner, other = UserFactory(), UserFactory()
    mine = webhook_create(url=URL, events=["campaign.activated"], owner=owner)
    already_off = webhook_create(url=URL, events=["campaign.activated"], owner=owner, active=False)
    theirs = webhook_create(url=URL, events=["campaign.activated"], owner=other)

    assert webhooks_disable_for_owner(owner_id=owner.pk, reason=OWNER_DEACTIVATED) == 1

    mine.refresh_from_db()
    assert (mine.active, mine.disabled_reason) == (False, OWNER_DEACTIVATED) and mine.date_disabled is not None
    assert Webhook.objects.get(pk=already_off.pk).disabled_reason == ""
    assert Webhook.objects.get(pk=theirs.pk).active
    (row,) = audit_rows("webhook.disable")
    assert (row.target_id, row.details, row.actor) == (str(mine.pk), {"reason": OWNER_DEACTIVATED}, "system")
    webhook_event_record(type="campaign.activated", data={"x": 1}, campaign_user_ids=[owner.pk, other.pk])
    assert list(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == [theirs.pk]
