"""Attempting a delivery (signed, timed, logged), retrying with backoff, disabling a failing or slow endpoint.

An attempt holds its endpoint (``Webhook.busy_until``) as well as its
delivery: one attempt at a time per endpoint, so an endpoint that answers
slowly ties up one webhook worker however many events it subscribed to. A
delivery whose endpoint is busy is left for the attempt in flight, which
hands over the endpoint's next due delivery when it is done (and the sweep
hands it over if that is lost).
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as Signer

from core.exceptions import Conflict, NotFound
from webhooks import network
from webhooks.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent
from webhooks.services.outbox import deliveries_hand_over

logger = logging.getLogger(__name__)

USER_AGENT = "labelhub-webhooks/1"
_CLAIM_MARGIN = 30  # seconds past the timeout a claim outlives a crashed worker


def retry_delay(attempts: int) -> float | None:
    """Seconds before the next try after ``attempts`` failed ones (with jitter); ``None``: give up."""
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    jitter = settings.WEBHOOKS_RETRY_JITTER
    return schedule[attempts - 1] * random.uniform(1 - jitter, 1 + jitter)


def signed_headers(*, secret: str, msg_id: str, body: str, now=None) -> dict[str, str]:
    """The Standard Webhooks headers: ``webhook-id``, ``webhook-timestamp`` and the v1 HMAC-SHA256 signature."""
    now = now or timezone.now()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(secret).sign(msg_id=msg_id, timestamp=now, data=body),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def _free():
    now = timezone.now()
    return now, Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def _claim(delivery_id: int) -> bool:
    """Take a due, pending delivery for this attempt (no other worker attempts it meanwhile)."""
    now, free = _free()
    claimed_until = now + timedelta(seconds=settings.WEBHOOKS_TIMEOUT + _CLAIM_MARGIN)
    return bool(
        WebhookDelivery.objects.filter(
            free, pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        ).update(claimed_until=claimed_until)
    )


def _hold_endpoint(webhook_id: int) -> bool:
    """Take the endpoint for this attempt: ``False`` while another attempt to it is in flight."""
    now = timezone.now()
    busy_until = now + timedelta(seconds=settings.WEBHOOKS_TIMEOUT + _CLAIM_MARGIN)
    return bool(
        Webhook.objects.filter(Q(busy_until__isnull=True) | Q(busy_until__lt=now), pk=webhook_id).update(
            busy_until=busy_until
        )
    )


def _give_up(delivery_id: int, why: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.FAILED, claimed_until=None, date_done=timezone.now(), last_error=why
    )


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookAttempt | None:
    """Attempt a due delivery once and store the outcome; ``None`` when it was not due or someone else has it.

    Never raises for the receiver's sake: a refused address, a timeout or a
    non-2xx answer is a failed attempt, retried on ``WEBHOOKS_RETRY_SCHEDULE``.
    No database transaction is open while the request runs.
    """
    if not _claim(delivery_id):
        return None
    delivery = WebhookDelivery.objects.select_related("event", "webhook", "webhook__owner").get(pk=delivery_id)
    webhook, event = delivery.webhook, delivery.event
    if not webhook.active:
        _give_up(delivery_id, "The endpoint is disabled; redeliver by hand once it is active again")
        return None
    if webhook.owner_id is not None and not webhook.owner.is_active:
        _give_up(delivery_id, "The endpoint's owner is deactivated")
        return None
    if not _hold_endpoint(webhook.pk):
        # Another attempt to this endpoint is in flight: it hands this one over when done.
        WebhookDelivery.objects.filter(pk=delivery_id).update(claimed_until=None, enqueued_at=None)
        return None
    try:
        body = event.payload_for(webhook)
        headers = signed_headers(secret=webhook.secret, msg_id=event.uid, body=body)
        outcome = network.post(
            webhook.url,
            body.encode(),
            headers,
            timeout=settings.WEBHOOKS_TIMEOUT,
            connect_timeout=settings.WEBHOOKS_CONNECT_TIMEOUT,
        )
        attempt = _store(delivery, webhook, outcome)
    finally:
        Webhook.objects.filter(pk=webhook.pk).update(busy_until=None)
    _hand_over_next(webhook.pk, ended=delivery.pk)
    return attempt


def _hand_over_next(webhook_id: int, *, ended: int) -> None:
    """The endpoint is free again: hand over its oldest due delivery waiting for it, if any.

    Not the delivery that just ended: its retry is the sweep's, when its
    delay has passed (a delay shorter than this attempt's bookkeeping would
    otherwise retry at once).
    """
    now, free = _free()
    waiting = (
        WebhookDelivery.objects.filter(free, webhook_id=webhook_id, status=DeliveryStatus.PENDING)
        .exclude(pk=ended)
        .filter(next_attempt_at__lte=now, enqueued_at__isnull=True)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:1]
    )
    ids = list(waiting)
    if ids:
        deliveries_hand_over(delivery_ids=ids)


@transaction.atomic
def _store(delivery: WebhookDelivery, webhook: Webhook, outcome: network.Outcome) -> WebhookAttempt:
    now = timezone.now()
    attempt = WebhookAttempt.objects.create(
        delivery=delivery,
        date=now,
        url=webhook.url,
        address=outcome.address,
        status_code=outcome.status_code,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        response_excerpt=outcome.excerpt,
    )
    attempts = delivery.attempts + 1
    fields = {
        "attempts": attempts,
        "claimed_until": None,
        "enqueued_at": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error or ("" if outcome.succeeded else f"HTTP {outcome.status_code}"),
    }
    slow = outcome.succeeded and outcome.duration_ms > settings.WEBHOOKS_SLOW_AFTER * 1000
    if slow:
        # Delivered, so not sent again; but an endpoint that keeps answering this slowly
        # costs a worker for seconds per event, and is disabled like a failing one.
        attempt.error = (
            f"Slow answer: {outcome.duration_ms / 1000:.1f} s (over WEBHOOKS_SLOW_AFTER, "
            f"{settings.WEBHOOKS_SLOW_AFTER:g} s)"
        )
        attempt.save(update_fields=["error"])
        fields.update(status=DeliveryStatus.SUCCEEDED, date_done=now, last_error=attempt.error)
        _count_failure(webhook, attempt)
    elif outcome.succeeded:
        fields.update(status=DeliveryStatus.SUCCEEDED, date_done=now)
        Webhook.objects.filter(pk=webhook.pk, consecutive_failures__gt=0).update(consecutive_failures=0)
    else:
        delay = retry_delay(attempts)
        if delay is None:
            fields.update(status=DeliveryStatus.FAILED, date_done=now)
        else:
            fields.update(next_attempt_at=now + timedelta(seconds=delay))
        _count_failure(webhook, attempt)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return attempt


def _count_failure(webhook: Webhook, attempt: WebhookAttempt) -> None:
    """One more failure in a row; at ``WEBHOOKS_DISABLE_AFTER_FAILURES`` the endpoint is disabled, saying why."""
    Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    limit = settings.WEBHOOKS_DISABLE_AFTER_FAILURES
    what = attempt.error or f"HTTP {attempt.status_code}"
    disabled = Webhook.objects.filter(pk=webhook.pk, active=True, consecutive_failures__gte=limit).update(
        active=False,
        date_disabled=attempt.date,
        disabled_reason=f"Disabled after {limit} failed attempts in a row (slow ones count): {what}"[:2000],
    )
    if disabled:
        logger.warning("webhook %s disabled after %s failed attempts in a row (%s)", webhook.pk, limit, what)


def webhook_sweep(*, batch: int = 200) -> dict[str, int]:
    """Hand over every due delivery: retries whose time has come, and hand-overs the broker lost.

    Deliveries of a disabled endpoint are given up (staff redeliver them by
    hand). Safe to run anywhere and at once: the claim decides who attempts.
    """
    now = timezone.now()
    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
    given_up = pending.filter(webhook__active=False).update(
        status=DeliveryStatus.FAILED,
        date_done=now,
        last_error="The endpoint is disabled; redeliver by hand once it is active again",
    ) + pending.filter(webhook__owner__is_active=False).update(
        status=DeliveryStatus.FAILED, date_done=now, last_error="The endpoint's owner is deactivated"
    )
    lost = now - timedelta(seconds=settings.WEBHOOKS_REQUEUE_AFTER)
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=lost))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch]
    )
    handed = deliveries_hand_over(delivery_ids=due) if due else 0
    counts = {"handed_over": handed, "given_up": given_up, "events_deleted": webhook_events_purge(now=now)}
    if any(counts.values()):
        logger.info("webhook sweep: %s", counts)
    return counts


def webhook_events_purge(*, now=None, batch: int = 1000) -> int:
    """Delete events older than ``WEBHOOKS_RETENTION_DAYS`` none of whose deliveries is pending (and so
    their deliveries and attempts); at most ``batch`` events a call, so one sweep never holds a long lock."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOKS_RETENTION_DAYS)
    pending = WebhookDelivery.objects.filter(event=OuterRef("pk"), status=DeliveryStatus.PENDING)
    old = list(
        WebhookEvent.objects.filter(date_created__lt=cutoff)
        .filter(~Exists(pending))
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )
    if not old:
        return 0
    # Children first, by their parents' ids: no cascade collector loading rows into memory.
    WebhookAttempt.objects.filter(delivery__event_id__in=old).delete()
    WebhookDelivery.objects.filter(event_id__in=old).delete()
    return WebhookEvent.objects.filter(pk__in=old).delete()[0]


@transaction.atomic
def webhook_delivery_redeliver(*, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again now, from the start of the retry schedule (staff, by hand); same ``webhook-id``."""
    delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).select_related("webhook").first()
    if delivery is None:
        raise NotFound(f"Delivery {delivery_id} not found")
    if not delivery.webhook.active:
        raise Conflict("The endpoint is disabled: activate it first")
    if delivery.status == DeliveryStatus.PENDING and delivery.claimed_until and delivery.claimed_until > timezone.now():
        raise Conflict("The delivery is being attempted right now")
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.enqueued_at = None
    delivery.claimed_until = None
    delivery.date_done = None
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "enqueued_at", "claimed_until", "date_done"])
    pk = delivery.pk
    transaction.on_commit(lambda: deliveries_hand_over(delivery_ids=[pk]), robust=True)
    return delivery


def webhook_redeliver_failed(*, webhook_id: int) -> int:
    """Redeliver every failed delivery of an endpoint; how many."""
    ids = list(
        WebhookDelivery.objects.filter(webhook_id=webhook_id, status=DeliveryStatus.FAILED).values_list("pk", flat=True)
    )
    for delivery_id in ids:
        webhook_delivery_redeliver(delivery_id=delivery_id)
    return len(ids)
