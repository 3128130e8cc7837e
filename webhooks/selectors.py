"""Reads of webhooks for the API and the admin: what a user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from core.exceptions import NotFound
from core.validators import is_valid_id
from webhooks.models import Webhook, WebhookAttempt, WebhookDelivery


def webhook_list(*, user) -> QuerySet[Webhook]:
    """Every endpoint for staff; an agency's own otherwise."""
    webhooks = Webhook.objects.select_related("owner").order_by("pk")
    return webhooks if user.is_staff else webhooks.filter(owner_id=user.pk)


def webhook_get(*, user, webhook_id: int) -> Webhook:
    """One endpoint the user may see; 404 for any other (another agency's and staff's alike)."""
    webhook = webhook_list(user=user).filter(pk=webhook_id).first() if is_valid_id(webhook_id) else None
    if webhook is None:
        raise NotFound(f"Webhook {webhook_id} not found")
    return webhook


def delivery_list(*, webhook_id: int) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, with their event."""
    return WebhookDelivery.objects.filter(webhook_id=webhook_id).select_related("event").order_by("-pk")


def delivery_attempts(*, delivery_id: int) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.filter(delivery_id=delivery_id).order_by("pk")
