"""Shapes of the review endpoints: decisions, samples and statistics (request bodies and answers).

The decision body (10,000 images) is described here and parsed by ``campaigns.inputs``;
the small bodies of a sample and a lot decision are parsed here, each field raising the
contract's error at once, in the order of the fields (``size`` then ``seed``; ``decision``
then ``reason``), as the admin's forms of the same actions get them too.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers
from rest_framework.fields import empty

from campaigns.inputs.reviews import REASON_MAX_LENGTH, SAMPLE_SEED_MAX, LotDecision, NewSample
from campaigns.models import Review, ReviewSample
from campaigns.sampling import defect_rate
from campaigns.serializers.inspection import InspectionOutputSerializer, inspection_representation
from core.exceptions import BadRequest, Unprocessable
from core.serializers import (
    format_datetime,
)
from core.validators import NO_NUL_PATTERN, contains_nul, is_json_int


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


# --- reviews, samples, statistics ----------------------------------------------------


class ReviewItemInputSerializer(serializers.Serializer):
    """Schema only: ``campaigns.inputs.parse_review_items`` parses the body."""

    image_id = serializers.IntegerField(help_text="An image of this campaign; each image at most once per request.")
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    reason = serializers.RegexField(
        NO_NUL_PATTERN,
        required=False,
        allow_null=True,
        help_text="Why; required (or `reason_code`) for a rejection. At most 2000.",
    )
    reason_code = serializers.ChoiceField(
        choices=settings.REVIEW_REASON_CODES,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="One of `REVIEW_REASON_CODES` (empty or null: none).",
    )
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


class _OptionalBoundedInteger(serializers.IntegerField):
    """An integer from ``min_value`` to ``max_value`` (``max_setting``'s value when named: read at each request),
    or null or absent: 400 for another JSON value, 422 out of range."""

    def __init__(self, *, max_setting: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.max_setting = max_setting

    def to_internal_value(self, data):
        if not is_json_int(data):
            raise BadRequest(f"'{self.field_name}' must be an integer or null")
        upper = getattr(settings, self.max_setting) if self.max_setting else self.max_value
        if not self.min_value <= data <= upper:
            raise Unprocessable(f"'{self.field_name}' must be between {self.min_value} and {upper}")
        return data

    def run_validators(self, value):
        pass  # the bounds are checked above, against the setting's value now (DRF's validators hold the import's)


class SampleInputSerializer(serializers.Serializer):
    # ``{"size"?: n, "seed"?: n}``; no body, ``{}`` or null: the standard's plan and a random seed.

    size = _OptionalBoundedInteger(
        max_setting="IMAGES_PER_REQUEST_MAX",
        required=False,
        allow_null=True,
        min_value=1,
        max_value=settings.IMAGES_PER_REQUEST_MAX,
        help_text="Images to draw (1..`IMAGES_PER_REQUEST_MAX`); omitted: ISO 2859-1's plan for the lot and AQL.",
    )
    seed = _OptionalBoundedInteger(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=SAMPLE_SEED_MAX,
        help_text="Seed of the random draw (0..2^63-1); omitted: a random one.",
    )

    class Meta:
        ref_name = "SampleStart"

    def run_validation(self, data=empty):
        if data is None or data == "":
            data = {}
        if not isinstance(data, dict):
            raise BadRequest('Expected an object: {"size": <images, optional>, "seed": <integer, optional>}')
        return super().run_validation(data)

    def validate(self, attrs) -> NewSample:
        return NewSample(size=attrs.get("size"), seed=attrs.get("seed"))


LOT_DECISION_REFUSED = "'decision' must be 'accept', 'reject' or 'discard'"


class _LotDecisionField(serializers.ChoiceField):
    """One of the choices; anything else, null or absent: 400."""

    def validate_empty_values(self, data):
        if data is empty or data is None:
            raise BadRequest(LOT_DECISION_REFUSED)
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if data not in ReviewSample.LotDecision.values:  # a list: an unhashable value is simply not in it
            raise BadRequest(LOT_DECISION_REFUSED)
        return data


class _LotReasonField(serializers.RegexField):
    """A string with no NUL (400 otherwise), stripped, at most ``REASON_MAX_LENGTH`` characters then (422); blank
    or null: none."""

    def run_validation(self, data=empty):
        # Not CharField's: it refuses a blank string, which here means no reason.
        is_empty, value = self.validate_empty_values(data)
        return value if is_empty else self.to_internal_value(value)

    def to_internal_value(self, data):
        if not isinstance(data, str) or contains_nul(data):
            raise BadRequest("'reason' must be a string or null")
        reason = data.strip()
        if len(reason) > REASON_MAX_LENGTH:
            raise Unprocessable(f"'reason' must be at most {REASON_MAX_LENGTH} characters")
        return reason


class LotDecisionInputSerializer(serializers.Serializer):
    decision = _LotDecisionField(choices=["accept", "reject", "discard"])
    reason = _LotReasonField(
        NO_NUL_PATTERN,
        required=False,
        allow_null=True,
        help_text="A rejected lot: the reason each image gets (default: the figures). A discarded sample: why.",
    )

    class Meta:
        ref_name = "LotDecision"

    def run_validation(self, data=empty):
        if not isinstance(data, dict):
            raise BadRequest(
                'Expected an object: {"decision": "accept"|"reject"|"discard", "reason": <text, optional>}'
            )
        return super().run_validation(data)

    def validate(self, attrs) -> LotDecision:
        return LotDecision(decision=attrs["decision"], reason=attrs.get("reason") or "")


class SampleGoldOutputSerializer(serializers.Serializer):
    """The gold images delivered in the sample's lot, scored when it was drawn: the lot's gate."""

    images = serializers.IntegerField(help_text="Gold images in the lot with a score (delivered).")
    f1 = serializers.FloatField(allow_null=True, help_text="Their pooled F1 (null: none in the lot).")
    min_f1 = serializers.FloatField(
        allow_null=True, help_text="The campaign's `gold_min_f1` when the sample was drawn (null: no gate)."
    )
    passed = serializers.BooleanField(
        allow_null=True,
        help_text="false: `f1` is below `min_f1`, the verdict is `reject` and accepting the lot is a 409; null: no "
        "gate (no minimum, or no gold image in the lot).",
    )

    class Meta:
        ref_name = "SampleGold"


def sample_gold_representation(sample: ReviewSample) -> dict:
    gated = sample.gold_f1 is not None and sample.gold_min_f1 is not None
    return {
        "images": sample.gold_images,
        "f1": sample.gold_f1,
        "min_f1": float(sample.gold_min_f1) if sample.gold_min_f1 is not None else None,
        "passed": not sample.gold_below_minimum if gated else None,
    }


class SampleOutputSerializer(serializers.Serializer):
    sample_id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    seed = serializers.IntegerField()
    aql = serializers.FloatField()
    code_letter = serializers.CharField(help_text="ISO 2859-1 sample size code letter; empty for a size given by hand.")
    lot_size = serializers.IntegerField(
        help_text="Labeled images awaiting review when the sample was drawn: the lot, each with its revision then."
    )
    sample_size = serializers.IntegerField()
    acceptance_number = serializers.IntegerField(help_text="Ac: the lot is accepted with at most this many rejections.")
    rejection_number = serializers.IntegerField(help_text="Re: rejected with at least this many.")
    inspection = InspectionOutputSerializer(
        help_text="The ISO 2859-1 inspection the plan was drawn under (switching rules), decided from the "
        "campaign's lots when the sample was drawn."
    )
    gold = SampleGoldOutputSerializer(help_text="The lot's gold images: an F1 below the minimum rejects the lot.")
    decided = serializers.IntegerField(help_text="Sampled images decided so far.")
    rejected = serializers.IntegerField(help_text="Sampled images rejected so far (the defects).")
    verdict = serializers.CharField(allow_null=True, help_text="`accept` or `reject` once every image is decided.")
    defect_rate = serializers.FloatField(allow_null=True, help_text="Rejected / decided.")
    defect_rate_interval = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="95 % Wilson score interval of the defect rate."
    )
    lot_decision = serializers.CharField(
        allow_null=True, help_text="`accept` or `reject` once staff decided the lot; `discard`: closed undecided."
    )
    created_by = serializers.CharField(allow_null=True)
    date_created = serializers.DateTimeField()
    image_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="The sampled images, in the order drawn."
    )

    class Meta:
        ref_name = "Sample"

    def to_representation(self, sample):
        decided, rejected = sample.decided, sample.rejected
        rate = defect_rate(rejected, decided)
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
            "inspection": inspection_representation(
                severity=sample.severity, reason=sample.inspection_reason, switching_score=sample.switching_score
            ),
            "gold": sample_gold_representation(sample),
            "decided": decided,
            "rejected": rejected,
            "verdict": sample.verdict or None,
            "defect_rate": rate[0] if rate else None,
            "defect_rate_interval": list(rate[1]) if rate else None,
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
