"""Gold images: staff give, copy, import or remove the reference boxes of some images of a campaign.

A reference is checked as ``PUT /campaigns/{id}/objects`` checks a
submission (``locked_and_checked``: the images are the campaign's, the boxes
inside them, the labels in its schema, stored translated as an agency's
would be), and only while the campaign is ``created`` or ``active``.
Giving an image's reference replaces the one it had; the image's current
submission, when the agency already delivered it, is scored against the new
reference at once (``campaigns.gold.scores.gold_rescore``). None of this
touches the ``CampaignImage`` or ``Image`` rows, records no webhook event and
changes nothing the agency can read.
"""

from __future__ import annotations

from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from accounts.audit import Actor, audit_record
from campaigns.gold.scores import gold_rescore
from campaigns.imports import CampaignImageIndex, ImportRefused, ImportReport, parse_labels_file
from campaigns.inputs import NewObject, ObjectsByImage
from campaigns.models import BoundingBox, Campaign, CampaignImage, GoldBox, GoldImage, ReviewState
from campaigns.services.boxes import _stored_labels, locked_and_checked
from campaigns.services.campaigns import campaign_lock
from core.exceptions import Conflict, NotFound, Unprocessable
from core.validators import is_valid_id

Status = Campaign.Status
# References are given before labeling starts or while it runs.
GOLD_ALLOWED = (Status.CREATED, Status.ACTIVE)
Source = GoldImage.Source


def _check_status(campaign: Campaign) -> None:
    if campaign.status not in GOLD_ALLOWED:
        raise Conflict(f"Gold images are given while the campaign is 'created' or 'active'; it is '{campaign.status}'")


def _store_references(
    campaign: Campaign,
    objects_by_image: ObjectsByImage,
    by_image: dict[int, CampaignImage],
    *,
    actor: Actor | None,
    source: str,
    source_campaign: Campaign | None = None,
) -> list[int]:
    """Create or update the listed images' gold rows, replace their boxes and score them again; the gold ids."""
    now = timezone.now()
    user = actor.user if actor is not None else None
    existing = {
        gold.image_id: gold for gold in GoldImage.objects.filter(campaign=campaign, image_id__in=list(by_image))
    }
    new = [
        GoldImage(
            campaign=campaign,
            campaign_image_id=by_image[image_id].pk,
            image_id=image_id,
            source=source,
            source_campaign=source_campaign,
            created_by=user,
            date_created=now,
            date_updated=now,
        )
        for image_id, _ in objects_by_image
        if image_id not in existing
    ]
    GoldImage.objects.bulk_create(new)
    if existing:
        GoldBox.objects.filter(gold__in=existing.values()).delete()
        GoldImage.objects.filter(pk__in=[gold.pk for gold in existing.values()]).update(
            source=source, source_campaign=source_campaign, date_updated=now
        )
    gold_of = existing | {gold.image_id: gold for gold in new}
    translations = campaign.label_translations if isinstance(campaign.label_translations, dict) else {}
    GoldBox.objects.bulk_create(
        GoldBox(
            gold=gold_of[image_id],
            label=_stored_labels(box, translations)[0],
            xmin=box.xmin,
            xmax=box.xmax,
            ymin=box.ymin,
            ymax=box.ymax,
            position=position,
        )
        for image_id, boxes in objects_by_image
        for position, box in enumerate(boxes)
    )
    gold_ids = [gold_of[image_id].pk for image_id, _ in objects_by_image]
    gold_rescore(gold_ids=gold_ids)
    return gold_ids


@transaction.atomic
def gold_replace(*, campaign_id: int, objects_by_image: ObjectsByImage, actor: Actor | None) -> int:
    """Give the listed images' references (``PUT /campaigns/{id}/gold``); all or nothing.

    404 for an unknown campaign or an image not in it, 409 unless the campaign
    is created or active, 422 for a box outside its image or a label outside
    the schema; nothing stored then. A fixed number of queries. Returns the
    number of images given.
    """
    campaign = campaign_lock(campaign_id)
    _check_status(campaign)
    if not objects_by_image:
        return 0
    by_image = locked_and_checked(campaign, objects_by_image)
    _store_references(campaign, objects_by_image, by_image, actor=actor, source=Source.STAFF)
    audit_record(
        actor=actor,
        action="campaign.gold",
        target=campaign,
        details={"images": len(objects_by_image), "boxes": sum(len(boxes) for _, boxes in objects_by_image)},
    )
    return len(objects_by_image)


