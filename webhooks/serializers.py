"""Shapes of the webhook endpoints on the wire, and their request bodies parsed.

An input serializer's fields check presence and JSON types (DRF's 400, every wrong
field named at once); its ``validate`` then checks the values (``webhooks.inputs``,
shared with the admin: 422) in the order ``url``, ``events``, ``description``, and
returns what the service takes. Which events a key may ask for depends on its role:
the view passes ``context={"agency": ...}``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.exceptions import Unprocessable
from core.serializers import StrictStringField
from core.validators import NO_NUL_PATTERN
from webhooks.events import event_types
from webhooks.inputs import parse_events, parse_url
from webhooks.models import DESCRIPTION_MAX_LENGTH, URL_MAX_LENGTH, DeliveryStatus


@extend_schema_field({"type": "boolean"})
class StrictBooleanField(serializers.Field):
    """A JSON ``true``/``false`` as sent (DRF's BooleanField also takes ``"yes"``, ``1``, ...)."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return bool(value)


EVENT_SCHEMA = {"type": "string", "enum": [t.name for t in event_types()]}


@extend_schema_field({"type": "array", "items": EVENT_SCHEMA, "minItems": 1})
class EventListField(serializers.ListField):
    child = StrictStringField()


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": URL_MAX_LENGTH})
class WebhookUrlField(StrictStringField):
    """Any string is read; ``inputs.parse_url`` checks it (422), and only it can: it resolves the host."""


@extend_schema_field({"type": "string", "maxLength": DESCRIPTION_MAX_LENGTH, "pattern": NO_NUL_PATTERN})
class WebhookDescriptionField(StrictStringField):
    """A string with no NUL character (400: PostgreSQL stores none, it was a 500); ``_checked_values`` checks the length
    (422)."""

    default_error_messages = {**StrictStringField.default_error_messages, "nul": "Must not contain NUL characters."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if "\x00" in value:
            self.fail("nul")
        return value


def _checked_values(attrs: dict, *, agency: bool) -> dict:
    """The values of ``url``, ``events`` and ``description`` among ``attrs``, checked in that order (422)."""
    checked = {}
    if "url" in attrs:
        checked["url"] = parse_url(attrs["url"])
    if "events" in attrs:
        checked["events"] = parse_events(attrs["events"], agency=agency)
    if "description" in attrs and len(attrs["description"]) > DESCRIPTION_MAX_LENGTH:
        raise Unprocessable(f"'description' must be at most {DESCRIPTION_MAX_LENGTH} characters")
    return checked


class WebhookCreateInputSerializer(serializers.Serializer):
    url = WebhookUrlField(
        help_text="Where events are POSTed: an https URL reaching a public address (http only where "
        "`WEBHOOKS_ALLOW_HTTP` is on). Redirects are not followed."
    )
    events = EventListField(help_text="The event types to receive (an agency: only the `campaign.*` ones).")
    description = WebhookDescriptionField(required=False, default="", help_text="Free text, up to 200 characters.")
    active = StrictBooleanField(required=False, default=True, help_text="Receive events (default true).")

    def validate(self, attrs) -> dict:
        return {**attrs, **_checked_values(attrs, agency=self.context["agency"])}


class WebhookUpdateInputSerializer(serializers.Serializer):
    url = WebhookUrlField(required=False)
    events = EventListField(required=False)
    description = WebhookDescriptionField(required=False)
    active = StrictBooleanField(
        required=False, help_text="`true` re-enables a disabled endpoint (its failure count starts again)."
    )

    def validate(self, attrs) -> dict:
        """The changes: only the fields sent."""
        return {**attrs, **_checked_values(attrs, agency=self.context["agency"])}


class WebhookOutputSerializer(serializers.Serializer):
    webhook_id = serializers.IntegerField(source="pk")
    url = serializers.CharField()
    description = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField()
    owner = serializers.SerializerMethodField(help_text="The agency's e-mail; null for a staff endpoint.")
    consecutive_failures = serializers.IntegerField(help_text="Failed attempts in a row (0 after a success).")
    disabled_reason = serializers.CharField(
        allow_null=True, help_text="Why labelhub disabled it (too many failures in a row); null otherwise."
    )
    date_disabled = serializers.DateTimeField(allow_null=True)
    date_created = serializers.DateTimeField()

    class Meta:
        ref_name = "Webhook"

    def get_owner(self, webhook) -> str | None:
        return webhook.owner.email if webhook.owner_id else None

    def to_representation(self, webhook):
        data = super().to_representation(webhook)
        data["disabled_reason"] = data["disabled_reason"] or None
        return data


class WebhookCreatedOutputSerializer(WebhookOutputSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (`whsec_...`), shown this once: verify every delivery with it "
        "(Standard Webhooks)."
    )

    class Meta:
        ref_name = "WebhookCreated"


class WebhookDeliveryOutputSerializer(serializers.Serializer):
    delivery_id = serializers.IntegerField(source="pk")
    event_id = serializers.CharField(source="event.uid", help_text="The `webhook-id` header of every attempt.")
    type = serializers.CharField(source="event.type")
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField(help_text="Attempts since it was created or last redelivered.")
    next_attempt_at = serializers.DateTimeField(allow_null=True, help_text="When it is tried next (pending only).")
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    date_created = serializers.DateTimeField()
    date_done = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "WebhookDelivery"

    def to_representation(self, delivery):
        data = super().to_representation(delivery)
        data["last_error"] = data["last_error"] or None
        if delivery.status != DeliveryStatus.PENDING:
            data["next_attempt_at"] = None
        return data
