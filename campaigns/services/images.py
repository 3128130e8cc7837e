"""Adding images to a campaign, from the API (ids and paths) or the admin (any number of ids)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from campaigns.models import Campaign, CampaignImage
from campaigns.services.campaigns import campaign_lock
from core.exceptions import Conflict, NotFound
from core.validators import contains_nul, is_valid_id
from imagesets.models import Image

# Ids per lookup: each looks the images up with one ``IN (...)``; staying under
# 1000 keeps that query within every SQLite build's parameter limit (the admin
# adds a whole image set at once).
BATCH_SIZE = 900


@dataclass(frozen=True)
class AddedImages:
    listed: int  # images asked for
    new: int  # of which were not in the campaign yet
    total: int  # images in the campaign afterwards


def _check_ids_known(image_ids: Sequence[int]) -> None:
    for start in range(0, len(image_ids), BATCH_SIZE):
        batch = image_ids[start : start + BATCH_SIZE]
        found = set(Image.objects.filter(pk__in=[i for i in batch if is_valid_id(i)]).values_list("pk", flat=True))
        for image_id in batch:
            if image_id not in found:
                raise NotFound(f"Unknown image provided: id {image_id}", extra={"image_id": image_id})


def _ids_of_paths(filepaths: Sequence[str]) -> list[int]:
    # A path with a NUL names no stored image (and PostgreSQL refuses it in a query).
    searchable = [path for path in filepaths if not contains_nul(path)]
    by_path = dict(Image.objects.filter(blobstorage_path__in=searchable).values_list("blobstorage_path", "pk"))
    for path in filepaths:
        if path not in by_path:
            raise NotFound(f"Unknown image provided: filepath {path!r}", extra={"filepath": path})
    return [by_path[path] for path in filepaths]


@transaction.atomic
def campaign_add_images(
    *, campaign_id: int, image_ids: Sequence[int] = (), filepaths: Sequence[str] = ()
) -> AddedImages:
    """Add images by id or by path (``blobstorage_path``) to a campaign still ``created``; all or nothing.

    One unknown image and nothing is added (404 naming it); images already in
    the campaign are ignored. The queries do not grow with the number of
    images up to ``BATCH_SIZE`` ids (then one lookup per batch). The counts
    are the campaign's own: its row is locked before they are taken.
    """
    campaign = campaign_lock(campaign_id)
    if campaign.status != Campaign.Status.CREATED:
        raise Conflict(f"Images can only be added while the campaign is 'created'; it is '{campaign.status}'")
    ids = list(dict.fromkeys(image_ids))
    _check_ids_known(ids)
    ids = list(dict.fromkeys([*ids, *_ids_of_paths(filepaths)])) if filepaths else ids

    images = CampaignImage.objects.filter(campaign=campaign)
    before = images.count()
    CampaignImage.objects.bulk_create(
        [CampaignImage(campaign=campaign, image_id=image_id) for image_id in ids], ignore_conflicts=True
    )
    total = images.count()
    return AddedImages(listed=len(ids), new=total - before, total=total)
