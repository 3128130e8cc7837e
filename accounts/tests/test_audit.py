"""The audit trail: a row per staff or system action, in the action's transaction; read-only in the admin."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.audit import Actor, audit_record, image_fetch_count
from accounts.models import AuditEvent, ImageFetchCount
from accounts.services import apikey_issue, apikey_revoke, apikey_rotate
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(email="staff@example.com", is_staff=True)


def test_key_issue_rotate_and_revoke_are_audited_with_their_actor(staff):
    agency = UserFactory(email="agency@example.com")
    issued = apikey_issue(user=agency, actor=Actor(user=staff))
    apikey_issue(user=agency, actor=Actor(user=staff))  # hands the same key back: nothing new to record
    apikey_rotate(user=agency, actor=Actor(user=staff))
    apikey_revoke(api_key=issued.api_key)  # by the system (a command)
    events = list(AuditEvent.objects.order_by("pk").values_list("action", "actor", "target_id", "details"))
    key = str(issued.api_key.pk)
    assert events == [
        ("apikey.issue", "staff@example.com", key, {"user": "agency@example.com"}),
        ("apikey.rotate", "staff@example.com", key, {"user": "agency@example.com"}),
        ("apikey.revoke", "system", key, {"user": "agency@example.com"}),
    ]


def test_an_action_that_rolls_back_leaves_no_audit_row(staff):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=Actor(user=staff), action="campaign.status", details={"to": "active"})
        raise RuntimeError("the action failed after writing its audit row")
    assert AuditEvent.objects.count() == 0


def test_the_actor_keeps_its_name_after_the_user_is_gone(staff):
    event = audit_record(actor=Actor(user=staff), action="imageset.delete", target_type="imageset")
    staff.delete()
    event.refresh_from_db()
    assert (event.actor, event.actor_user) == ("staff@example.com", None)


def test_image_fetches_are_one_row_per_key_and_day():
    agency = UserFactory()
    key = apikey_issue(user=agency).api_key
    for _ in range(5):
        image_fetch_count(api_key=key)
    image_fetch_count(api_key=key, day="2026-01-02")
    assert sorted(ImageFetchCount.objects.values_list("day", "count")) == [
        (ImageFetchCount.objects.get(count=1).day, 1),
        (ImageFetchCount.objects.get(count=5).day, 5),
    ]


def test_the_audit_admin_is_read_only_and_downloads_the_filtered_list_as_csv(client, staff):
    client.force_login(staff)
    agency = UserFactory(email="agency@example.com")
    apikey_issue(user=agency, actor=Actor(user=staff))
    audit_record(actor=None, action="campaign.status", target_type="campaign", details={"to": "completed"})

    listing = client.get(reverse("admin:accounts_auditevent_changelist"))
    assert listing.status_code == 200
    content = listing.content.decode()
    assert "apikey.issue" in content and 'id="lh-audit-csv"' in content
    assert reverse("admin:accounts_auditevent_add") not in content
    event = AuditEvent.objects.get(action="apikey.issue")
    change = client.post(reverse("admin:accounts_auditevent_change", args=[event.pk]), {"action": "tampered"})
    assert change.status_code == 403
    assert client.post(reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.action == "apikey.issue"

    response = client.get(reverse("admin:accounts_auditevent_csv"), {"action": "campaign.status"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["date", "actor", "actor_key", "action", "target_type", "target_id", "target", "details"]
    assert [row[1:4] for row in rows[1:]] == [["system", "", "campaign.status"]]
    assert rows[1][7] == '{"to": "completed"}'


def test_an_agency_user_cannot_read_the_audit_trail(client):
    client.force_login(UserFactory(email="agency@example.com"))
    assert client.get(reverse("admin:accounts_auditevent_changelist")).status_code == 302
    assert client.get(reverse("admin:accounts_auditevent_csv")).status_code == 302


def test_api_actions_are_audited_with_the_user_and_the_key(admin_client, admin_user):
    from campaigns.models import Campaign
    from campaigns.tests.factories import make_campaign
    from imagesets.tests.factories import ImageSetFactory

    campaign = make_campaign(images=1)
    response = admin_client.put(f"/api/v1/campaigns/{campaign.pk}", {"new_status": "active"}, format="json")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="campaign.status")
    assert (event.actor, event.actor_user, event.actor_key) == (
        admin_user.email,
        admin_user,
        admin_client.issued.api_key,
    )
    assert (event.target_type, event.target_id, event.details) == (
        "campaigns.campaign",
        str(campaign.pk),
        {"from": "created", "to": "active"},
    )
    refused = admin_client.put(f"/api/v1/campaigns/{campaign.pk}", {"new_status": "finished"}, format="json")
    assert refused.status_code == 409
    assert AuditEvent.objects.filter(action="campaign.status").count() == 1  # a refusal records nothing
    assert Campaign.objects.get().status == "active"

    imageset = ImageSetFactory()
    assert (
        admin_client.put(f"/api/v1/image_sets/{imageset.pk}", {"new_status": "finished"}, format="json").status_code
        == 200
    )
    assert AuditEvent.objects.filter(action="imageset.finish", target_id=str(imageset.pk)).count() == 1
