"""Delivery against a real receiver: signatures, retries with growing delays, disabling, the SSRF guard, the outbox."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from accounts.tests.factories import UserFactory
from webhooks import network
from webhooks.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent
from webhooks.services import (
    retry_delay,
    signed_headers,
    webhook_create,
    webhook_delivery_redeliver,
    webhook_event_record,
    webhook_sweep,
)
from webhooks.tests.conftest import endpoint_for, sweep_until

pytestmark = pytest.mark.django_db


def emit(capture, **kwargs):
    """Record an event as a service does inside its transaction; the hand-over runs on commit."""
    with capture(execute=True):
        return webhook_event_record(**kwargs)


def test_an_event_is_delivered_once_signed_with_the_body_as_stored(receiver, django_capture_on_commit_callbacks):
    webhook = endpoint_for(receiver, events=["campaign.activated"])
    event = emit(django_capture_on_commit_callbacks, type="campaign.activated", data={"campaign_id": 7})

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.body.decode() == event.payload
    assert got.verified == {
        "type": "campaign.activated",
        "timestamp": got.verified["timestamp"],
        "data": {"campaign_id": 7},
    }
    assert got.headers["webhook-id"] == event.uid
    assert got.headers["content-type"] == "application/json"
    Verifier(webhook.secret).verify(got.body, got.headers)  # the library itself, raising if wrong
    with pytest.raises(Exception):  # noqa: B017 - any verification error
        Verifier("whsec_" + "A" * 43 + "=").verify(got.body, got.headers)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 200 and attempt.address == "127.0.0.1" and attempt.response_excerpt == "answer 200"

    # Swept again: nothing more is sent.
    webhook_sweep()
    assert len(receiver.received) == 1


def test_an_event_nobody_subscribed_to_is_not_stored(receiver, django_capture_on_commit_callbacks):
    endpoint_for(receiver, events=["campaign.completed"])
    assert emit(django_capture_on_commit_callbacks, type="campaign.activated", data={}) is None
    assert not WebhookEvent.objects.exists() and receiver.received == []


def test_an_unknown_event_type_is_a_programming_error():
    with pytest.raises(ValueError, match="register it"):
        webhook_event_record(type="image.vanished", data={})


def test_a_receiver_answering_500_twice_gets_the_event_three_times_with_growing_delays(
    receiver, django_capture_on_commit_callbacks
):
    receiver.answers = [500, 500, 200]
    endpoint_for(receiver, events=["campaign.completed"])
    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={"campaign_id": 1})
    sweep_until(lambda: len(receiver.received) == 3)

    first, second, third = (r.at for r in receiver.received)
    assert second - first >= 0.1 and third - second >= 0.3  # WEBHOOKS_RETRY_SCHEDULE of the fixture
    assert third - second > second - first
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert all(receiver.payloads())
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 3)
    assert list(WebhookAttempt.objects.order_by("pk").values_list("status_code", flat=True)) == [500, 500, 200]
    assert Webhook.objects.get().consecutive_failures == 0
    webhook_sweep()
    assert len(receiver.received) == 3


def test_a_receiver_that_never_answers_is_retried_until_the_endpoint_is_disabled_with_the_reason(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_TIMEOUT = 0.3
    settings.WEBHOOKS_RETRY_SCHEDULE = [0.05, 0.05]
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    receiver.answers = ["hang"]
    webhook = endpoint_for(receiver, events=["campaign.completed"])
    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={})
    sweep_until(lambda: WebhookDelivery.objects.get().status != DeliveryStatus.PENDING)

    assert len(receiver.received) == 3
    attempts = list(WebhookAttempt.objects.order_by("pk"))
    assert [a.status_code for a in attempts] == [None, None, None]
    assert all("No answer within 0.3 s" in a.error for a in attempts)
    assert all(a.duration_ms < 2000 for a in attempts)
    webhook.refresh_from_db()
    assert not webhook.active and webhook.date_disabled is not None
    assert "3 failed attempts in a row" in webhook.disabled_reason and "No answer" in webhook.disabled_reason
    assert WebhookDelivery.objects.get().status == DeliveryStatus.FAILED

    # Disabled: a new event is not even recorded for it; redelivery waits for it to be enabled.
    assert emit(django_capture_on_commit_callbacks, type="campaign.completed", data={}) is None


def test_a_delivery_whose_hand_over_was_lost_is_sent_by_the_sweep(receiver, django_capture_on_commit_callbacks):
    endpoint_for(receiver, events=["campaign.completed"])
    with django_capture_on_commit_callbacks(execute=False):  # the broker never got it
        webhook_event_record(type="campaign.completed", data={})
    assert receiver.received == []
    webhook_sweep()
    assert len(receiver.received) == 1 and WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_redelivering_by_hand_sends_the_same_event_again(receiver, django_capture_on_commit_callbacks):
    endpoint_for(receiver, events=["campaign.completed"])
    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={"n": 1})
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_redeliver(delivery_id=delivery.pk)
    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    assert WebhookAttempt.objects.count() == 2


def test_a_redirect_is_not_followed_and_counts_as_a_failure(receiver, django_capture_on_commit_callbacks):
    receiver.answers = [302, 200]
    endpoint_for(receiver, events=["campaign.completed"])
    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={})
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302 and "Redirects are not followed" in attempt.error
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING


def test_the_retry_schedule_spans_about_a_day_by_default_and_then_gives_up(settings):
    from labelhub import settings as defaults

    assert 20 * 3600 < sum(defaults.WEBHOOKS_RETRY_SCHEDULE) < 36 * 3600
    settings.WEBHOOKS_RETRY_SCHEDULE = [10, 100]
    settings.WEBHOOKS_RETRY_JITTER = 0.2
    delays = [retry_delay(1) for _ in range(50)]
    assert all(8 <= d <= 12 for d in delays) and len(set(delays)) > 1  # jitter
    assert 80 <= retry_delay(2) <= 120
    assert retry_delay(3) is None


# --- the SSRF guard at delivery time ----------------------------------------------------


def test_a_name_that_resolves_to_loopback_at_delivery_time_is_refused_naming_the_address_only_in_the_log(
    receiver, settings, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    """Created while the name pointed elsewhere (or with the setting on); at delivery it is 127.0.0.1: refused.

    The attempt's error is the delivery's ``last_error``, which the agency reads: it must not say what
    the name resolved to.
    """
    webhook = endpoint_for(receiver, events=["campaign.completed"])
    port = receiver.url.split(":")[2].split("/")[0]
    Webhook.objects.filter(pk=webhook.pk).update(url=f"http://hooks.example.com:{port}/hook")
    monkeypatch.setattr(network, "resolve", lambda host, port: ["127.0.0.1"])
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False

    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={})
    assert receiver.received == []  # never connected
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "public addresses" in attempt.error
    assert "127.0.0.1" not in attempt.error
    assert any("127.0.0.1" in r.getMessage() for r in caplog.records if r.name == "webhooks.network")


def test_the_attempt_connects_to_the_checked_address_with_the_names_host_header(
    receiver, monkeypatch, django_capture_on_commit_callbacks
):
    webhook = endpoint_for(receiver, events=["campaign.completed"])
    port = receiver.url.split(":")[2].split("/")[0]
    Webhook.objects.filter(pk=webhook.pk).update(url=f"http://hooks.example.com:{port}/hook?x=1")
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])  # a second lookup would get another address
    monkeypatch.setattr(network, "resolve", lambda host, port: next(answers))

    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={})
    assert len(receiver.received) == 1
    assert receiver.received[0].headers["host"] == f"hooks.example.com:{port}"
    assert WebhookAttempt.objects.get().address == "127.0.0.1"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert not network.address_is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_are_allowed(address):
    assert network.address_is_public(address)


# --- the outbox's cost --------------------------------------------------------------------


def test_recording_an_event_costs_the_same_queries_for_one_endpoint_or_many(settings, django_assert_num_queries):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOKS_MAX_PER_OWNER = 10
    agency = UserFactory()

    def record():
        webhook_event_record(type="campaign.completed", data={"x": 1}, campaign_user_ids=[agency.pk])

    with django_assert_num_queries(1):  # no endpoint: one look, nothing stored
        record()
    webhook_create(url="https://93.184.216.34/a", events=["campaign.completed"])
    with django_assert_num_queries(3):  # one endpoint
        record()
    for n in range(6):
        webhook_create(url=f"https://93.184.216.34/{n}", events=["campaign.completed"], owner=agency)
    with django_assert_num_queries(3):  # seven
        record()
    assert WebhookDelivery.objects.count() == 1 + 7


def test_headers_are_signed_as_the_standard_says():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    from datetime import UTC, datetime

    now = datetime(2024, 5, 2, 9, 30, tzinfo=UTC)
    headers = signed_headers(secret=secret, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", body='{"test": 2432232314}', now=now)
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"] == Verifier(secret).sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek", now, '{"test": 2432232314}'
    )
