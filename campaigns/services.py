"""Everything that writes campaigns, their images, labelers and objects.

Every service is keyword-only and atomic; a status change locks the campaign
row (``select_for_update``) and checks ``Campaign.TRANSITIONS`` under that
lock, so two concurrent requests can never both make the same transition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Window
from django.db.models.functions import DenseRank
from django.utils import timezone

from accounts.models import ApiKey, User
from accounts.services import IssuedKey, apikey_issue, labeler_get_or_create
from campaigns.models import BoundingBox, Campaign, CampaignImage, CampaignJob, CampaignLabeler, Submission
from imagesets.models import Image
from labelhub.exceptions import BadRequest, Conflict, NotFound, Unprocessable
from labelhub.jobs import job_enqueue
from labelhub.validators import (
    ID_MAX,
    check_images_per_request,
    contains_nul,
    is_json_int,
    json_problem,
    validate_title,
)

LABEL_MAX_LENGTH = 128
# Box coordinates are stored as 32-bit integers.
COORDINATE_MAX = 2**31 - 1
EMAIL_MAX_LENGTH = 254

Status = Campaign.Status


# --- input checks shared by the services (and the admin forms) ----------------


# A JSON integer (not a bool, not 1.0, not "1"); ids outside 1..ID_MAX name no row (404).
is_int = is_json_int


def _json_problem(value: Any) -> str | None:
    """What PostgreSQL or a JSON answer cannot hold: NUL, invalid Unicode, too deep nesting.

    The API's parser already refuses the last two; the admin's forms come here directly.
    """
    return json_problem(value, nul=True, max_depth=settings.JSON_MAX_DEPTH)


def validate_metadata(metadata: Any) -> dict | None:
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("'metadata' must be a JSON object or null")
    problem = _json_problem(metadata)
    if problem:
        raise BadRequest(f"'metadata' must not contain NUL characters or invalid Unicode: it {problem}")
    return metadata


def validate_label_translations(translations: Any) -> dict[str, str] | None:
    """``null`` or an object mapping a label to the label it becomes (both 1-128 characters)."""
    if translations is None:
        return None
    if not isinstance(translations, dict):
        raise BadRequest("'label_translations' must be a JSON object mapping labels to labels, or null")
    problem = _json_problem(translations)
    if problem:
        raise BadRequest(f"'label_translations' must not contain NUL characters or invalid Unicode: it {problem}")
    for label, translated in translations.items():
        if (
            not isinstance(translated, str)
            or not 1 <= len(translated) <= LABEL_MAX_LENGTH
            or not 1 <= len(label) <= LABEL_MAX_LENGTH
        ):
            raise BadRequest(
                f"'label_translations' must map labels to labels of 1-{LABEL_MAX_LENGTH} characters; {label!r} does not"
            )
    return translations


def _validate_labeler_email(email: Any) -> str:
    if not isinstance(email, str) or not email.strip():
        raise BadRequest("'labeler_email' is required")
    email = email.strip()
    try:
        if len(email) > EMAIL_MAX_LENGTH or contains_nul(email):
            raise DjangoValidationError("too long")
        validate_email(email)
    except DjangoValidationError:
        raise BadRequest(f"'labeler_email' is not a valid e-mail address: {email[:100]!r}") from None
    return email


def _lock_campaign(campaign_id: Any) -> Campaign:
    """The campaign row, locked until the end of the transaction; 404 if unknown."""
    campaign = None
    if is_int(campaign_id) and 0 < campaign_id <= ID_MAX:
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} not found")
    return campaign


# --- campaigns ---------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    title: Any,
    labeler_email: Any,
    metadata: Any = None,
    label_translations: Any = None,
    created_by: User | None,
) -> tuple[Campaign, IssuedKey]:
    """A new campaign with its labeler (found by e-mail or created) and the labeler's key.

    The key is new (with its secret) for a user without one; a user who has a
    key gets it back with ``secret=None``: only a hash of the secret is stored.
    A staff or superuser e-mail is a 409 and nothing is stored. Creations for
    one new e-mail at the same moment share one user and one key.
    """
    validate_title(title)
    metadata = validate_metadata(metadata)
    label_translations = validate_label_translations(label_translations)
    email = _validate_labeler_email(labeler_email)

    if Campaign.objects.filter(title=title).exists():
        raise Conflict(f"A campaign titled '{title}' already exists")
    try:
        # A savepoint: a concurrent insert of the same title fails here, not the whole request.
        with transaction.atomic():
            campaign = Campaign.objects.create(
                title=title, metadata=metadata, label_translations=label_translations, created_by=created_by
            )
    except IntegrityError:
        raise Conflict(f"A campaign titled '{title}' already exists") from None

    labeler, _ = labeler_get_or_create(email=email)
    CampaignLabeler.objects.create(campaign=campaign, user=labeler)
    issued = apikey_issue(user=labeler)
    return campaign, issued


@transaction.atomic
def campaign_set_status(
    *,
    campaign_id: int,
    new_status: Any,
    user: User | None = None,
    from_status: str | None = None,
) -> Campaign:
    """Move a campaign along ``Campaign.TRANSITIONS``; anything else is a 409.

    ``from_status`` narrows the change to one starting status (the admin's
    "activate" must not reopen a completed campaign). Finishing queues the
    export on commit.
    """
    if not isinstance(new_status, str) or new_status not in Status.values:
        raise BadRequest(f"'new_status' must be one of {', '.join(Status.values)}; got {str(new_status)[:60]!r}")
    campaign = _lock_campaign(campaign_id)
    current = campaign.status
    if current == new_status == Status.FINISHED and from_status is None:
        job = CampaignJob.objects.filter(campaign=campaign).first()
        if job is not None and job.may_retry:
            # Finishing again retries an export that failed or is stuck.
            campaign_export_queue(campaign=campaign)
            return campaign
    if new_status not in Campaign.TRANSITIONS[current] or (from_status is not None and current != from_status):
        raise Conflict(f"A campaign cannot go from '{current}' to '{new_status}'")

    now = timezone.now()
    campaign.status = new_status
    fields = ["status"]
    if new_status == Status.ACTIVE:
        if current == Status.COMPLETED:  # reopen
            campaign.date_completed = None
            campaign.date_finished = None
            fields += ["date_completed", "date_finished"]
        if campaign.date_started is None:
            campaign.date_started = now
            fields.append("date_started")
    elif new_status == Status.COMPLETED:
        campaign.date_completed = now
        fields.append("date_completed")
    elif new_status == Status.FINISHED:
        campaign.date_finished = now
        fields.append("date_finished")
    campaign.save(update_fields=fields)

    if new_status == Status.FINISHED:
        campaign_export_queue(campaign=campaign)
    return campaign


@transaction.atomic
def campaign_export_queue(*, campaign: Campaign) -> CampaignJob:
    """Create (or reset) the campaign's export job and queue the export once this commits.

    The caller holds the campaign row lock and has checked the status, so two
    requests cannot both queue an export. The job is committed as ``queued``
    even when the broker is down (``labelhub.jobs``): the sweep hands it over.
    """
    job, created = CampaignJob.objects.select_for_update().get_or_create(campaign=campaign)
    if not created:
        job.reset()
        job.save()
    job_enqueue(job)
    return job


@transaction.atomic
def campaign_export_retry(*, campaign_id: int) -> CampaignJob:
    """Queue the export of a finished campaign again after it failed."""
    campaign = _lock_campaign(campaign_id)
    if campaign.status != Status.FINISHED:
        raise Conflict(f"Only a finished campaign is exported; this one is '{campaign.status}'")
    job = CampaignJob.objects.select_for_update().filter(campaign=campaign).first()
    if job is not None and not job.may_retry:
        raise Conflict(f"Only a failed or stuck export can be retried; this one is '{job.status}'")
    return campaign_export_queue(campaign=campaign)


# --- campaign images ---------------------------------------------------------


def _parse_image_refs(items: Any) -> tuple[list[int], list[str]]:
    shape = 'Expected a list of {"id": <image id>} or {"filepath": "<path>"}'
    if not isinstance(items, list):
        raise BadRequest(shape)
    check_images_per_request(items)
    ids: list[int] = []
    paths: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or ("id" in item) == ("filepath" in item):
            raise BadRequest(f"Item {index}: {shape}")
        if "id" in item:
            if not is_int(item["id"]):
                raise BadRequest(f"Item {index}: 'id' must be an integer")
            ids.append(item["id"])
        else:
            if not isinstance(item["filepath"], str) or not item["filepath"]:
                raise BadRequest(f"Item {index}: 'filepath' must be a non-empty string")
            paths.append(item["filepath"])
    return list(dict.fromkeys(ids)), list(dict.fromkeys(paths))


@transaction.atomic
def campaign_add_images(*, campaign_id: int, items: Any) -> int:
    """Add images by id or path to a campaign still ``created``; all or nothing.

    Images already in the campaign are ignored. Two lookups and one insert,
    however many images are listed. Returns how many were listed.
    """
    ids, paths = _parse_image_refs(items)
    campaign = _lock_campaign(campaign_id)
    if campaign.status != Status.CREATED:
        raise Conflict(f"Images can only be added while the campaign is 'created'; it is '{campaign.status}'")

    found_ids: set[int] = set()
    if ids:
        in_range = [i for i in ids if 0 < i <= ID_MAX]
        found_ids = set(Image.objects.filter(pk__in=in_range).values_list("pk", flat=True))
        for image_id in ids:
            if image_id not in found_ids:
                raise NotFound(f"Unknown image provided: id {image_id}", extra={"image_id": image_id})
    by_path: dict[str, int] = {}
    if paths:
        # A path with a NUL names no stored image (and PostgreSQL refuses it in a query).
        searchable = [path for path in paths if not contains_nul(path)]
        by_path = dict(Image.objects.filter(blobstorage_path__in=searchable).values_list("blobstorage_path", "pk"))
        for path in paths:
            if path not in by_path:
                raise NotFound(f"Unknown image provided: filepath {path!r}", extra={"filepath": path})

    image_ids = list(dict.fromkeys([*ids, *(by_path[p] for p in paths)]))
    CampaignImage.objects.bulk_create(
        [CampaignImage(campaign=campaign, image_id=image_id) for image_id in image_ids],
        ignore_conflicts=True,
    )
    return len(image_ids)


# --- objects -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewObject:
    label: str
    label_translated: str | None
    confidence: float | None
    xmin: int
    xmax: int
    ymin: int
    ymax: int


def _parse_object(image_id: int, index: int, raw: Any) -> NewObject:
    where = f"Image {image_id}, object {index}"
    extra = {"image_id": image_id, "object_index": index}

    def malformed(message: str) -> BadRequest:
        return BadRequest(f"{where}: {message}", extra=extra)

    def out_of_range(message: str) -> Unprocessable:
        return Unprocessable(f"{where}: {message}", extra=extra)

    if not isinstance(raw, dict):
        raise malformed("expected an object with 'label' and 'bounding_box'")

    label = raw.get("label")
    if not isinstance(label, str):
        raise malformed("'label' is required and must be a string")
    if not 1 <= len(label) <= LABEL_MAX_LENGTH or "\x00" in label:
        raise out_of_range(f"'label' must be 1-{LABEL_MAX_LENGTH} characters")

    translated = raw.get("label_translated")
    if translated is not None:
        if not isinstance(translated, str):
            raise malformed("'label_translated' must be a string or null")
        if not 1 <= len(translated) <= LABEL_MAX_LENGTH or "\x00" in translated:
            raise out_of_range(f"'label_translated' must be 1-{LABEL_MAX_LENGTH} characters")

    confidence = raw.get("confidence")
    if confidence is not None:
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
            raise malformed("'confidence' must be a number or null")
        if not math.isfinite(confidence) or not 0 <= confidence <= 1:
            raise out_of_range("'confidence' must be between 0 and 1")
        confidence = float(confidence)

    box = raw.get("bounding_box")
    if not isinstance(box, dict):
        raise malformed("'bounding_box' is required: an object with xmin, xmax, ymin and ymax")
    coordinates = {}
    for name in ("xmin", "xmax", "ymin", "ymax"):
        value = box.get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 12.0 is the integer 12 in JSON terms
        if not is_int(value):
            raise malformed(f"'bounding_box.{name}' is required and must be an integer")
        if not 0 <= value <= COORDINATE_MAX:
            raise out_of_range(f"'bounding_box.{name}' must be a non-negative integer, got {value}")
        coordinates[name] = value
    if coordinates["xmin"] > coordinates["xmax"]:
        raise out_of_range("'bounding_box.xmin' must not be greater than 'xmax'")
    if coordinates["ymin"] > coordinates["ymax"]:
        raise out_of_range("'bounding_box.ymin' must not be greater than 'ymax'")
    return NewObject(label=label, label_translated=translated, confidence=confidence, **coordinates)


def parse_object_items(items: Any) -> list[tuple[int, list[NewObject]]]:
    """The body of ``PUT /campaigns/{id}/objects``: 400 when malformed, 422 when out of range.

    More than ``IMAGES_PER_REQUEST_MAX`` images is a 413, more than
    ``OBJECTS_PER_IMAGE_MAX`` objects for one image a 422 naming it.
    """
    if not isinstance(items, list):
        raise BadRequest('Expected a list of {"image_id": <id>, "objects": [...]}')
    check_images_per_request(items)
    objects_max = settings.OBJECTS_PER_IMAGE_MAX
    parsed: list[tuple[int, list[NewObject]]] = []
    seen: set[int] = set()
    for item_index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f'Item {item_index}: expected {{"image_id": <id>, "objects": [...]}}')
        image_id = item.get("image_id")
        if not is_int(image_id):
            raise BadRequest(f"Item {item_index}: 'image_id' is required and must be an integer")
        if image_id in seen:
            raise BadRequest(f"Image {image_id} is listed more than once", extra={"image_id": image_id})
        seen.add(image_id)
        raw_objects = item.get("objects")
        if not isinstance(raw_objects, list):
            raise BadRequest(
                f"Image {image_id}: 'objects' is required and must be a list", extra={"image_id": image_id}
            )
        if len(raw_objects) > objects_max:
            raise Unprocessable(
                f"Image {image_id}: {len(raw_objects)} objects, at most {objects_max} per image",
                extra={"image_id": image_id, "limit": objects_max},
            )
        parsed.append((image_id, [_parse_object(image_id, i, raw) for i, raw in enumerate(raw_objects)]))
    return parsed


def _labels(new: NewObject, translations: dict) -> tuple[str, str]:
    """(label, label_original) per the contract's translation rule."""
    if new.label_translated is not None:
        return new.label_translated, new.label
    translated = translations.get(new.label)
    if isinstance(translated, str) and 1 <= len(translated) <= LABEL_MAX_LENGTH:
        return translated, new.label
    return new.label, new.label


