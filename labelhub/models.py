"""The labelhub app's tables: the webhooks (``labelhub/webhooks``); ``labelhub.jobs.Job`` is abstract."""

from labelhub.webhooks.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent

__all__ = ["DeliveryStatus", "Webhook", "WebhookAttempt", "WebhookDelivery", "WebhookEvent"]
