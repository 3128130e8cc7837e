"""Pre-annotations: a model's predictions replace the listed images' earlier predictions.

They reuse the checks of a labeler's submission (the images are the
campaign's, the boxes inside them, the labels in the schema) and its row
builder, but never touch ``CampaignImage``: an image with predictions is not
labeled, and its current submission stays the agency's.
"""

from __future__ import annotations

from django.db import transaction

from accounts.audit import Actor, audit_record
from accounts.models import ApiKey, User
from campaigns.inputs import ObjectsByImage
from campaigns.models import BoundingBox, Campaign, Submission
from campaigns.services.boxes import locked_and_checked, store_submission
from campaigns.services.campaigns import campaign_lock
from core.exceptions import Conflict

Status = Campaign.Status
# Predictions are loaded before labeling starts or while it runs.
PREDICTIONS_ALLOWED = (Status.CREATED, Status.ACTIVE)


@transaction.atomic
def predictions_replace(
    *,
    campaign_id: int,
    model_name: str,
    model_version: str,
    objects_by_image: ObjectsByImage,
    user: User | None,
    api_key: ApiKey | None = None,
    actor: Actor | None = None,
) -> Submission | None:
    """Replace the predicted boxes of the listed images with the given ones; all or nothing.

    ``user`` (and ``api_key``) load them; ``actor``, when given, is who made them
    load them instead (staff importing a file for ``user``: the audit's actor, with
    ``user`` in its details).

    404 for an unknown campaign or an image not in it, 409 unless the
    campaign is created or active, 422 for a box outside its image or a label
    outside the schema. The earlier predictions of the listed images are
    deleted (their submission rows stay). A fixed number of queries. Returns
    the new model submission (None for an empty list).
    """
    campaign = campaign_lock(campaign_id)
    if campaign.status not in PREDICTIONS_ALLOWED:
        raise Conflict(f"Predictions are loaded while the campaign is 'created' or 'active'; it is '{campaign.status}'")
    if not objects_by_image:
        return None
    by_image = locked_and_checked(campaign, objects_by_image)
    campaign_image_ids = [row.pk for row in by_image.values()]
    BoundingBox.objects.filter(
        campaign_image_id__in=campaign_image_ids, submission__source=Submission.Source.MODEL
    ).delete()
    submission = store_submission(
        campaign,
        objects_by_image,
        by_image,
        user=user,
        api_key=api_key,
        source=Submission.Source.MODEL,
        model_name=model_name,
        model_version=model_version,
    )
    details = {
        "submission_id": submission.pk,
        "model": f"{model_name} {model_version}".strip(),
        "images": submission.image_count,
        "boxes": submission.object_count,
    }
    if actor is not None:
        details["submitted_by"] = user.email if user is not None else None
    audit_record(
        actor=actor or Actor(user=user, api_key=api_key),
        action="campaign.predictions",
        target=campaign,
        details=details,
    )
    return submission
