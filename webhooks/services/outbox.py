"""Recording an event in the outbox, in the transaction of the change that causes it, and handing it over."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task
from rest_framework.utils.encoders import JSONEncoder

from core.serializers import format_datetime
from webhooks.events import event_type
from webhooks.models import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent

logger = logging.getLogger(__name__)

DELIVERY_TASK = "webhooks.tasks.webhook_delivery_send"


def _hand_over(delivery_pk: int) -> None:
    """Queue one attempt on the webhook cluster.

    ``save=False``: django-q2 keeps no "successful task" for it. An attempt
    never raises, so one that got a 503 would be listed there as a success;
    the delivery and its attempt log are the record (the webhook admin shows
    them). Its ``save_limit`` says the same, but only to the webhook cluster.
    """
    async_task(
        DELIVERY_TASK,
        delivery_pk,
        task_name=f"webhook-delivery-{delivery_pk}",
        cluster=settings.WEBHOOKS_QUEUE,
        save=False,
    )


def _body(type: str, now, data: dict | Callable[[], dict]) -> str:
    return json.dumps(
        {"type": type, "timestamp": format_datetime(now), "data": data() if callable(data) else data},
        cls=JSONEncoder,
        separators=(",", ":"),
    )


def webhook_event_record(
    *,
    type: str,
    data: dict | Callable[[], dict],
    agency_data: dict | Callable[[], dict] | None = None,
    campaign_user_ids: Iterable[int] | Callable[[], Iterable[int]] = (),
) -> WebhookEvent | None:
    """Record that ``type`` happened, for every active endpoint subscribed to it; sent after the commit.

    Call it inside the transaction of the change (the event is committed, or
    not, with it). ``data`` is the object as the API represents it (an
    output serializer's ``.data``); ``agency_data``, the object as the
    agency's API represents it when that differs (agency endpoints receive it
    instead; None: the same ``data``). ``campaign_user_ids``: the agency users
    that may see the event (the campaign's labelers); an agency's endpoint
    receives the event only if its owner is one of them, and the event type
    is open to agencies. Staff endpoints receive every event they subscribed to.
    Either may be a function, called only when an endpoint wants the event
    (so an installation without webhooks pays one query per event).

    Costs one query when no endpoint wants the event (nothing is stored) and
    three when some do (the endpoints, the event, the deliveries in one
    insert), plus what the two functions query, however many endpoints
    there are; no network I/O. Returns the event, or ``None``.
    """
    known = event_type(type)
    if known is None:
        raise ValueError(f"unknown webhook event type {type!r}: register it in webhooks/events.py")
    # An owner who was deactivated receives nothing, even if an endpoint was left active.
    endpoints = Webhook.objects.filter(active=True).exclude(owner__is_active=False)
    wanting = [
        (pk, owner_id)
        for pk, owner_id, events in endpoints.values_list("pk", "owner_id", "events")
        if type in (events or []) and (owner_id is None or known.agency)
    ]
    if any(owner_id is not None for _, owner_id in wanting):
        users = campaign_user_ids() if callable(campaign_user_ids) else campaign_user_ids
        allowed = {int(pk) for pk in users}
        wanting = [(pk, owner_id) for pk, owner_id in wanting if owner_id is None or owner_id in allowed]
    if not wanting:
        return None
    now = timezone.now()
    payload = _body(type, now, data) if any(owner_id is None for _, owner_id in wanting) else ""
    agency_payload = ""
    if any(owner_id is not None for _, owner_id in wanting):
        same = agency_data is None and payload
        agency_payload = payload if same else _body(type, now, data if agency_data is None else agency_data)
    event = WebhookEvent.objects.create(
        uid=f"msg_{uuid.uuid4().hex}",
        type=type,
        # Without a staff endpoint the agency's body is the only one: it is also the event's own.
        payload=payload or agency_payload,
        agency_payload=agency_payload if payload and agency_payload != payload else "",
        date_created=now,
    )
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, webhook_id=pk, next_attempt_at=now, date_created=now) for pk, _ in wanting
    )
    event_pk = event.pk
    # robust: the change is committed; a broker that is down leaves the deliveries to the sweep.
    transaction.on_commit(lambda: deliveries_hand_over(event_id=event_pk), robust=True)
    return event


def deliveries_hand_over(*, event_id: int | None = None, delivery_ids: list[int] | None = None) -> int:
    """Give the pending deliveries (of an event, or these) to the broker; how many were handed over.

    A refused hand-over leaves the delivery without ``enqueued_at``: the sweep
    tries again. A delivery handed over twice is attempted once (the claim).
    """
    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
    if event_id is not None:
        pending = pending.filter(event_id=event_id)
    if delivery_ids is not None:
        pending = pending.filter(pk__in=delivery_ids)
    pks = list(pending.values_list("pk", flat=True))
    if not pks:
        return 0
    WebhookDelivery.objects.filter(pk__in=pks).update(enqueued_at=timezone.now())
    handed = 0
    for pk in pks:
        if Conf.SYNC:
            # Tests (DJANGO_Q_SYNC) attempt right here; an attempt never raises.
            _hand_over(pk)
            handed += 1
            continue
        try:
            _hand_over(pk)
        except Exception as exc:  # noqa: BLE001 - the sweep hands it over later
            logger.warning("could not queue webhook delivery %s (%s); the sweep will retry", pk, exc)
            WebhookDelivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING).update(enqueued_at=None)
        else:
            handed += 1
    return handed
