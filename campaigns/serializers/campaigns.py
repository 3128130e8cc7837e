"""Shapes of the campaign endpoints: a campaign's request bodies (create, change status) and answers.

A small body is declared once, by its input serializer: its fields give the
OpenAPI document and check presence and JSON types (DRF's 400, every wrong field
named at once); its ``validate`` then checks the values with ``campaigns.inputs``'
validators, in the order the contract reports them (each refusal the contract's
400 or 422, raised at once), and returns what the service takes; the services
check what needs the database. A campaign's images and the objects labeled on
them are in ``campaigns.serializers.objects``.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.inputs import (
    EMAIL_MAX_LENGTH,
    NewCampaign,
    validate_aql,
    validate_gold_min_f1,
    validate_label_translations,
    validate_labeler_email,
    validate_review_required,
)
from campaigns.label_schema import LABEL_DESCRIPTION_MAX_LENGTH, parse_label_schema
from campaigns.models import LABEL_MAX_LENGTH, Campaign
from campaigns.sampling import AQLS, DEFAULT_AQL
from core.exceptions import BadRequest
from core.serializers import (
    JobSerializer,
    ProgressSerializer,
    StrictStringField,
    TitleField,
    job_representation,
)
from core.validators import validate_metadata, validate_title


@extend_schema_field(
    {"type": "string", "format": "email", "maxLength": EMAIL_MAX_LENGTH, "example": "agency@example.com"}
)
class EmailStringField(StrictStringField):
    """Any string is read; ``validate_labeler_email`` checks the address (400)."""


@extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
class JsonObjectField(serializers.JSONField):
    """Any JSON value is read; ``validate_metadata`` accepts an object or null (400 otherwise)."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "minLength": 1, "maxLength": LABEL_MAX_LENGTH},
        "nullable": True,
        "example": {"PET": "Plastic"},
    }
)
class LabelTranslationsField(serializers.JSONField):
    """Any JSON value is read; ``validate_label_translations`` checks the mapping (400 otherwise)."""


class LabelSchemaItemSerializer(serializers.Serializer):
    """One label of a campaign's label schema."""

    name = serializers.CharField(min_length=1, max_length=LABEL_MAX_LENGTH, help_text="The label, unique.")
    colour = serializers.RegexField(
        r"^#[0-9a-fA-F]{6}$", required=False, allow_null=True, help_text="`#rrggbb` (stored lower-case), or null."
    )
    description = serializers.CharField(
        required=False, allow_null=True, max_length=LABEL_DESCRIPTION_MAX_LENGTH, help_text="What it covers."
    )

    class Meta:
        ref_name = "CampaignLabel"


# null is listed: in OpenAPI 3.0 an enum holds every allowed value, "nullable" or not.
@extend_schema_field({"type": "number", "enum": [float(aql) for aql in AQLS] + [None], "nullable": True})
class AqlField(serializers.JSONField):
    """Any JSON value is read; ``validate_aql`` refuses a non-number (400) or another AQL (422)."""


@extend_schema_field({"type": "number", "minimum": 0, "maximum": 1, "nullable": True, "example": 0.85})
class GoldMinF1Field(serializers.JSONField):
    """Any JSON value is read; ``validate_gold_min_f1`` refuses a non-number (400) or one outside 0..1 (422)."""


@extend_schema_field({"type": "boolean"})
class ReviewRequiredField(serializers.JSONField):
    """Any JSON value but null is read; ``validate_review_required`` takes only true or false (400)."""


@extend_schema_field(LabelSchemaItemSerializer(many=True, allow_null=True))
class LabelSchemaField(serializers.JSONField):
    """Any JSON value is read; ``campaigns.label_schema.parse_label_schema`` checks it (400/422)."""


@extend_schema_field(
    {"type": "string", "enum": [Campaign.Status.ACTIVE, Campaign.Status.COMPLETED, Campaign.Status.FINISHED]}
)
class CampaignNewStatusField(StrictStringField):
    """Any string is read; an unknown status is a 400 (``CampaignStatusInputSerializer.validate``), a disallowed one
    the service's 409."""


