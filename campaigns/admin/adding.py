"""Adding many images to a campaign from the admin: ``campaign_add_images`` in batches, all or nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from campaigns.models import CampaignImage
from campaigns.services import campaign_add_images

# Ids per call: each call looks the images up with one ``IN (...)``; staying
# under 1000 keeps that query within every SQLite build's parameter limit.
BATCH_SIZE = 900


@dataclass(frozen=True)
class Added:
    listed: int  # images asked for
    new: int  # of which were not in the campaign yet
    total: int  # images in the campaign afterwards


def add_images_to_campaign(*, campaign_id: int, image_ids: Iterable[int]) -> Added:
    """Add any number of images (by id) to a campaign in ``created``; nothing is added if any call fails.

    The first (empty) call locks the campaign and checks its status, so the
    counts around the additions are the campaign's own.
    """
    ids = list(dict.fromkeys(image_ids))
    with transaction.atomic():
        campaign_add_images(campaign_id=campaign_id, items=[])
        before = CampaignImage.objects.filter(campaign_id=campaign_id).count()
        for start in range(0, len(ids), BATCH_SIZE):
            campaign_add_images(campaign_id=campaign_id, items=[{"id": i} for i in ids[start : start + BATCH_SIZE]])
        total = CampaignImage.objects.filter(campaign_id=campaign_id).count()
    return Added(listed=len(ids), new=total - before, total=total)
