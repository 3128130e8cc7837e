"""Shapes of the review endpoints: decisions, samples and statistics (request bodies for the schema, answers)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from campaigns.inputs.reviews import SAMPLE_SEED_MAX
from campaigns.models import Review
from campaigns.sampling import defect_rate
from core.serializers import (
    format_datetime,
)
from core.validators import NO_NUL_PATTERN


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


class SampleInputSerializer(serializers.Serializer):
    """Schema only: ``campaigns.inputs.parse_new_sample`` parses the body."""

    size = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=settings.IMAGES_PER_REQUEST_MAX,
        help_text="Images to draw (1..`IMAGES_PER_REQUEST_MAX`); omitted: ISO 2859-1's plan for the lot and AQL.",
    )
    seed = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=SAMPLE_SEED_MAX,
        help_text="Seed of the random draw (0..2^63-1); omitted: a random one.",
    )

    class Meta:
        ref_name = "SampleStart"


class LotDecisionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "reject", "discard"])
    reason = serializers.RegexField(
        NO_NUL_PATTERN,
        required=False,
        allow_null=True,
        help_text="A rejected lot: the reason each image gets (default: the figures). A discarded sample: why.",
    )

    class Meta:
        ref_name = "LotDecision"


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
