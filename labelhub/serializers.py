"""Serializer pieces every app's API shares."""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from labelhub.schema import TITLE_SCHEMA
from labelhub.validators import is_json_int

_datetime = serializers.DateTimeField()


def format_datetime(value: datetime | None) -> str | None:
    """The contract's timestamp: ISO 8601 in UTC with a ``Z``."""
    return _datetime.to_representation(value) if value is not None else None


def job_representation(job) -> dict | None:
    """The contract's ``job`` object: ``None`` before any job, else ``job.as_contract()``."""
    if job is None:
        return None
    return {
        key: format_datetime(value) if isinstance(value, datetime) else value
        for key, value in job.as_contract().items()
    }


@extend_schema_field(OpenApiTypes.STR)
class StrictStringField(serializers.Field):
    """A JSON string as sent, nothing coerced into one (DRF's CharField turns 123 into "123").

    Not trimmed and may be blank: the services check the content.
    """

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer as sent: DRF's IntegerField also takes ``"1"``, ``1.0`` and ``true``."""

    def to_internal_value(self, data):
        if not is_json_int(data):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(TITLE_SCHEMA)
class TitleField(StrictStringField):
    """A title string; its format is checked by the service (422, not 400)."""
