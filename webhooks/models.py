"""Webhook endpoints and the outbox: events, one delivery per endpoint, every attempt logged."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

URL_MAX_LENGTH = 2000
DESCRIPTION_MAX_LENGTH = 200


class Webhook(models.Model):
    """An endpoint that receives the events it subscribed to, signed with its secret (Standard Webhooks).

    ``owner`` null: a staff endpoint, receiving every event it subscribed to.
    Otherwise the agency user whose campaigns' events it receives, and only those.
    """

    url = models.URLField("URL", max_length=URL_MAX_LENGTH)
    description = models.CharField(max_length=DESCRIPTION_MAX_LENGTH, blank=True, default="")
    # "whsec_<base64 of 32 random bytes>": kept as is, since every delivery is signed with it.
    secret = models.CharField(max_length=100, editable=False)
    events = models.JSONField(default=list, help_text="The event types it receives.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
        help_text="An agency: only events of its own campaigns. Empty: a staff endpoint, every subscribed event.",
    )
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    # One attempt at a time per endpoint: the attempt in flight holds it until then (a crashed
    # worker's hold runs out), so a slow receiver ties up one webhook worker, not all of them.
    busy_until = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.TextField(blank=True, default="", editable=False)
    date_disabled = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    date_created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "labelhub_webhook"  # created when webhooks were part of the labelhub app
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.url}"


class WebhookEvent(models.Model):
    """Something that happened, with the exact bodies the endpoints get (signed as stored).

    ``payload`` is what staff endpoints receive; ``agency_payload``, when the
    agency's API shows the object differently, what agency endpoints receive
    (empty: the same body).
    """

    uid = models.CharField("webhook-id", max_length=40, unique=True, editable=False)
    type = models.CharField(max_length=64, db_index=True)
    payload = models.TextField(help_text='The JSON body: {"type", "timestamp", "data"}.')
    agency_payload = models.TextField(
        blank=True, default="", help_text="The body agency endpoints receive, when it differs (their API's view)."
    )
    date_created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "labelhub_webhookevent"  # created when webhooks were part of the labelhub app
        ordering = ["-pk"]
        verbose_name = "webhook event"

    def __str__(self) -> str:
        return f"{self.type} {self.uid}"

    def payload_for(self, webhook: Webhook) -> str:
        return self.agency_payload if webhook.owner_id is not None and self.agency_payload else self.payload


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # due at next_attempt_at
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # gave up (retries exhausted, or the endpoint is disabled)


class WebhookDelivery(models.Model):
    """One event for one endpoint: attempted until a 2xx or the retry schedule runs out."""

    Status = DeliveryStatus

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # Attempts since it was created or last redelivered by hand (the retry schedule's position).
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When it was last handed to the broker (null: not since its last attempt): the sweep hands
    # over a due delivery not handed over, or handed over WEBHOOKS_REQUEUE_AFTER ago and not attempted.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # A worker attempting it holds it until then; a crashed worker's claim runs out.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    date_created = models.DateTimeField(default=timezone.now)
    date_done = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "labelhub_webhookdelivery"  # created when webhooks were part of the labelhub app
        ordering = ["-pk"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="labelhub_wh_delivery_due")]

    def __str__(self) -> str:
        return f"delivery #{self.pk}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what came back (or what went wrong) and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    date = models.DateTimeField(default=timezone.now)
    url = models.URLField("URL", max_length=URL_MAX_LENGTH)
    address = models.CharField(max_length=64, blank=True, default="", help_text="The IP address connected to.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True, default="")

    class Meta:
        db_table = "labelhub_webhookattempt"  # created when webhooks were part of the labelhub app
        ordering = ["-pk"]
        verbose_name = "webhook attempt"

    def __str__(self) -> str:
        return f"attempt #{self.pk}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
