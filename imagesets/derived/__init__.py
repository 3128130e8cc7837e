"""Derived copies of an image: a thumbnail for lists and a display copy for the review page.

Made from the original on the first request for them and kept in storage
(``<image container>/derived_images/<kind>-<side>/<image id>-<digest>.jpg``),
never by the finish job, which keeps reading only each file's first 64 KiB.
``docs/images.md`` ("Thumbnails and display copies") says why and what it costs.

- ``kinds``: the two sizes (``THUMBNAIL``, ``DISPLAY``) and their storage paths;
- ``render``: Pillow, bytes in, an upright JPEG out (``Unrenderable`` when it cannot);
- ``services``: make a copy once, under a lock, and delete an image's copies;
- ``selectors``: the URLs staff's browsers load (``image_thumbnail_url``,
  ``image_display_url``, ``image_original_url``) and the stored copy's read URL.
"""

from imagesets.derived.kinds import DISPLAY, KINDS, THUMBNAIL, DerivedKind, derived_path
from imagesets.derived.render import Unrenderable, render_derived
from imagesets.derived.selectors import (
    DERIVED_URL_VALID,
    REDIRECT_MAX_AGE,
    derived_read_url,
    image_display_url,
    image_original_url,
    image_thumbnail_url,
)
from imagesets.derived.services import DerivedBusy, image_derived_delete, image_derived_ensure

__all__ = [
    "DERIVED_URL_VALID",
    "DISPLAY",
    "KINDS",
    "REDIRECT_MAX_AGE",
    "THUMBNAIL",
    "DerivedBusy",
    "DerivedKind",
    "Unrenderable",
    "derived_path",
    "derived_read_url",
    "image_derived_delete",
    "image_derived_ensure",
    "image_display_url",
    "image_original_url",
    "image_thumbnail_url",
    "render_derived",
]
