"""Objects (labeled boxes): a labeler's submission replaces an image's objects, older revisions pruned."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DateTimeField, F, IntegerField, Value, When, Window
from django.db.models.functions import Coalesce, DenseRank
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import ApiKey, User
from campaigns.gold.scores import gold_score_submissions
from campaigns.inputs import NewObject, ObjectsByImage
from campaigns.label_schema import check_labels_allowed
from campaigns.models import LABEL_MAX_LENGTH, BoundingBox, Campaign, CampaignImage, ReviewState, Submission
from campaigns.services.campaigns import campaign_images_lock, campaign_lock
from campaigns.services.reviews import note_resubmission
from campaigns.webhooks import campaign_event_record
from core.exceptions import Conflict, Unprocessable

Status = Campaign.Status


def _stored_labels(new: NewObject, translations: dict) -> tuple[str, str]:
    """``(label, label_original)`` per the contract's translation rule."""
    if new.label_translated is not None:
        return new.label_translated, new.label
    translated = translations.get(new.label)
    if isinstance(translated, str) and 1 <= len(translated) <= LABEL_MAX_LENGTH:
        return translated, new.label
    return new.label, new.label


def _lock_listed_images(campaign: Campaign, image_ids: list[int]) -> dict[int, CampaignImage]:
    """The campaign's rows of the listed images (with the image's size), locked; 404 for one not in it."""
    return campaign_images_lock(campaign, image_ids, fields=("id", "image"), with_image_size=True)


def _check_boxes_inside(objects_by_image: ObjectsByImage, by_image: dict[int, CampaignImage]) -> None:
    """422 for a box reaching past its image (an image of unknown size takes any box)."""
    for image_id, new_objects in objects_by_image:
        image = by_image[image_id].image
        for index, new in enumerate(new_objects):
            if (image.width is not None and new.xmax > image.width) or (
                image.height is not None and new.ymax > image.height
            ):
                raise Unprocessable(
                    f"Image {image_id}, object {index}: the bounding box lies outside the image "
                    f"({image.width}x{image.height})",
                    extra={"image_id": image_id, "object_index": index},
                )


def _new_boxes(
    objects_by_image: ObjectsByImage, by_image: dict[int, CampaignImage], *, submission: Submission, translations: dict
) -> list[BoundingBox]:
    boxes = []
    for image_id, new_objects in objects_by_image:
        campaign_image_id = by_image[image_id].pk
        for position, new in enumerate(new_objects):
            label, label_original = _stored_labels(new, translations)
            boxes.append(
                BoundingBox(
                    campaign_image_id=campaign_image_id,
                    submission=submission,
                    label=label,
                    label_original=label_original,
                    confidence=new.confidence,
                    xmin=new.xmin,
                    xmax=new.xmax,
                    ymin=new.ymin,
                    ymax=new.ymax,
                    position=position,
                    date_added=submission.date_created,
                )
            )
    return boxes


def _prune_revisions(*, campaign_image_ids: list[int], current: list[Submission]) -> None:
    """Delete the objects of each image's superseded revisions beyond ``SUBMISSION_REVISIONS_KEPT``.

    One DELETE for all the images: the objects of the listed images are ranked
    by revision (newest submission first, the current one left out) and those
    ranked past the limit go. A revision that labeled an image with no objects
    left no rows, so it is neither counted nor kept. The submission rows stay
    (who sent what, when).
    """
    superseded = (
        BoundingBox.objects.filter(campaign_image_id__in=campaign_image_ids)
        .exclude(submission__in=current)
        .exclude(submission__source=Submission.Source.MODEL)  # predictions are not revisions
        .annotate(revision=Window(DenseRank(), partition_by=F("campaign_image_id"), order_by=F("submission_id").desc()))
        .filter(revision__gt=settings.SUBMISSION_REVISIONS_KEPT)
        .values("pk")
    )
    BoundingBox.objects.filter(pk__in=superseded).delete()


def locked_and_checked(campaign: Campaign, objects_by_image: ObjectsByImage) -> dict[int, CampaignImage]:
    """The listed images' rows, locked; 404 for one not in the campaign, 422 for a box outside its image
    or a label outside the campaign's schema."""
    by_image = _lock_listed_images(campaign, [image_id for image_id, _ in objects_by_image])
    _check_boxes_inside(objects_by_image, by_image)
    check_labels_allowed(objects_by_image, campaign=campaign, stored_labels=_stored_labels)
    return by_image


def store_submission(
    campaign: Campaign,
    objects_by_image: ObjectsByImage,
    by_image: dict[int, CampaignImage],
    *,
    user: User | None,
    api_key: ApiKey | None,
    **source,
) -> Submission:
    """A submission row and its boxes (labels translated as the contract says), in two statements.

    ``source``: the submission's origin fields (a model's predictions: ``source``, ``model_name``, ...).
    """
    return store_submissions(campaign, [("", objects_by_image)], by_image, user=user, api_key=api_key, **source)[0]


def by_annotator(objects_by_image: ObjectsByImage, annotators: Mapping[int, str]) -> list[tuple[str, ObjectsByImage]]:
    """The images grouped by annotator (``""``: the images naming none), each group in the order first listed."""
    groups: dict[str, ObjectsByImage] = {}
    for image_id, new_objects in objects_by_image:
        groups.setdefault(annotators.get(image_id, ""), []).append((image_id, new_objects))
    return list(groups.items())


