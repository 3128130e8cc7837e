"""Helpers the campaigns tests share: a campaign's image ids and everything the campaign code may store."""

from __future__ import annotations

from accounts.models import ApiKey, User
from campaigns.models import BoundingBox, Campaign, CampaignImage, CampaignJob, CampaignLabeler, Submission
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
            )
        ),
        list(
            CampaignImage.objects.order_by("pk").values_list(
                "pk", "campaign_id", "image_id", "labeled", "current_submission_id"
            )
        ),
        list(CampaignLabeler.objects.order_by("pk").values_list("campaign_id", "user_id")),
        list(Submission.objects.order_by("pk").values_list("pk", "image_count", "object_count", "source")),
        list(BoundingBox.objects.order_by("pk").values_list("pk", "campaign_image_id", "submission_id", "label")),
        list(CampaignJob.objects.order_by("pk").values_list("pk", "status")),
        list(User.objects.order_by("pk").values_list("pk", "email")),
        list(ApiKey.objects.order_by("pk").values_list("pk", "key", "secret_hash", "revoked_at")),
        list(Image.objects.order_by("pk").values_list("pk", "imageset_id")),
    )
