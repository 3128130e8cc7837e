"""Everything that writes webhooks: endpoints, the outbox (``webhook_event_record``), delivery and its retries."""

from webhooks.services.delivery import (
    retry_delay,
    signed_headers,
    webhook_delivery_attempt,
    webhook_delivery_redeliver,
    webhook_events_purge,
    webhook_redeliver_failed,
    webhook_sweep,
)
from webhooks.services.endpoints import (
    OWNER_DEACTIVATED,
    OWNER_KEY_REVOKED,
    EndpointLimitReached,
    new_secret,
    webhook_create,
    webhook_delete,
    webhook_lock,
    webhook_owner_check_room,
    webhook_update,
    webhooks_disable_for_owner,
)
from webhooks.services.outbox import deliveries_hand_over, webhook_event_record

__all__ = [
    "OWNER_DEACTIVATED",
    "OWNER_KEY_REVOKED",
    "EndpointLimitReached",
    "deliveries_hand_over",
    "new_secret",
    "retry_delay",
    "signed_headers",
    "webhook_create",
    "webhook_delete",
    "webhook_delivery_attempt",
    "webhook_delivery_redeliver",
    "webhook_event_record",
    "webhook_events_purge",
    "webhook_lock",
    "webhook_owner_check_room",
    "webhook_redeliver_failed",
    "webhook_sweep",
    "webhook_update",
    "webhooks_disable_for_owner",
]
