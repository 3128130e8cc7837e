"""Helpers the campaigns tests share: a campaign's image ids and everything the campaign code may store."""

from __future__ import annotations

from accounts.models import ApiKey, AuditEvent, User
from campaigns.models import (
    BoundingBox,
    Campaign,
    CampaignImage,
    CampaignJob,
    CampaignLabeler,
    GoldBox,
    GoldImage,
    GoldScore,
    Review,
    ReviewLotImage,
    ReviewSample,
    ReviewSampleImage,
    Submission,
)
from imagesets.models import Image


def image_ids(campaign) -> list[int]:
    """The campaign's image ids, ascending."""
    return list(campaign.campaign_images.order_by("image_id").values_list("image_id", flat=True))


def campaign_state():
    """Everything the campaign endpoints, services and admin can write, labelers and their keys included:
    compare it before and after a refusal."""
    return (
        list(
            Campaign.objects.order_by("pk").values_list(
                "pk",
                "title",
                "status",
                "metadata",
                "label_translations",
                "labels",
                "date_started",
                "date_completed",
                "date_finished",
                "review_required",
                "aql",
                "gold_min_f1",
                "reduced_inspection",
            )
        ),
        list(
            CampaignImage.objects.order_by("pk").values_list(
                "pk",
                "campaign_id",
                "image_id",
                "labeled",
                "current_submission_id",
                "review_state",
                "last_review_id",
                "revision_count",
                "rework_round",
                "date_first_labeled",
            )
        ),
        list(Review.objects.order_by("pk").values_list("pk", "campaign_image_id", "decision", "date_reworked")),
        list(
            ReviewSample.objects.order_by("pk").values_list(
                "pk", "verdict", "lot_decision", "severity", "discontinued", "date_resumed"
            )
        ),
        list(ReviewSampleImage.objects.order_by("pk").values_list("pk", "decision", "submission_id")),
        list(ReviewLotImage.objects.order_by("pk").values_list("sample_id", "campaign_image_id", "submission_id")),
        list(AuditEvent.objects.order_by("pk").values_list("pk", "action")),
        list(CampaignLabeler.objects.order_by("pk").values_list("campaign_id", "user_id")),
        list(Submission.objects.order_by("pk").values_list("pk", "image_count", "object_count", "source")),
        list(BoundingBox.objects.order_by("pk").values_list("pk", "campaign_image_id", "submission_id", "label")),
        list(CampaignJob.objects.order_by("pk").values_list("pk", "status")),
        list(User.objects.order_by("pk").values_list("pk", "email")),
        list(ApiKey.objects.order_by("pk").values_list("pk", "key", "secret_hash", "revoked_at")),
        list(Image.objects.order_by("pk").values_list("pk", "imageset_id")),
        list(GoldImage.objects.order_by("pk").values_list("pk", "image_id", "source", "date_updated")),
        list(GoldBox.objects.order_by("pk").values_list("pk", "gold_id", "label", "xmin", "ymin", "xmax", "ymax")),
        list(GoldScore.objects.order_by("pk").values_list("pk", "gold_id", "submission_id", "latest", "f1")),
    )
