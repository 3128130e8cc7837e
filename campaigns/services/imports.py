"""Importing existing labels (a COCO file or a labels CSV) into a campaign as one submission, or a model's
detections as its predictions."""

from __future__ import annotations

from typing import BinaryIO

from django.db import transaction

from accounts.audit import Actor, audit_record
from accounts.models import User
from campaigns.imports import CampaignImageIndex, ImportRefused, ImportReport, parse_labels_file
from campaigns.models import Campaign, Submission
from campaigns.services.boxes import objects_replace
from campaigns.services.campaigns import campaign_lock
from campaigns.services.predictions import PREDICTIONS_ALLOWED, predictions_replace
from core.exceptions import Conflict


@transaction.atomic
def labels_import(
    *, campaign_id: int, file: BinaryIO, file_format: str, user: User | None, actor: Actor | None
) -> tuple[Submission | None, ImportReport]:
    """Store the file's labels in an active campaign as one submission by ``user``; all or nothing.

    ``user`` is whom the submission is recorded for (the agency whose labels these
    are); ``actor`` who imported it (the staff member, ``None`` for the system), the
    audit's actor, with ``user`` in its details. 404 for an unknown campaign, 409
    unless it is active, 400 for a file that is not COCO / a labels CSV, 413 past
    ``IMPORT_MAX_BYTES``, ``ImportRefused`` (422, with the report) when anything in
    it does not match the campaign; then ``objects_replace`` checks and stores the
    objects as ``PUT /campaigns/{id}/objects`` would.
    """
    campaign = campaign_lock(campaign_id)
    if campaign.status != Campaign.Status.ACTIVE:
        raise Conflict(f"Labels can only be imported while the campaign is 'active'; it is '{campaign.status}'")
    objects_by_image, report = parse_labels_file(file, file_format=file_format, index=CampaignImageIndex(campaign.pk))
    if not report.ok:
        raise ImportRefused(report)
    submission = objects_replace(campaign_id=campaign.pk, objects_by_image=objects_by_image, user=user)
    if submission is not None:
        details = {
            "submission_id": submission.pk,
            "submitted_by": user.email if user is not None else None,
            "images": submission.image_count,
            "boxes": submission.object_count,
        }
        audit_record(actor=actor, action="campaign.import_labels", target=campaign, details=details)
    return submission, report


@transaction.atomic
def predictions_import(
    *,
    campaign_id: int,
    file: BinaryIO,
    file_format: str,
    model_name: str,
    model_version: str,
    user: User | None,
    actor: Actor | None,
) -> tuple[Submission | None, ImportReport]:
    """A model's detections (a COCO file, or a labels CSV) loaded as the campaign's predictions; all or nothing.

    Matched and reported as ``labels_import`` (``user`` and ``actor`` too);
    stored by ``predictions_replace`` (the campaign created or active).
    ``model_name`` and ``model_version`` are parsed as in
    ``PUT /campaigns/{id}/predictions``.
    """
    campaign = campaign_lock(campaign_id)
    if campaign.status not in PREDICTIONS_ALLOWED:
        raise Conflict(f"Predictions are loaded while the campaign is 'created' or 'active'; it is '{campaign.status}'")
    objects_by_image, report = parse_labels_file(file, file_format=file_format, index=CampaignImageIndex(campaign.pk))
    if not report.ok:
        raise ImportRefused(report)
    submission = predictions_replace(
        campaign_id=campaign.pk,
        model_name=model_name,
        model_version=model_version,
        objects_by_image=objects_by_image,
        user=user,
        actor=actor or Actor.system(),
    )
    return submission, report
