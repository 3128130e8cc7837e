"""Everything that writes webhooks: endpoints, the outbox (``webhook_event_record``), delivery and its retries."""

from labelhub.webhooks.services.delivery import (
    retry_delay,
    signed_headers,
    webhook_delivery_attempt,
    webhook_delivery_redeliver,
    webhook_redeliver_failed,
    webhook_sweep,
)
from labelhub.webhooks.services.endpoints import (
    new_secret,
    webhook_create,
    webhook_delete,
    webhook_lock,
    webhook_update,
)
from labelhub.webhooks.services.outbox import deliveries_hand_over, webhook_event_record

__all__ = [
    "deliveries_hand_over",
    "new_secret",
    "retry_delay",
    "signed_headers",
    "webhook_create",
    "webhook_delete",
    "webhook_delivery_attempt",
    "webhook_delivery_redeliver",
    "webhook_event_record",
    "webhook_lock",
    "webhook_redeliver_failed",
    "webhook_sweep",
    "webhook_update",
]