def _prune_revisions(*, campaign_image_ids: list[int], current: Submission) -> None:
    """Delete the objects of each image's superseded revisions beyond ``SUBMISSION_REVISIONS_KEPT``.

    One DELETE for all the images: the objects of the listed images are ranked
    by revision (newest submission first, the current one left out) and those
    ranked past the limit go. A revision that labeled an image with no objects
    left no rows, so it is neither counted nor kept. The submission rows stay
    (who sent what, when).
    """
    superseded = (
        BoundingBox.objects.filter(campaign_image_id__in=campaign_image_ids)
        .exclude(submission=current)
        .annotate(revision=Window(DenseRank(), partition_by=F("campaign_image_id"), order_by=F("submission_id").desc()))
        .filter(revision__gt=settings.SUBMISSION_REVISIONS_KEPT)
        .values("pk")
    )
    BoundingBox.objects.filter(pk__in=superseded).delete()


@transaction.atomic
def objects_replace(
    *, campaign_id: int, items: Any, user: User | None, api_key: ApiKey | None = None
) -> Submission | None:
    """Replace the objects of the listed images with the given ones; all or nothing.

    The previous objects stay stored as a superseded submission, up to
    ``SUBMISSION_REVISIONS_KEPT`` superseded revisions per image (older ones
    are deleted). Marks the
    images labeled and completes the campaign when none is left unlabeled.
    A fixed number of queries, however many images and objects are sent (on
    SQLite ``bulk_create`` splits inserts into batches of ~90 objects, a limit
    of that backend's bound parameters).
    Returns the new submission (None for an empty list).
    """
    parsed = parse_object_items(items)
    campaign = _lock_campaign(campaign_id)
    if campaign.status != Status.ACTIVE:
        raise Conflict(f"Objects can only be submitted while the campaign is 'active'; it is '{campaign.status}'")
    if not parsed:
        return None

    image_ids = [image_id for image_id, _ in parsed]
    # Locked in id order, so two submissions touching the same images never deadlock.
    rows = (
        CampaignImage.objects.select_for_update(of=("self",))
        .filter(campaign=campaign, image_id__in=[i for i in image_ids if 0 < i <= ID_MAX])
        .select_related("image")
        .only("id", "image", "image__width", "image__height")
        .order_by("pk")
    )
    by_image = {row.image_id: row for row in rows}
    for image_id in image_ids:
        if image_id not in by_image:
            raise NotFound(f"Image {image_id} is not part of campaign {campaign.pk}", extra={"image_id": image_id})

    for image_id, new_objects in parsed:
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

    now = timezone.now()
    submission = Submission.objects.create(
        campaign=campaign,
        user=user,
        api_key=api_key,
        image_count=len(parsed),
        object_count=sum(len(new_objects) for _, new_objects in parsed),
        date_created=now,
    )
    translations = campaign.label_translations if isinstance(campaign.label_translations, dict) else {}
    objects = []
    for image_id, new_objects in parsed:
        campaign_image_id = by_image[image_id].pk
        for position, new in enumerate(new_objects):
            label, label_original = _labels(new, translations)
            objects.append(
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
                    date_added=now,
                )
            )
    BoundingBox.objects.bulk_create(objects)
    campaign_image_ids = [row.pk for row in by_image.values()]
    CampaignImage.objects.filter(pk__in=campaign_image_ids).update(
        current_submission=submission, labeled=True, date_labeled=now
    )
    _prune_revisions(campaign_image_ids=campaign_image_ids, current=submission)

    if not CampaignImage.objects.filter(campaign=campaign, labeled=False).exists():
        campaign.status = Status.COMPLETED
        campaign.date_completed = now
        campaign.save(update_fields=["status", "date_completed"])
    return submission
