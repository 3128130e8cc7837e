"""Reads that span campaigns, images and users."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import F, Prefetch, QuerySet

from campaigns.models import (
    BoundingBox,
    Campaign,
    CampaignImage,
)
from core.exceptions import NotFound
from core.validators import is_valid_id as _valid_id
from imagesets.models import Image


def labeler_can_read_image(*, user, image_id: int) -> bool:
    """Whether ``user`` labels a campaign that holds the image (one query)."""
    if not _valid_id(image_id):
        return False
    return CampaignImage.objects.filter(image_id=image_id, campaign__labelers=user).exists()


def campaign_list() -> QuerySet[Campaign]:
    """Campaigns by id, each with its progress and export job, in one query per page."""
    return Campaign.objects.with_progress().select_related("created_by", "job").order_by("pk")


def labeler_campaign_list(*, user) -> QuerySet[Campaign]:
    """The campaigns ``user`` labels, by id, each with its progress, in one query per page."""
    return Campaign.objects.with_progress().filter(labelers=user).order_by("pk")


def campaign_get(*, campaign_id: int) -> Campaign:
    """One campaign with progress, creator and job (one query); 404 if unknown."""
    campaign = campaign_list().filter(pk=campaign_id).first() if _valid_id(campaign_id) else None
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} not found")
    return campaign


def campaign_ensure_exists(*, campaign_id: int) -> None:
    if not (_valid_id(campaign_id) and Campaign.objects.filter(pk=campaign_id).exists()):
        raise NotFound(f"Campaign {campaign_id} not found")


def campaign_image_list(*, campaign_id: int, state: str | None = None) -> QuerySet[CampaignImage]:
    """The images of a campaign, by image id, each with its size and latest review (one query a page).

    ``state`` (a ``ReviewState``) keeps only the images in that review state.
    """
    images = CampaignImage.objects.filter(campaign_id=campaign_id)
    if state is not None:
        images = images.filter(review_state=state)
    return (
        images.select_related("last_review", "image")
        .only(
            "id",
            "campaign",
            "image__width",
            "image__height",
            "labeled",
            "review_state",
            "current_submission",
            "rework_round",
            "last_review__submission",
            "last_review__decision",
            "last_review__reason",
            "last_review__reason_code",
            "last_review__date_created",
        )
        .order_by("image_id")
    )


def current_objects() -> QuerySet[BoundingBox]:
    return BoundingBox.objects.current().order_by("position", "pk")


def campaign_object_list(*, campaign_id: int) -> QuerySet[CampaignImage]:
    """The images of a campaign with their current objects in ``current_objects``.

    Paginated, a page costs two queries: the images and all their objects.
    """
    return (
        CampaignImage.objects.filter(campaign_id=campaign_id)
        .only("id", "campaign", "image", "current_submission")
        .order_by("image_id")
        .prefetch_related(Prefetch("boxes", queryset=current_objects(), to_attr="current_objects"))
    )


def image_objects_for_campaigns(*, image_id: int, campaign_ids: Sequence[int]) -> list[BoundingBox]:
    """The current objects of one image in exactly one campaign (``GET /images/{id}/objects``).

    With ``campaign_ids``: the first listed campaign (in the order given) in
    which the image is labeled. Without: the most recently finished campaign
    that holds the image. ``[]`` when there is none. An unknown image or
    listed campaign is a 404.
    """
    if not (_valid_id(image_id) and Image.objects.filter(pk=image_id).exists()):
        raise NotFound(f"Image {image_id} not found")

    chosen: CampaignImage | None
    if campaign_ids:
        wanted = list(dict.fromkeys(campaign_ids))
        valid = [c for c in wanted if _valid_id(c)]
        known = set(Campaign.objects.filter(pk__in=valid).values_list("pk", flat=True))
        for campaign_id in wanted:
            if campaign_id not in known:
                raise NotFound(f"Campaign {campaign_id} not found", extra={"campaign_id": campaign_id})
        labeled = {
            row.campaign_id: row
            for row in CampaignImage.objects.filter(image_id=image_id, campaign_id__in=valid, labeled=True)
        }
        chosen = next((labeled[c] for c in wanted if c in labeled), None)
    else:
        chosen = (
            CampaignImage.objects.filter(image_id=image_id, campaign__status=Campaign.Status.FINISHED)
            .order_by(F("campaign__date_finished").desc(nulls_last=True), "-campaign_id")
            .first()
        )

    if chosen is None or chosen.current_submission_id is None:
        return []
    objects = list(
        BoundingBox.objects.filter(campaign_image=chosen, submission_id=chosen.current_submission_id).order_by(
            "position", "pk"
        )
    )
    for obj in objects:
        obj.campaign_image = chosen
    return objects


# --- the staff admin: campaign pages, the image list's campaign column and filter ------------------------------


def campaign_images_shown(*, campaign_id: int, limit: int) -> list[CampaignImage]:
    """The first ``limit`` images of a campaign (by image id) with their image rows."""
    return list(
        CampaignImage.objects.filter(campaign_id=campaign_id).select_related("image").order_by("image_id")[:limit]
    )


def campaigns_taking_images() -> QuerySet[Campaign]:
    """Campaigns images may be added to (status ``created``), newest first."""
    return Campaign.objects.filter(status=Campaign.Status.CREATED).order_by("-id")


def campaign_filter_choices(*, limit: int, selected: int | None = None) -> list[tuple[int, str]]:
    """``(id, title)`` of the newest ``limit`` campaigns, and of ``selected`` if it is an older one."""
    choices = list(Campaign.objects.order_by("-id").values_list("pk", "title")[:limit])
    if selected is not None and all(pk != selected for pk, _ in choices):
        choices += list(Campaign.objects.filter(pk=selected).values_list("pk", "title"))
    return choices


def image_campaign_list(*, image_id: int) -> list[CampaignImage]:
    """The campaigns holding an image (one row each, with its campaign), by campaign id."""
    return list(CampaignImage.objects.filter(image_id=image_id).select_related("campaign").order_by("campaign_id"))
