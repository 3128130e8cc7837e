"""The OpenAPI declarations of the ``/webhooks`` endpoints, one decorator per operation.

Named after the operation (``WEBHOOKS_CREATE`` is ``webhooks_create``) and applied in
``webhooks.apis`` as ``@openapi.WEBHOOKS_CREATE``, so a view holds its HTTP code and this
module its descriptions, examples and error tables.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view

from core.openapi import JSON_BODY_MALFORMED, errors
from webhooks.serializers import (
    WebhookCreatedOutputSerializer,
    WebhookCreateInputSerializer,
    WebhookDeliveryOutputSerializer,
    WebhookOutputSerializer,
    WebhookUpdateInputSerializer,
)

TAG = "webhooks"
WEBHOOK_ID = OpenApiParameter("webhook_id", int, OpenApiParameter.PATH, description="The webhook's id.")
NO_WEBHOOK = (404, "No such webhook, or one of another agency or of staff (an agency sees only its own).")
REFUSED = (
    422,
    "A value refused: the URL is not https (http only with `WEBHOOKS_ALLOW_HTTP`), holds credentials or a "
    "fragment, does not resolve, or reaches a loopback, private, link-local, multicast or reserved address; "
    "an unknown event type, none at all, or (an agency) a staff-only one; a description over 200 characters. "
    "Nothing is stored.",
    # What only the server can tell: where the host resolves to, and which events the key's role may receive.
    {
        "a host that does not resolve": "'url': The URL's host 'hooks.agency.example' does not resolve",
        "a staff-only event for an agency": "'events': 'export.failed' is for staff endpoints only",
    },
)
AT_CAP = (
    409,
    "The owner already has as many endpoints as allowed (`WEBHOOKS_MAX_PER_OWNER` per agency, default 5; "
    "`WEBHOOKS_MAX_STAFF` for all staff endpoints together, default 20), disabled ones included: delete one "
    "first. Nothing is stored.",
)
BAD_TYPES = (400, "A field of the wrong JSON type or a missing one. " + JSON_BODY_MALFORMED)

EXAMPLE_WEBHOOK = {
    "webhook_id": 3,
    "url": "https://hooks.agency.example/labelhub",
    "description": "Campaign status for our planners",
    "events": ["campaign.activated", "campaign.completed"],
    "active": True,
    "owner": "agency@example.com",
    "consecutive_failures": 0,
    "disabled_reason": None,
    "date_disabled": None,
    "date_created": "2024-05-02T09:30:00.000000Z",
}


def webhook_operation(operation_id: str, summary: str, description: str, *, detail: bool = False, **schema):
    """``extend_schema`` of a ``/webhooks`` operation (tag ``webhooks``); ``detail``: on ``/webhooks/{webhook_id}``."""
    return extend_schema(
        operation_id=operation_id,
        tags=[TAG],
        summary=summary,
        description=description,
        parameters=[WEBHOOK_ID] if detail else [],
        **schema,
    )


WEBHOOKS_LIST = extend_schema_view(
    get=webhook_operation(
        "webhooks_list",
        "List webhooks",
        "Added. Every webhook endpoint for an image-admin; an agency's key lists its own only. 10 per page "
        "by default. The signing secret is never shown here (only when the endpoint is created).",
        responses={200: WebhookOutputSerializer(many=True), **errors(400, 401)},
    )
)

WEBHOOKS_CREATE = webhook_operation(
    "webhooks_create",
    "Create a webhook",
    "Added. A new endpoint receiving the listed events as signed `POST`s (Standard Webhooks: `webhook-id`, "
    "`webhook-timestamp`, `webhook-signature`). The answer holds the signing `secret` this once. An "
    "agency's endpoint receives only events of its own campaigns (`campaign.*`); an image-admin's "
    "receives every event it lists. The URL must be https and reach a public address. An agency may "
    "have at most `WEBHOOKS_MAX_PER_OWNER` endpoints (default 5; 409 beyond).",
    request=WebhookCreateInputSerializer,
    examples=[
        OpenApiExample(
            "An agency's endpoint",
            value={
                "url": "https://hooks.agency.example/labelhub",
                "events": ["campaign.activated", "campaign.completed"],
                "description": "Campaign status for our planners",
            },
            request_only=True,
        ),
        OpenApiExample(
            "Created",
            value={**EXAMPLE_WEBHOOK, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
            response_only=True,
            status_codes=["201"],
        ),
    ],
    responses={201: WebhookCreatedOutputSerializer, **errors(BAD_TYPES, 401, AT_CAP, REFUSED)},
)

WEBHOOKS_RETRIEVE = webhook_operation(
    "webhooks_retrieve",
    "Get a webhook",
    "Added. One endpoint: its URL, events, whether it is active and, when labelhub disabled it after too "
    "many failed attempts in a row, why and when.",
    detail=True,
    examples=[OpenApiExample("An endpoint", value=EXAMPLE_WEBHOOK)],
    responses={200: WebhookOutputSerializer, **errors(401, NO_WEBHOOK)},
)

WEBHOOKS_UPDATE = webhook_operation(
    "webhooks_update",
    "Change a webhook",
    "Added. Changes the fields sent (the others stay). `active: true` re-enables an endpoint labelhub "
    "disabled; its failed deliveries can then be sent again from the admin.",
    detail=True,
    request=WebhookUpdateInputSerializer,
    examples=[
        OpenApiExample("Re-enable", value={"active": True}, request_only=True),
        OpenApiExample("Changed", value=EXAMPLE_WEBHOOK, response_only=True),
    ],
    responses={200: WebhookOutputSerializer, **errors(BAD_TYPES, 401, NO_WEBHOOK, REFUSED)},
)

WEBHOOKS_DELETE = webhook_operation(
    "webhooks_delete",
    "Delete a webhook",
    "Added. Deletes the endpoint with its deliveries and their log; nothing more is sent to it.",
    detail=True,
    responses={204: None, **errors(401, NO_WEBHOOK)},
)

WEBHOOKS_DELIVERIES_LIST = extend_schema_view(
    get=webhook_operation(
        "webhooks_deliveries_list",
        "List a webhook's deliveries",
        "Added. The endpoint's deliveries, newest first, 10 per page by default: the event, whether it "
        "`succeeded`, is `pending` (tried again at `next_attempt_at`) or `failed` (retries exhausted or the "
        "endpoint disabled), and the last answer or error.",
        detail=True,
        responses={200: WebhookDeliveryOutputSerializer(many=True), **errors(400, 401, NO_WEBHOOK)},
    )
)
