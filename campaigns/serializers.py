"""Shapes of the campaign endpoints: request checks and the contract's representations.

Request serializers only check presence and JSON types; ``campaigns.inputs``
parses the values (and the bodies too large for DRF), the services check what
needs the database.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.inputs import EMAIL_MAX_LENGTH
from campaigns.label_schema import LABEL_DESCRIPTION_MAX_LENGTH
from campaigns.models import LABEL_MAX_LENGTH, Campaign, Review
from campaigns.sampling import wilson_interval
from labelhub.serializers import (
    JobSerializer,
    ProgressSerializer,
    StrictStringField,
    TitleField,
    format_datetime,
    job_representation,
)
from labelhub.validators import COORDINATE_MAX


@extend_schema_field(
    {"type": "string", "format": "email", "maxLength": EMAIL_MAX_LENGTH, "example": "agency@example.com"}
)
class EmailStringField(StrictStringField):
    """``campaigns.inputs`` checks the address (400)."""


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
    """Any JSON value is read; ``campaigns.inputs`` checks the mapping (400 otherwise)."""


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


@extend_schema_field(LabelSchemaItemSerializer(many=True, allow_null=True))
class LabelSchemaField(serializers.JSONField):
    """Any JSON value is read; ``campaigns.label_schema`` checks it (400/422)."""


@extend_schema_field(
    {"type": "string", "enum": [Campaign.Status.ACTIVE, Campaign.Status.COMPLETED, Campaign.Status.FINISHED]}
)
class CampaignNewStatusField(StrictStringField):
    """Any string is read; an unknown status is a 400 (``campaigns.inputs``), a disallowed one a 409."""


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
    review_required = serializers.JSONField(
        required=False,
        default=False,
        help_text="Added, optional (default false): refuse `finished` until every image is accepted.",
    )
    aql = serializers.JSONField(
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


class CampaignStatusInputSerializer(serializers.Serializer):
    new_status = CampaignNewStatusField(
        help_text="`active` (from `created`, or from `completed` to reopen), `completed` (from `active`) "
        "or `finished` (from `completed`; starts the export)."
    )


# The next three describe request bodies in the API schema only: ``campaigns.inputs``
# parses them (a 10,000-object body is validated in plain Python, not by DRF).


class ImageRefInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="An image id; or give `filepath`.")
    filepath = serializers.CharField(
        required=False, min_length=1, help_text="An image's `blobstorage_path`; or give `id`."
    )


class BoundingBoxSerializer(serializers.Serializer):
    """Pixels from the image's top left corner: `xmin <= xmax`, `ymin <= ymax`, inside the image."""

    xmin = serializers.IntegerField(min_value=0, max_value=COORDINATE_MAX)
    xmax = serializers.IntegerField(min_value=0, max_value=COORDINATE_MAX)
    ymin = serializers.IntegerField(min_value=0, max_value=COORDINATE_MAX)
    ymax = serializers.IntegerField(min_value=0, max_value=COORDINATE_MAX)


class NewObjectInputSerializer(serializers.Serializer):
    label = serializers.CharField(min_length=1, max_length=LABEL_MAX_LENGTH, help_text="What was found.")
    label_translated = serializers.CharField(
        required=False,
        allow_null=True,
        min_length=1,
        max_length=LABEL_MAX_LENGTH,
        help_text="Optional: stored as the label, and `label` kept as `label_original`.",
    )
    confidence = serializers.FloatField(
        required=False, allow_null=True, min_value=0, max_value=1, help_text="Optional, 0 to 1."
    )
    bounding_box = BoundingBoxSerializer()


class ImageObjectsInputSerializer(serializers.Serializer):
    image_id = serializers.IntegerField(help_text="An image of this campaign; each image at most once per request.")
    objects = NewObjectInputSerializer(
        many=True, help_text="Every object found on the image; replaces what was stored. `[]`: nothing found."
    )


# --- responses ----------------------------------------------------------------


class CampaignOutputSerializer(serializers.Serializer):
    """A labeling campaign. (Serializes ``Campaign.objects.with_progress()`` rows.)"""

    campaign_id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    review_required = serializers.BooleanField(help_text="Added: finishing is refused until every image is accepted.")
    aql = serializers.FloatField(help_text="Added: the AQL (percent) of the delivery's acceptance sampling.")
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


