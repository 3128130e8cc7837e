"""Serializer pieces every app's API shares."""

from __future__ import annotations

from datetime import UTC, datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.jobs import JobStatus
from core.validators import TITLE_MAX_LENGTH, TITLE_RE, is_json_int

# --- shapes shared by several representations (documentation only) ------------------

# An image set or campaign title (core.validators.validate_title; 422 otherwise).
TITLE_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": TITLE_MAX_LENGTH,
    "pattern": TITLE_RE.pattern,
}


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(min_value=0)
    total = serializers.IntegerField(min_value=0)


class JobSerializer(serializers.Serializer):
    """The last background job of an image set (finish) or a campaign (export); see ``Job.as_contract``."""

    status = serializers.ChoiceField(
        choices=JobStatus.choices,
        help_text="`queued` -> `running` -> `succeeded` or `failed`.",
    )
    progress = ProgressSerializer(help_text="Items done out of the total, while it runs.")
    error = serializers.CharField(allow_null=True, help_text="Why it failed; null otherwise.")
    date_queued = serializers.DateTimeField()
    date_started = serializers.DateTimeField(allow_null=True)
    date_done = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField(
        min_value=0,
        help_text="Added: runs started since the job was last queued by staff. A job whose worker died is "
        "run again by itself (it goes on where it stopped) until `JOBS_MAX_ATTEMPTS`; then it is `failed`.",
    )


_datetime = serializers.DateTimeField()


def format_datetime(value: datetime | None) -> str | None:
    """The contract's timestamp: ISO 8601 in UTC with a ``Z`` (``2020-10-26T07:44:56.562150Z``)."""
    if value is None:
        return None
    # Not DATETIME_FORMAT's strftime: its %Y does not pad a year before 1000, so a filter
    # bound echoed back (?since=0627-09-29) read "627-09-29T...", not a date-time.
    utc = _datetime.enforce_timezone(value).astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


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
    """A title string; its format is checked after every field's JSON type (``validate_title``: 422, not 400)."""


def validated(serializer_class: type[serializers.Serializer], data, *, context: dict | None = None):
    """``data`` parsed by an input serializer: its ``validated_data`` (what its ``validate`` returns).

    A field's presence or JSON type is DRF's ``ValidationError`` (the exception handler's 400); a value
    refused is the contract's ``ApplicationError``, raised by the serializer as it checks.
    """
    serializer = serializer_class(data=data, context=context or {})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