def store_submissions(
    campaign: Campaign,
    groups: list[tuple[str, ObjectsByImage]],
    by_image: dict[int, CampaignImage],
    *,
    user: User | None,
    api_key: ApiKey | None,
    **source,
) -> list[Submission]:
    """One submission per group (an annotator's images, ``by_annotator``) and all their boxes, in two statements."""
    now = timezone.now()
    submissions = Submission.objects.bulk_create(
        [
            Submission(
                campaign=campaign,
                user=user,
                api_key=api_key,
                image_count=len(items),
                object_count=sum(len(new_objects) for _, new_objects in items),
                date_created=now,
                annotator=annotator,
                **source,
            )
            for annotator, items in groups
        ]
    )
    translations = campaign.label_translations if isinstance(campaign.label_translations, dict) else {}
    boxes: list[BoundingBox] = []
    for submission, (_, items) in zip(submissions, groups, strict=True):
        boxes += _new_boxes(items, by_image, submission=submission, translations=translations)
    BoundingBox.objects.bulk_create(boxes)
    return submissions


def _new_current_submission(submissions: list[Submission], groups: list[tuple[str, ObjectsByImage]], by_image):
    """The listed images' new current submission: the one stored, or a CASE over each annotator's images."""
    if len(submissions) == 1:
        return submissions[0].pk
    return Case(
        *(
            When(pk__in=[by_image[image_id].pk for image_id, _ in items], then=Value(submission.pk))
            for submission, (_, items) in zip(submissions, groups, strict=True)
        ),
        output_field=IntegerField(),
    )


def objects_replace(
    *, campaign_id: int, objects_by_image: ObjectsByImage, user: User | None, api_key: ApiKey | None = None
) -> Submission | None:
    """Replace the objects of the listed images with the given ones, as one submission; all or nothing.

    ``objects_replace_by_annotator`` with no annotator named. Returns the new
    submission (None for an empty list).
    """
    submissions = objects_replace_by_annotator(
        campaign_id=campaign_id, objects_by_image=objects_by_image, annotators={}, user=user, api_key=api_key
    )
    return submissions[0] if submissions else None


@transaction.atomic
def objects_replace_by_annotator(
    *,
    campaign_id: int,
    objects_by_image: ObjectsByImage,
    annotators: Mapping[int, str],
    user: User | None,
    api_key: ApiKey | None = None,
) -> list[Submission]:
    """Replace the objects of the listed images with the given ones; all or nothing.

    ``objects_by_image`` and ``annotators`` are the parsed body
    (``campaigns.inputs.parse_object_delivery``): one submission is stored per
    annotator named (the images naming none together), in the order first
    listed. The previous objects stay stored as a superseded submission, up to
    ``SUBMISSION_REVISIONS_KEPT`` superseded revisions per image (older ones
    are deleted). Marks the images labeled and completes the campaign when
    none is left unlabeled. Scores the gold images among them against their
    references (``campaigns.gold.scores``). A fixed number of queries, however many images,
    objects and annotators are sent (on SQLite ``bulk_create`` splits inserts into
    batches of ~90 objects, a limit of that backend's bound parameters). Returns
    the new submissions (none for an empty list).
    """
    campaign = campaign_lock(campaign_id)
    if campaign.status != Status.ACTIVE:
        raise Conflict(f"Objects can only be submitted while the campaign is 'active'; it is '{campaign.status}'")
    if not objects_by_image:
        return []
    by_image = locked_and_checked(campaign, objects_by_image)
    groups = by_annotator(objects_by_image, annotators)
    submissions = store_submissions(campaign, groups, by_image, user=user, api_key=api_key)
    campaign_image_ids = [row.pk for row in by_image.values()]
    now = submissions[0].date_created
    note_resubmission(campaign_image_ids=campaign_image_ids, now=now)
    # One UPDATE; every SET expression reads the row as it was (a rejected image starts a rework round).
    CampaignImage.objects.filter(pk__in=campaign_image_ids).update(
        current_submission=_new_current_submission(submissions, groups, by_image),
        labeled=True,
        date_labeled=now,
        date_first_labeled=Coalesce(F("date_first_labeled"), Value(now, output_field=DateTimeField())),
        revision_count=F("revision_count") + 1,
        rework_round=F("rework_round") + Case(When(review_state=ReviewState.REJECTED, then=1), default=0),
        review_state=ReviewState.PENDING,
    )
    gold_score_submissions(
        submissions=[
            (submission, [by_image[image_id].pk for image_id, _ in items])
            for submission, (_, items) in zip(submissions, groups, strict=True)
        ]
    )
    _prune_revisions(campaign_image_ids=campaign_image_ids, current=submissions)

    if not CampaignImage.objects.filter(campaign=campaign, labeled=False).exists():
        campaign.status = Status.COMPLETED
        campaign.date_completed = now
        campaign.save(update_fields=["status", "date_completed"])
        audit_record(
            actor=None,
            action="campaign.status",
            target=campaign,
            details={"from": Status.ACTIVE, "to": Status.COMPLETED, "why": "every image is labeled"},
        )
        campaign_event_record(campaign=campaign)
    return submissions
