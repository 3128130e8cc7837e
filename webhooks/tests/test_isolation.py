"""What keeps one receiver from costing everyone else: one attempt per endpoint, slow answers counted,
deactivated owners skipped, old events deleted. (The separate queue: labelhub/tests/test_serve_webhooks.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from webhooks.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent
from webhooks.services import (
    webhook_delivery_attempt,
    webhook_event_record,
    webhook_events_purge,
    webhook_sweep,
)
from webhooks.tests.conftest import endpoint_for, sweep_until

pytestmark = pytest.mark.django_db


def emit(capture, **kwargs):
    with capture(execute=True):
        return webhook_event_record(**kwargs)


def test_deliveries_to_a_busy_endpoint_wait_and_follow_one_another(receiver, django_capture_on_commit_callbacks):
    webhook = endpoint_for(receiver, events=["campaign.completed"])
    # An attempt to the endpoint is in flight elsewhere (another worker holds it).
    Webhook.objects.filter(pk=webhook.pk).update(busy_until=timezone.now() + timedelta(seconds=30))
    for n in range(3):
        emit(django_capture_on_commit_callbacks, type="campaign.completed", data={"n": n})
    assert receiver.received == []
    waiting = WebhookDelivery.objects.order_by("pk")
    assert [(d.status, d.enqueued_at, d.claimed_until) for d in waiting] == [(DeliveryStatus.PENDING, None, None)] * 3

    # The attempt in flight ends: the first waiting delivery goes, and each hands over the next.
    Webhook.objects.filter(pk=webhook.pk).update(busy_until=None)
    webhook_delivery_attempt(delivery_id=waiting[0].pk)
    assert [p["data"]["n"] for p in receiver.payloads()] == [0, 1, 2]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    assert Webhook.objects.get(pk=webhook.pk).busy_until is None


def test_a_busy_hold_left_by_a_crashed_worker_runs_out(receiver, django_capture_on_commit_callbacks):
    webhook = endpoint_for(receiver, events=["campaign.completed"])
    Webhook.objects.filter(pk=webhook.pk).update(busy_until=timezone.now() - timedelta(seconds=1))
    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={})
    assert len(receiver.received) == 1


def test_slow_answers_count_toward_disabling_the_endpoint_without_sending_twice(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_SLOW_AFTER = 0.2
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    receiver.answers = [(0.4, 200)]
    webhook = endpoint_for(receiver, events=["campaign.completed"])

    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={"n": 1})
    webhook.refresh_from_db()
    assert (webhook.active, webhook.consecutive_failures) == (True, 1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and "Slow answer" in delivery.last_error
    assert WebhookAttempt.objects.get().status_code == 200

    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={"n": 2})
    webhook.refresh_from_db()
    assert webhook.active is False and "Slow answer" in webhook.disabled_reason
    webhook_sweep()
    assert len(receiver.received) == 2  # each event once: a slow answer is still a delivery


def test_a_fast_answer_after_slow_ones_starts_the_count_again(receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_SLOW_AFTER = 0.2
    receiver.answers = [(0.4, 200), 200]
    webhook = endpoint_for(receiver, events=["campaign.completed"])
    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={})
    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={})
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 0


def test_a_deactivated_owner_gets_no_new_events_and_its_pending_deliveries_are_given_up(
    receiver, settings, django_capture_on_commit_callbacks
):
    agency = UserFactory()
    webhook = endpoint_for(receiver, events=["campaign.completed"], owner=agency)
    Webhook.objects.filter(pk=webhook.pk).update(busy_until=timezone.now() + timedelta(seconds=30))
    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={}, campaign_user_ids=[agency.pk])
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING

    type(agency).objects.filter(pk=agency.pk).update(is_active=False)  # as any path that deactivates does
    Webhook.objects.filter(pk=webhook.pk).update(busy_until=None, active=True)
    assert (
        emit(django_capture_on_commit_callbacks, type="campaign.completed", data={}, campaign_user_ids=[agency.pk])
        is None
    )
    webhook_sweep()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "deactivated" in delivery.last_error
    assert receiver.received == []


def test_an_agency_endpoint_gets_its_own_body_and_a_staff_endpoint_the_staff_one(
    receiver, django_capture_on_commit_callbacks
):
    agency = UserFactory()
    staff_hook = endpoint_for(receiver, events=["campaign.completed"])
    agency_hook = endpoint_for(receiver, events=["campaign.completed"], owner=agency)
    event = emit(
        django_capture_on_commit_callbacks,
        type="campaign.completed",
        data={"campaign_id": 1, "metadata": {"customer": "secret"}},
        agency_data={"campaign_id": 1},
        campaign_user_ids=[agency.pk],
    )
    bodies = {r.body for r in receiver.received}
    assert {event.payload_for(staff_hook), event.payload_for(agency_hook)} == {b.decode() for b in bodies}
    assert '"metadata"' in event.payload_for(staff_hook)
    assert '"metadata"' not in event.payload_for(agency_hook)


def test_events_past_the_retention_are_deleted_with_their_deliveries_once_none_is_pending(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_RETENTION_DAYS = 7
    endpoint_for(receiver, events=["campaign.completed"])
    done, pending, recent = (
        emit(django_capture_on_commit_callbacks, type="campaign.completed", data={"n": n}) for n in range(3)
    )
    old = timezone.now() - timedelta(days=8)
    WebhookEvent.objects.filter(pk__in=[done.pk, pending.pk]).update(date_created=old)
    WebhookDelivery.objects.filter(event=pending).update(status=DeliveryStatus.PENDING)

    assert webhook_events_purge() == 1
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {pending.pk, recent.pk}
    assert not WebhookDelivery.objects.filter(event_id=done.pk).exists()
    assert not WebhookAttempt.objects.filter(delivery__event_id=done.pk).exists()
    assert WebhookAttempt.objects.count() == 2


def test_the_sweep_purges_old_events(receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_RETENTION_DAYS = 1
    endpoint_for(receiver, events=["campaign.completed"])
    event = emit(django_capture_on_commit_callbacks, type="campaign.completed", data={})
    WebhookEvent.objects.filter(pk=event.pk).update(date_created=timezone.now() - timedelta(days=2))
    sweep_until(lambda: not WebhookEvent.objects.exists())
