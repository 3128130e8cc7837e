"""The campaigns' webhook events: status changes (``campaign.*``) and the export's outcome (``export.*``)."""

from __future__ import annotations

from functools import cache

from campaigns.models import Campaign, CampaignJob, CampaignLabeler, Review
from campaigns.selectors import campaign_get
from campaigns.serializers import CampaignOutputSerializer, LabelerCampaignOutputSerializer
from core.jobs import JobStatus
from core.serializers import format_datetime
from webhooks.services import webhook_event_record

STATUS_EVENTS = {
    Campaign.Status.ACTIVE: "campaign.activated",
    Campaign.Status.COMPLETED: "campaign.completed",
    Campaign.Status.FINISHED: "campaign.finished",
}


def campaign_labeler_ids(campaign_id: int) -> list[int]:
    return list(CampaignLabeler.objects.filter(campaign_id=campaign_id).values_list("user_id", flat=True))


def campaign_event_record(*, campaign: Campaign) -> None:
    """The campaign just reached ``campaign.status``: the campaign as each audience's ``GET /campaigns/{id}`` shows it.

    Staff endpoints get the staff representation; the agency's endpoints get
    exactly what its own API shows it (no metadata, creator, AQL or job).
    """
    event = STATUS_EVENTS.get(campaign.status)
    if event is None:
        return
    campaign_id = campaign.pk
    loaded = cache(lambda: campaign_get(campaign_id=campaign_id))  # one read for both bodies
    webhook_event_record(
        type=event,
        data=lambda: CampaignOutputSerializer(loaded()).data,
        agency_data=lambda: LabelerCampaignOutputSerializer(loaded()).data,
        campaign_user_ids=lambda: campaign_labeler_ids(campaign_id),
    )


def export_job_event_record(job: CampaignJob) -> None:
    """``JobKind.on_outcome`` of the export: the campaign, and the job's result (files, hashes, Azure ML assets)."""
    result = {key: value for key, value in (job.result or {}).items() if key != "traceback"}
    webhook_event_record(
        type="export.succeeded" if job.status == JobStatus.SUCCEEDED else "export.failed",
        data=lambda: {
            "campaign": CampaignOutputSerializer(campaign_get(campaign_id=job.campaign_id)).data,
            "error": job.error,
            "result": result,
        },
        campaign_user_ids=lambda: campaign_labeler_ids(job.campaign_id),
    )


def images_rejected_event_record(*, campaign_id: int, reviews: list[Review], image_ids: dict[int, int]) -> None:
    """``image.rejected``: the rejections of one decision (a review request or a rejected lot), for the agency.

    ``image_ids`` maps each review's campaign image row to its image id. One
    event per decision, however many images it rejects, so a rejected lot of
    10,000 images is one delivery per endpoint, not 10,000.
    """
    rejected = [
        {
            "image_id": image_ids[review.campaign_image_id],
            "submission_id": review.submission_id,
            "reason": review.reason,
            "reason_code": review.reason_code,
            "date": format_datetime(review.date_created),
        }
        for review in reviews
        if review.decision == Review.Decision.REJECTED
    ]
    if not rejected:
        return
    webhook_event_record(
        type="image.rejected",
        data={"campaign_id": campaign_id, "images": rejected},
        campaign_user_ids=lambda: campaign_labeler_ids(campaign_id),
    )