class ImageReviewOutputSerializer(serializers.Serializer):
    """The latest review of an image's current revision."""

    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    reason = serializers.CharField(help_text="Why, for the agency (empty when accepted without a note).")
    reason_code = serializers.CharField(help_text="One of `REVIEW_REASON_CODES`, or empty.")
    date = serializers.DateTimeField()

    class Meta:
        ref_name = "ImageReview"


def review_representation(review: Review | None) -> dict | None:
    if review is None:
        return None
    return {
        "decision": review.decision,
        "reason": review.reason,
        "reason_code": review.reason_code,
        "date": format_datetime(review.date_created),
    }


class CampaignImageOutputSerializer(serializers.Serializer):
    image_id = serializers.IntegerField()
    url = serializers.CharField(help_text="The image, relative to the API base: /images/<id>")
    labeled = serializers.BooleanField(
        help_text="Added: whether the image counts as labeled (a rejected image does not until it is resubmitted)."
    )
    review = ImageReviewOutputSerializer(
        allow_null=True,
        help_text="Added: the decision on the image's current revision; null while it awaits review or is unlabeled.",
    )

    def to_representation(self, campaign_image):
        return {
            "image_id": campaign_image.image_id,
            "url": f"/images/{campaign_image.image_id}",
            "labeled": campaign_image.labeled,
            "review": review_representation(campaign_image.current_review),
        }


class ObjectOutputSerializer(serializers.Serializer):
    """An object labeled on an image. (``to_representation`` is written out: a page may hold 10,000.)"""

    object_id = serializers.IntegerField()
    image_id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    label = serializers.CharField()
    label_original = serializers.CharField(help_text="The label as the labeler sent it.")
    confidence = serializers.FloatField(allow_null=True)
    bounding_box = BoundingBoxSerializer()
    date_added = serializers.DateTimeField()

    def to_representation(self, obj):
        campaign_image = obj.campaign_image
        return {
            "object_id": obj.pk,
            "image_id": campaign_image.image_id,
            "campaign_id": campaign_image.campaign_id,
            "label": obj.label,
            "label_original": obj.label_original,
            "confidence": obj.confidence,
            "bounding_box": {"xmin": obj.xmin, "xmax": obj.xmax, "ymin": obj.ymin, "ymax": obj.ymax},
            "date_added": format_datetime(obj.date_added),
        }


_object_serializer = ObjectOutputSerializer()


class CampaignImageObjectsOutputSerializer(serializers.Serializer):
    image_id = serializers.IntegerField()
    url = serializers.CharField()
    objects = ObjectOutputSerializer(many=True)

    def to_representation(self, campaign_image):
        return {
            "image_id": campaign_image.image_id,
            "url": f"/images/{campaign_image.image_id}",
            "objects": [_object_serializer.to_representation(o) for o in campaign_image.current_objects],
        }


# --- reviews, samples, statistics ----------------------------------------------------


class ReviewItemInputSerializer(serializers.Serializer):
    """Schema only: ``campaigns.inputs.parse_review_items`` parses the body."""

    image_id = serializers.IntegerField(help_text="An image of this campaign; each image at most once per request.")
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    reason = serializers.CharField(
        required=False, allow_null=True, help_text="Why; required (or `reason_code`) for a rejection. At most 2000."
    )
    reason_code = serializers.CharField(required=False, allow_null=True, help_text="One of `REVIEW_REASON_CODES`.")
    submission_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The revision the reviewer looked at; a 409 if the image has been resubmitted since.",
    )

    class Meta:
        ref_name = "ReviewItem"


class ReviewOutputSerializer(serializers.Serializer):
    review_id = serializers.IntegerField()
    image_id = serializers.IntegerField()
    submission_id = serializers.IntegerField(help_text="The revision judged.")
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    reason = serializers.CharField()
    reason_code = serializers.CharField()
    reviewer = serializers.CharField(allow_null=True, help_text="E-mail of the reviewer; null for the system.")
    sample_id = serializers.IntegerField(allow_null=True, help_text="Set when the decision came from a lot decision.")
    date = serializers.DateTimeField()
    date_reworked = serializers.DateTimeField(
        allow_null=True, help_text="A rejection: when the agency's next revision arrived."
    )

    class Meta:
        ref_name = "Review"

    def to_representation(self, review):
        return {
            "review_id": review.pk,
            "image_id": review.campaign_image.image_id,
            "submission_id": review.submission_id,
            "decision": review.decision,
            "reason": review.reason,
            "reason_code": review.reason_code,
            "reviewer": review.reviewer.email if review.reviewer_id else None,
            "sample_id": review.sample_id,
            "date": format_datetime(review.date_created),
            "date_reworked": format_datetime(review.date_reworked) if review.date_reworked else None,
        }


