"""Everything that writes image sets and images, split by entity.

- ``imagesets``: create and delete a set (with its dropbox);
- ``dropbox``: the set's upload URL and local uploads landing in its dropbox;
- ``images``: attach existing images to a set;
- ``finish``: the ``created`` -> ``finished`` transition, the finish job and its retry.

Every service is re-exported here: ``from imagesets.services import imageset_finish``.
"""

from imagesets.services.dropbox import imageset_dropbox_check, imageset_dropbox_store, imageset_dropbox_url
from imagesets.services.finish import (
    FINISH_JOB,
    imageset_finish,
    imageset_finish_run,
    imageset_job_retry,
    imageset_set_status,
)
from imagesets.services.images import imageset_add_images
from imagesets.services.imagesets import imageset_create, imageset_delete

__all__ = [
    "FINISH_JOB",
    "imageset_add_images",
    "imageset_create",
    "imageset_delete",
    "imageset_dropbox_check",
    "imageset_dropbox_store",
    "imageset_dropbox_url",
    "imageset_finish",
    "imageset_finish_run",
    "imageset_job_retry",
    "imageset_set_status",
]
