"""The URLs of an image's thumbnail, display copy and original, as staff's browsers load them.

Each is a page of the image admin (``imagesets.admin.derived``) that answers
with a redirect to a short-lived read URL of the stored file, so building
one costs no query and no storage call: a list page names 25 of them for
the price of 25 ``reverse()``.
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from imagesets.models import Image
from integrations.storage import get_storage

# How long a derived copy's read URL is valid, and how long a browser may keep the redirect to it
# (less, so a kept redirect never leads to an expired URL).
DERIVED_URL_VALID = timedelta(hours=1)
REDIRECT_MAX_AGE = timedelta(minutes=50)


def image_thumbnail_url(*, image: Image) -> str:
    """The image's thumbnail (longest side ``IMAGE_THUMBNAIL_SIZE``), for lists; staff session only."""
    return reverse("admin:imagesets_image_thumbnail", args=[image.pk])


def image_display_url(*, image: Image) -> str:
    """The image's display copy (longest side ``IMAGE_DISPLAY_SIZE``, upright, JPEG), for the review page.

    Staff session only. The copy is turned by the image's EXIF orientation:
    its frame is the displayed frame of ``imagesets.orientation`` (scaled),
    as a browser shows the original.
    """
    return reverse("admin:imagesets_image_display", args=[image.pk])


def image_original_url(*, image: Image) -> str:
    """The original file, as stored (a redirect to its read URL); staff session only."""
    return reverse("admin:imagesets_image_original", args=[image.pk])


def derived_read_url(*, path: str) -> str:
    """A short-lived URL reading the stored derived copy at ``path``."""
    return get_storage().read_url(path, valid_for=DERIVED_URL_VALID)