# --- requests -----------------------------------------------------------------


class CampaignCreateInputSerializer(serializers.Serializer):
    title = TitleField(
        help_text="1-53 lowercase letters, digits and single dashes, not starting or ending with a dash; "
        "unique among campaigns. It names the exported data assets.",
    )
    labeler_email = EmailStringField(
        help_text="The labeling agency's user: found by e-mail or created, and given the labeler role on "
        "this campaign.",
    )
    metadata = JsonObjectField(
        required=False, allow_null=True, default=None, help_text="Free-form JSON object (optional)."
    )
    label_translations = LabelTranslationsField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Optional: label as sent by the agency -> label stored. Applied to objects sent "
        "without `label_translated`.",
    )
    review_required = ReviewRequiredField(
        required=False,
        default=False,
        help_text="Added, optional (default false): refuse `finished` until every image is accepted.",
    )
    aql = AqlField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Added, optional: the AQL in percent for acceptance sampling, one of ISO 2859-1's series "
        "0.010 ... 10 (default 2.5).",
    )
    labels = LabelSchemaField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Optional label schema: the only labels objects may be stored with (after translation). "
        "Null or absent: any label.",
    )
    gold_min_f1 = GoldMinF1Field(
        required=False,
        allow_null=True,
        default=None,
        help_text="Added, optional: the lowest pooled F1 (0 to 1) the gold images delivered in a lot may score; "
        "below it the lot's sample verdict is reject (docs/quality.md). Null or absent: no gold gate.",
    )

    def validate(self, attrs) -> NewCampaign:
        """The values, once every field has its JSON type: the title (422), then metadata, translations and e-mail
        (400), ``review_required`` (400), the AQL (400/422), then the label schema (400 or 422), then
        ``gold_min_f1`` (400/422), the first refusal raised. (The tests' ``create_campaign_from_body`` calls it
        with the fields as given.)"""
        aql = attrs.get("aql")
        return NewCampaign(
            title=validate_title(attrs.get("title")),
            metadata=validate_metadata(attrs.get("metadata")),
            label_translations=validate_label_translations(attrs.get("label_translations")),
            labeler_email=validate_labeler_email(attrs.get("labeler_email")),
            review_required=validate_review_required(attrs.get("review_required", False)),
            aql=DEFAULT_AQL if aql is None else validate_aql(aql),
            labels=parse_label_schema(attrs.get("labels")),
            gold_min_f1=validate_gold_min_f1(attrs.get("gold_min_f1")),
        )


class CampaignStatusInputSerializer(serializers.Serializer):
    new_status = CampaignNewStatusField(
        help_text="`active` (from `created`, or from `completed` to reopen), `completed` (from `active`) "
        "or `finished` (from `completed`; starts the export)."
    )

    def validate(self, attrs) -> dict:
        """One of ``Campaign.Status`` (400 otherwise); whether the campaign may go there is the service's 409."""
        new_status = attrs.get("new_status")
        if not isinstance(new_status, str) or new_status not in Campaign.Status.values:
            statuses = ", ".join(Campaign.Status.values)
            raise BadRequest(f"'new_status' must be one of {statuses}; got {str(new_status)[:60]!r}")
        return {"new_status": new_status}


# --- responses ----------------------------------------------------------------


