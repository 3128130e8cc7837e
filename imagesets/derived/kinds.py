"""The derived copies an image has, and where each is stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

# A folder of the image container no image set and no export can use: a set's title holds no
# underscore (so it is never a folder of its own here) and exports are under ``label_sets/``.
DERIVED_FOLDER = "derived_images"


@dataclass(frozen=True)
class DerivedKind:
    """One size of derived copy: ``name`` in its URL and path, its longest side from a setting."""

    name: str
    size_setting: str
    quality: int  # JPEG quality

    @property
    def longest_side(self) -> int:
        return int(getattr(settings, self.size_setting))


# The image list's rows (80 CSS px, made at twice that for high-density screens).
THUMBNAIL = DerivedKind("thumbnail", "IMAGE_THUMBNAIL_SIZE", quality=75)
# The review page and the image's own page: large enough to judge a box, far smaller than a camera's file.
DISPLAY = DerivedKind("display", "IMAGE_DISPLAY_SIZE", quality=85)
KINDS = {kind.name: kind for kind in (THUMBNAIL, DISPLAY)}


def derived_path(*, image_id: int, blobstorage_path: str, kind: DerivedKind) -> str:
    """``<image container>/derived_images/<kind>-<side>/<image id>-<digest>.jpg``.

    The digest is of the original's path, so a copy belongs to one file: a
    database restored under other ids, or another image's id reused, never
    finds a copy of a different image. The side is in the folder, so a new
    size setting makes new copies rather than serving the old ones.
    """
    digest = hashlib.sha256(blobstorage_path.encode()).hexdigest()[:16]
    container = settings.AZURE_STORAGE_IMAGESET_CONTAINER
    return f"{container}/{DERIVED_FOLDER}/{kind.name}-{kind.longest_side}/{image_id}-{digest}.jpg"
