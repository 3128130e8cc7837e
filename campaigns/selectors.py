"""Reads that span campaigns, images and users."""

from __future__ import annotations

from campaigns.models import CampaignImage


def labeler_can_read_image(*, user, image_id: int) -> bool:
    """Whether ``user`` labels a campaign that holds the image (one query)."""
    return CampaignImage.objects.filter(image_id=image_id, campaign__labelers=user).exists()
