"""django-q2 entry points of the imagesets app."""

from __future__ import annotations

import logging

from imagesets.models import ImageSet, ImageSetJob
from imagesets.services import imageset_finish_run

logger = logging.getLogger(__name__)


def finish_imageset(imageset_id: int) -> dict | None:
    """Copy, register and clean up an image set's uploads (see ``imageset_finish_run``).

    Re-reads the set; a set deleted since it was queued is nothing to do.
    Errors are recorded on the job and re-raised so django-q2 records the
    task as failed too.
    """
    if not ImageSet.objects.filter(pk=imageset_id).exists():
        logger.warning("image set %s is gone; nothing to finish", imageset_id)
        return None
    # None: a duplicate delivery (another worker has the job, or it has ended): report it as it is.
    job = imageset_finish_run(imageset_id=imageset_id) or ImageSetJob.objects.get(imageset_id=imageset_id)
    return {"status": job.status, "done": job.done, "total": job.total, "skipped": len(job.skipped or [])}
