"""django-q2 entry points of the webhooks."""

from webhooks.services import webhook_delivery_attempt


def webhook_delivery_send(delivery_id: int) -> None:
    """Attempt one delivery (a duplicate hand-over, or one not yet due, does nothing)."""
    webhook_delivery_attempt(delivery_id=delivery_id)