class CampaignOutputSerializer(serializers.Serializer):
    """A labeling campaign. (Serializes ``Campaign.objects.with_progress()`` rows.)"""

    campaign_id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    review_required = serializers.BooleanField(help_text="Added: finishing is refused until every image is accepted.")
    aql = serializers.FloatField(help_text="Added: the AQL (percent) of the delivery's acceptance sampling.")
    gold_min_f1 = serializers.FloatField(
        allow_null=True,
        help_text="Added: the lowest pooled F1 a lot's gold images may score (null: no gold gate). Never shown "
        "to the agency.",
    )
    progress = serializers.SerializerMethodField(help_text="Labeled images out of the campaign's images.")
    metadata = serializers.JSONField(allow_null=True)
    label_translations = serializers.JSONField(allow_null=True)
    labels = LabelSchemaItemSerializer(
        many=True, allow_null=True, help_text="The label schema; null: any label may be submitted."
    )
    date_created = serializers.DateTimeField()
    date_started = serializers.DateTimeField(allow_null=True, help_text="When it first became active.")
    date_completed = serializers.DateTimeField(allow_null=True, help_text="When every image was labeled.")
    date_finished = serializers.DateTimeField(allow_null=True)
    created_by = serializers.SerializerMethodField(help_text="E-mail of the image-admin who created it.")
    job = serializers.SerializerMethodField(help_text="The export job: null before the campaign is finished.")

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, campaign) -> dict:
        return {"done": campaign.progress_done, "total": campaign.progress_total}

    def get_created_by(self, campaign) -> str | None:
        return campaign.created_by.email if campaign.created_by_id else None

    @extend_schema_field(JobSerializer(allow_null=True))
    def get_job(self, campaign) -> dict | None:
        return job_representation(getattr(campaign, "job", None))


class LabelerCampaignOutputSerializer(serializers.Serializer):
    """A campaign as its labeling agency reads it: what it needs to label, nothing about the customer."""

    campaign_id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    progress = serializers.SerializerMethodField(help_text="Labeled images out of the campaign's images.")
    label_translations = serializers.JSONField(allow_null=True)
    labels = LabelSchemaItemSerializer(
        many=True, allow_null=True, help_text="The label schema; null: any label may be submitted."
    )

    class Meta:
        ref_name = "LabelerCampaign"

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, campaign) -> dict:
        return {"done": campaign.progress_done, "total": campaign.progress_total}


class LabelerCampaignSchema(OpenApiSerializerExtension):
    """``LabelerCampaign`` holds exactly its fields, so an answer of ``GET /campaigns/{id}`` is either it or a
    full ``Campaign`` (``oneOf``), never both."""

    target_class = LabelerCampaignOutputSerializer

    def map_serializer(self, auto_schema, direction):
        return {**auto_schema._map_basic_serializer(self.target, direction), "additionalProperties": False}


class AccessTokenOutputSerializer(serializers.Serializer):
    apikey = serializers.CharField(help_text="The labeler's `Authentication-Key`.")
    apisecret = serializers.CharField(
        allow_null=True,
        help_text="The labeler's `Authentication-Secret`, shown this once. Null when the labeler "
        "already had a key: its secret is stored hashed and cannot be shown again.",
    )

    class Meta:
        ref_name = "AccessToken"  # the published schema's name


class CampaignCreatedOutputSerializer(CampaignOutputSerializer):
    access_token = serializers.SerializerMethodField(help_text="The key to hand to the labeling agency.")

    @extend_schema_field(AccessTokenOutputSerializer)
    def get_access_token(self, campaign) -> dict:
        return self.context["issued_key"].as_token()


class ExportFileOutputSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="Where the file is in storage: `<container>/label_sets/<name>`.")
    size = serializers.IntegerField(allow_null=True, min_value=0, help_text="Bytes written.")
    sha256 = serializers.CharField(allow_null=True, help_text="SHA-256 of the bytes written, in hex.")
    url = serializers.CharField(
        allow_null=True,
        help_text="A read URL of the file valid for one hour, made for this answer (no key headers: it carries "
        "its own signature); null when the storage could not sign one just now.",
    )

    class Meta:
        ref_name = "ExportFile"


class CampaignExportOutputSerializer(serializers.Serializer):
    """``GET /campaigns/{id}/export``: the export job and the files it wrote."""

    campaign_id = serializers.IntegerField(source="campaign.pk")
    job = serializers.SerializerMethodField(help_text="The export job, as the campaign's `job` shows it.")
    files = ExportFileOutputSerializer(many=True, help_text="The files the job wrote, in the order it wrote them.")

    class Meta:
        ref_name = "CampaignExport"

    @extend_schema_field(JobSerializer)
    def get_job(self, value) -> dict:
        return job_representation(value["campaign"].job)
