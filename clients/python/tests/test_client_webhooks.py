"""``verify_webhook`` against deliveries signed as labelhub signs them (Standard Webhooks)."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from labelhub_client import WebhookVerificationError, verify_webhook

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
EVENT = {"type": "campaign.completed", "data": {"campaign_id": 3}}


def delivery(*, secret=SECRET, body=None, sent=None, msg_id="evt_1"):
    """A delivery's body and headers, signed like ``webhooks.services.delivery.signed_headers``."""
    body = json.dumps(EVENT) if body is None else body
    sent = sent or datetime.now(timezone.utc)  # noqa: UP017 (the client supports Python 3.10)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=msg_id, timestamp=sent, data=body),
        "Content-Type": "application/json",
    }
    return body.encode(), headers


def test_a_correctly_signed_delivery_gives_its_event():
    body, headers = delivery()

    assert verify_webhook(SECRET, body, headers) == EVENT


def test_header_names_in_any_case_and_any_mapping():
    body, headers = delivery()

    assert verify_webhook(SECRET, body, httpx.Headers({k.upper(): v for k, v in headers.items()})) == EVENT


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda body, headers: (body.replace(b"3", b"4"), headers), id="body changed"),
        pytest.param(lambda body, headers: delivery(secret="whsec_" + base64.b64encode(b"x" * 32).decode()), id="key"),
        pytest.param(lambda body, headers: (body, {**headers, "webhook-id": "evt_2"}), id="id changed"),
        pytest.param(lambda body, headers: (body, {**headers, "webhook-signature": "v1,bm9wZQ=="}), id="signature"),
        pytest.param(lambda body, headers: (body, {**headers, "webhook-signature": "garbage"}), id="malformed"),
        pytest.param(lambda body, headers: (body, {"webhook-id": "evt_1"}), id="no signature"),
        pytest.param(
            lambda body, headers: delivery(sent=datetime.now(timezone.utc) - timedelta(minutes=10)),  # noqa: UP017
            id="replayed later",
        ),
    ],
)
def test_a_forged_altered_or_old_delivery_is_refused(forge):
    body, headers = forge(*delivery())

    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, body, headers)


def test_a_signed_body_that_is_not_a_json_object_is_refused():
    body, headers = delivery(body="[1, 2]")

    with pytest.raises(WebhookVerificationError, match="not a JSON object"):
        verify_webhook(SECRET, body, headers)


def test_a_secret_that_is_not_one_is_a_value_error():
    body, headers = delivery()

    with pytest.raises(ValueError, match="signing secret"):
        verify_webhook("", body, headers)