class SampleInputSerializer(serializers.Serializer):
    """Schema only: ``campaigns.inputs.parse_new_sample`` parses the body."""

    size = serializers.IntegerField(
        required=False, allow_null=True, help_text="Images to draw; omitted: ISO 2859-1's plan for the lot and AQL."
    )
    seed = serializers.IntegerField(
        required=False, allow_null=True, help_text="Seed of the random draw (0..2^63-1); omitted: a random one."
    )

    class Meta:
        ref_name = "SampleStart"


class LotDecisionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "reject"])
    reason = serializers.CharField(
        required=False, allow_null=True, help_text="A rejected lot: the reason each image gets (default: the figures)."
    )

    class Meta:
        ref_name = "LotDecision"


class SampleOutputSerializer(serializers.Serializer):
    sample_id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    seed = serializers.IntegerField()
    aql = serializers.FloatField()
    code_letter = serializers.CharField(help_text="ISO 2859-1 sample size code letter; empty for a size given by hand.")
    lot_size = serializers.IntegerField(help_text="Labeled images awaiting review when the sample was drawn.")
    sample_size = serializers.IntegerField()
    acceptance_number = serializers.IntegerField(help_text="Ac: the lot is accepted with at most this many rejections.")
    rejection_number = serializers.IntegerField(help_text="Re: rejected with at least this many.")
    decided = serializers.IntegerField(help_text="Sampled images decided so far.")
    rejected = serializers.IntegerField(help_text="Sampled images rejected so far (the defects).")
    verdict = serializers.CharField(allow_null=True, help_text="`accept` or `reject` once every image is decided.")
    defect_rate = serializers.FloatField(allow_null=True, help_text="Rejected / decided.")
    defect_rate_interval = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="95 % Wilson score interval of the defect rate."
    )
    lot_decision = serializers.CharField(allow_null=True, help_text="`accept` or `reject` once staff decided the lot.")
    created_by = serializers.CharField(allow_null=True)
    date_created = serializers.DateTimeField()
    image_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="The sampled images, in the order drawn."
    )

    class Meta:
        ref_name = "Sample"

    def to_representation(self, sample):
        decided, rejected = sample.decided, sample.rejected
        data = {
            "sample_id": sample.pk,
            "campaign_id": sample.campaign_id,
            "seed": sample.seed,
            "aql": float(sample.aql),
            "code_letter": sample.code_letter,
            "lot_size": sample.lot_size,
            "sample_size": sample.sample_size,
            "acceptance_number": sample.acceptance_number,
            "rejection_number": sample.rejection_number,
            "decided": decided,
            "rejected": rejected,
            "verdict": sample.verdict or None,
            "defect_rate": rejected / decided if decided else None,
            "defect_rate_interval": list(wilson_interval(rejected, decided)) if decided else None,
            "lot_decision": sample.lot_decision or None,
            "created_by": sample.created_by.email if sample.created_by_id else None,
            "date_created": format_datetime(sample.date_created),
        }
        if "image_ids" in self.context:
            data["image_ids"] = self.context["image_ids"]
        return data


class StatsOutputSerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    images = serializers.IntegerField()
    unlabeled = serializers.IntegerField()
    labeled = serializers.IntegerField(help_text="Images first labeled in the range.")
    pending = serializers.IntegerField(help_text="Images awaiting review.")
    accepted = serializers.IntegerField(help_text="Images accepted in the range.")
    rejected = serializers.IntegerField(help_text="Images rejected in the range.")
    decisions = serializers.IntegerField()
    rejections = serializers.IntegerField()
    rejection_rate = serializers.FloatField(allow_null=True, help_text="Rejections / decisions.")
    revisions = serializers.IntegerField(help_text="Image revisions submitted.")
    rework_rounds = serializers.IntegerField(help_text="Rejections answered by a new revision.")
    boxes = serializers.IntegerField()
    boxes_per_label = serializers.DictField(child=serializers.IntegerField())
    median_seconds_to_first_submission = serializers.FloatField(
        allow_null=True, help_text="From the campaign's activation to an image's first submission."
    )
    median_seconds_to_resubmission = serializers.FloatField(
        allow_null=True, help_text="From a rejection to the revision that answered it."
    )

    class Meta:
        ref_name = "CampaignStats"
