"""The image sets' webhook events: the finish job's outcome (``imageset.finished`` / ``imageset.failed``)."""

from __future__ import annotations

from core.jobs import JobStatus
from imagesets.models import ImageSet, ImageSetJob
from imagesets.serializers import ImageSetOutputSerializer
from webhooks.services import webhook_event_record


def imageset_job_event_record(job: ImageSetJob) -> None:
    """``JobKind.on_outcome`` of the finish job: the set as ``GET /image_sets/{id}`` shows it (staff only)."""

    def data() -> dict:
        imageset = ImageSet.objects.select_related("created_by").get(pk=job.imageset_id)
        imageset.job = job
        return ImageSetOutputSerializer(imageset).data

    webhook_event_record(
        type="imageset.finished" if job.status == JobStatus.SUCCEEDED else "imageset.failed", data=data
    )
