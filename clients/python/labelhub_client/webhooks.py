"""Verifying labelhub's webhook deliveries (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``,
``webhook-signature``), for the system that receives them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook
from standardwebhooks.webhooks import WebhookVerificationError as SignatureMismatch

from .errors import WebhookVerificationError


def verify_webhook(secret: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """The event of a delivery whose signature is right; raises :class:`WebhookVerificationError` otherwise.

    ``secret``: the endpoint's signing secret (``whsec_...``, shown once when the endpoint was
    created). ``body``: the request body exactly as received, not re-encoded. ``headers``: the
    request headers (any mapping; names in any case). A delivery signed more than five minutes
    before or after now is refused too (a replay). A ``secret`` that is not one raises ``ValueError``.
    Use the ``webhook-id`` header to drop duplicates: a retried delivery has the same id.
    """
    signer = _signer(secret)
    try:
        signer.verify(body, {name: value for name, value in headers.items()}, json_parse=False)
    except SignatureMismatch as exc:
        raise WebhookVerificationError(str(exc)) from exc
    except ValueError as exc:  # a malformed signature header, or a body that is not UTF-8
        raise WebhookVerificationError(f"malformed delivery: {exc}") from exc
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise WebhookVerificationError("the signed body is not JSON") from exc
    if not isinstance(event, dict):
        raise WebhookVerificationError("the signed body is not a JSON object")
    return event


def _signer(secret: str) -> Webhook:
    try:
        return Webhook(secret)
    except (EmptyWebhookSecretError, ValueError) as exc:
        raise ValueError("not a webhook signing secret (whsec_ and base64)") from exc
