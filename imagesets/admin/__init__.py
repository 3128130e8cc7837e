"""Image sets and images in the staff admin.

* ``imageset``: create a set (its dropbox URL with a copy button and expiry),
  upload from the browser, finish, watch and retry the job.
* ``image``: thumbnails, dimensions and filters; "Add to campaign…".
"""

from imagesets.admin.image import ImageAdmin
from imagesets.admin.imageset import ImageSetAdmin

__all__ = ["ImageAdmin", "ImageSetAdmin"]
