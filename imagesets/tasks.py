"""django-q2 entry points of the imagesets app, each named after the service it runs."""

from __future__ import annotations

import logging

from imagesets import services
from imagesets.models import ImageSet, ImageSetJob

logger = logging.getLogger(__name__)


def imageset_finish_run(imageset_id: int) -> dict | None:
    """Copy, register and clean up an image set's uploads (``services.imageset_finish_run``).

    Re-reads the set; a set deleted since it was queued is nothing to do.
    Errors are recorded on the job and re-raised so django-q2 records the
    task as failed too.
    """
    if not ImageSet.objects.filter(pk=imageset_id).exists():
        logger.warning("image set %s is gone; nothing to finish", imageset_id)
        return None
    # None: a duplicate delivery (another worker has the job, or it has ended): report it as it is.
    job = services.imageset_finish_run(imageset_id=imageset_id) or ImageSetJob.objects.get(imageset_id=imageset_id)
    return {"status": job.status, "done": job.done, "total": job.total, "skipped": len(job.skipped or [])}


# The task's earlier name: the job queue stores a task's dotted path, and a task
# queued by an older release still names this one.
finish_imageset = imageset_finish_run