@transaction.atomic
def gold_delete(*, campaign_id: int, image_id: int, actor: Actor | None) -> None:
    """Remove one image's reference and its scores (``DELETE /campaigns/{id}/gold/{image_id}``), in any status.

    404 for an unknown campaign or an image that is not one of its gold images.
    The image stays in the campaign, an ordinary image.
    """
    campaign = campaign_lock(campaign_id)
    gold = GoldImage.objects.filter(campaign=campaign, image_id=image_id).first() if is_valid_id(image_id) else None
    if gold is None:
        raise NotFound(f"Image {image_id} is not a gold image of campaign {campaign.pk}", extra={"image_id": image_id})
    gold.delete()
    audit_record(actor=actor, action="campaign.gold_delete", target=campaign, details={"image_id": image_id})


@transaction.atomic
def gold_copy_from_campaign(
    *, campaign_id: int, source_campaign_id: int, image_ids: list[int] | None, actor: Actor | None
) -> list[int]:
    """References copied from another campaign's accepted submissions of the same images; all or nothing.

    Each image's current boxes in ``source_campaign_id``, when its current
    revision there is accepted, become its reference here, checked as
    ``gold_replace`` checks them (this campaign's label schema and
    translations). ``image_ids``: only these images (each must be in both
    campaigns and accepted there: 404 / 409 naming the first that is not);
    ``None``: every image the two share whose revision is accepted there. 404
    for an unknown campaign, 422 for the campaign itself as its source, 409
    unless this campaign is created or active. Returns the image ids given a
    reference, in order.
    """
    campaign = campaign_lock(campaign_id)
    _check_status(campaign)
    if source_campaign_id == campaign.pk:
        raise Unprocessable("'campaign_id' must name another campaign than this one")
    source = Campaign.objects.filter(pk=source_campaign_id).first() if is_valid_id(source_campaign_id) else None
    if source is None:
        raise NotFound(f"Campaign {source_campaign_id} not found")
    accepted = CampaignImage.objects.filter(campaign=source, review_state=ReviewState.ACCEPTED)
    shared = CampaignImage.objects.filter(campaign=campaign)
    if image_ids is None:
        wanted = list(
            accepted.filter(image_id__in=shared.values("image_id"))
            .order_by("image_id")
            .values_list("image_id", flat=True)
        )
    else:
        wanted = list(image_ids)
        in_source = dict(
            CampaignImage.objects.filter(campaign=source, image_id__in=wanted).values_list("image_id", "review_state")
        )
        for image_id in wanted:
            if image_id not in in_source:
                raise NotFound(f"Image {image_id} is not part of campaign {source.pk}", extra={"image_id": image_id})
            if in_source[image_id] != ReviewState.ACCEPTED:
                raise Conflict(
                    f"Image {image_id} has no accepted submission in campaign {source.pk}; "
                    f"its current revision there is '{in_source[image_id]}'",
                    extra={"image_id": image_id},
                )
    if not wanted:
        return []
    boxes_by_image: dict[int, list[NewObject]] = {image_id: [] for image_id in wanted}
    for box in (
        BoundingBox.objects.current()
        .filter(campaign_image__campaign=source, campaign_image__image_id__in=wanted)
        .order_by("campaign_image_id", "position")
        .select_related("campaign_image")
        .only("label", "xmin", "xmax", "ymin", "ymax", "campaign_image__image_id")
    ):
        boxes_by_image[box.campaign_image.image_id].append(
            NewObject(
                label=box.label,
                label_translated=None,
                confidence=None,
                xmin=box.xmin,
                xmax=box.xmax,
                ymin=box.ymin,
                ymax=box.ymax,
            )
        )
    objects_by_image = list(boxes_by_image.items())
    by_image = locked_and_checked(campaign, objects_by_image)
    _store_references(campaign, objects_by_image, by_image, actor=actor, source=Source.CAMPAIGN, source_campaign=source)
    audit_record(
        actor=actor,
        action="campaign.gold",
        target=campaign,
        details={"images": len(objects_by_image), "from_campaign": source.pk},
    )
    return wanted


@transaction.atomic
def gold_import(*, campaign_id: int, file: BinaryIO, file_format: str, actor: Actor | None) -> ImportReport:
    """References read from a COCO file (or a labels CSV), matched to the campaign's images as ``labels_import``.

    All or nothing: ``ImportRefused`` (422, with the report) when anything in
    the file does not match the campaign; then checked and stored as
    ``gold_replace`` does (``manage.py import_labels --gold``).
    """
    campaign = campaign_lock(campaign_id)
    _check_status(campaign)
    objects_by_image, report = parse_labels_file(file, file_format=file_format, index=CampaignImageIndex(campaign.pk))
    if not report.ok:
        raise ImportRefused(report)
    if objects_by_image:
        by_image = locked_and_checked(campaign, objects_by_image)
        _store_references(campaign, objects_by_image, by_image, actor=actor, source=Source.FILE)
        audit_record(
            actor=actor,
            action="campaign.gold",
            target=campaign,
            details={"images": report.images, "boxes": report.objects, "imported": file_format},
        )
    return report
