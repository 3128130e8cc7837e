"""Campaigns: creation with the labeler's key, status transitions, the export job."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.audit import Actor, audit_record
from accounts.models import User
from accounts.services import IssuedKey, apikey_issue, labeler_get_or_create
from campaigns.models import Campaign, CampaignImage, CampaignJob, CampaignLabeler, ReviewState
from campaigns.sampling import DEFAULT_AQL
from campaigns.webhooks import campaign_event_record
from core.db import conflict_on_duplicate
from core.exceptions import Conflict, NotFound
from core.jobs import job_enqueue
from core.validators import is_valid_id

Status = Campaign.Status


def campaign_lock(campaign_id: int) -> Campaign:
    """The campaign row, locked until the end of the transaction; 404 if unknown."""
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first() if is_valid_id(campaign_id) else None
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} not found")
    return campaign


def campaign_images_lock(
    campaign: Campaign, image_ids: list[int], *, fields: tuple[str, ...], with_image_size: bool = False
) -> dict[int, CampaignImage]:
    """The campaign's rows of the listed images by image id, locked; 404 naming the first one not in it.

    Locked in id order, so two requests touching the same images never
    deadlock. ``fields``: the row's fields to load; ``with_image_size``: the
    image's width and height too (``row.image``).
    """
    rows = CampaignImage.objects.select_for_update(of=("self",)).filter(
        campaign=campaign, image_id__in=[i for i in image_ids if is_valid_id(i)]
    )
    if with_image_size:
        rows = rows.select_related("image").only(*fields, "image__width", "image__height")
    else:
        rows = rows.only(*fields)
    by_image = {row.image_id: row for row in rows.order_by("pk")}
    for image_id in image_ids:
        if image_id not in by_image:
            raise NotFound(f"Image {image_id} is not part of campaign {campaign.pk}", extra={"image_id": image_id})
    return by_image


@transaction.atomic
def campaign_create(
    *,
    title: str,
    labeler_email: str,
    metadata: dict | None = None,
    label_translations: dict[str, str] | None = None,
    review_required: bool = False,
    aql: Decimal = DEFAULT_AQL,
    gold_min_f1: Decimal | None = None,
    created_by: User | None,
    actor: Actor | None = None,
    labels: list[dict] | None = None,
) -> tuple[Campaign, IssuedKey]:
    """A new campaign with its labeler (found by e-mail or created) and the labeler's key.

    The fields are parsed (``campaigns.serializers.CampaignCreateInputSerializer``; ``labels``
    is the label schema, ``campaigns.label_schema``). The key
    is new (with its secret) for a user without one; a user who has a key
    gets it back with ``secret=None``: only a hash of the secret is stored.
    A taken title or a staff or superuser e-mail is a 409 and nothing is
    stored. Creations for one new e-mail at the same moment share one user
    and one key.
    """
    if Campaign.objects.filter(title=title).exists():
        raise Conflict(f"A campaign titled '{title}' already exists")
    with conflict_on_duplicate(f"A campaign titled '{title}' already exists"):
        campaign = Campaign.objects.create(
            title=title,
            metadata=metadata,
            label_translations=label_translations,
            review_required=review_required,
            aql=aql,
            gold_min_f1=gold_min_f1,
            labels=labels,
            created_by=created_by,
        )

    labeler, _ = labeler_get_or_create(email=labeler_email)
    CampaignLabeler.objects.create(campaign=campaign, user=labeler)
    actor = actor or Actor(user=created_by)
    issued = apikey_issue(user=labeler, actor=actor)
    audit_record(actor=actor, action="campaign.create", target=campaign, details={"labeler": labeler.email})
    return campaign, issued


def _stamp(campaign: Campaign, *, current: str, new_status: str) -> list[str]:
    """Set the dates ``new_status`` changes; returns the fields to save."""
    now = timezone.now()
    fields = []
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
    return fields


def _check_review_policy(campaign: Campaign) -> None:
    """A campaign that requires review finishes only when every image's current revision is accepted."""
    if not campaign.review_required:
        return
    waiting = CampaignImage.objects.filter(campaign=campaign).exclude(review_state=ReviewState.ACCEPTED).count()
    if waiting:
        raise Conflict(
            f"This campaign requires review: {waiting} image(s) are not accepted yet",
            extra={"not_accepted": waiting},
        )


@transaction.atomic
def campaign_set_status(
    *,
    campaign_id: int,
    new_status: str,
    user: User | None = None,
    from_status: str | None = None,
    actor: Actor | None = None,
) -> Campaign:
    """Move a campaign along ``Campaign.TRANSITIONS``; anything else is a 409.

    ``new_status`` is one of ``Campaign.Status`` (``CampaignStatusInputSerializer`` checks it).
    ``from_status`` narrows the change to one starting status (the admin's
    "activate" must not reopen a completed campaign). Finishing queues the
    export on commit; finishing a finished campaign again retries an export
    that failed or is stuck.
    """
    campaign = campaign_lock(campaign_id)
    current = campaign.status
    if current == new_status == Status.FINISHED and from_status is None:
        job = CampaignJob.objects.filter(campaign=campaign).first()
        if job is not None and job.may_retry:
            campaign_export_queue(campaign=campaign)
            audit_record(actor=actor or Actor(user=user), action="campaign.export_retry", target=campaign)
            return campaign
    if new_status not in Campaign.TRANSITIONS[current] or (from_status is not None and current != from_status):
        raise Conflict(f"A campaign cannot go from '{current}' to '{new_status}'")
    if new_status == Status.FINISHED:
        _check_review_policy(campaign)

    campaign.status = new_status
    campaign.save(update_fields=["status", *_stamp(campaign, current=current, new_status=new_status)])
    campaign_event_record(campaign=campaign)
    if new_status == Status.FINISHED:
        campaign_export_queue(campaign=campaign)
    audit_record(
        actor=actor or Actor(user=user),
        action="campaign.status",
        target=campaign,
        details={"from": current, "to": new_status},
    )
    return campaign


@transaction.atomic
def campaign_export_queue(*, campaign: Campaign) -> CampaignJob:
    """Create (or reset) the campaign's export job and queue the export once this commits.

    The caller holds the campaign row lock and has checked the status, so two
    requests cannot both queue an export. The job is committed as ``queued``
    even when the broker is down (``core.jobs``): the sweep hands it over.
    """
    job, created = CampaignJob.objects.select_for_update().get_or_create(campaign=campaign)
    if not created:
        job.reset()
        job.save()
    job_enqueue(job)
    return job


@transaction.atomic
def campaign_export_retry(*, campaign_id: int, actor: Actor | None = None) -> CampaignJob:
    """Queue the export of a finished campaign again after it failed."""
    campaign = campaign_lock(campaign_id)
    if campaign.status != Status.FINISHED:
        raise Conflict(f"Only a finished campaign is exported; this one is '{campaign.status}'")
    job = CampaignJob.objects.select_for_update().filter(campaign=campaign).first()
    if job is not None and not job.may_retry:
        raise Conflict(f"Only a failed or stuck export can be retried; this one is '{job.status}'")
    audit_record(actor=actor, action="campaign.export_retry", target=campaign)
    return campaign_export_queue(campaign=campaign)
