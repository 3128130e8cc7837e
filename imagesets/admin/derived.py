"""The image admin's thumbnail, display copy and original: staff-only redirects a browser may keep.

``<id>/thumbnail/`` and ``<id>/display/`` make the derived copy on a miss
(``imagesets.derived``) and answer ``302`` to a read URL of the stored copy
valid for an hour; ``<id>/original/`` answers ``302`` to the original's read
URL. The redirect itself may be kept by the browser for 50 minutes, so a
list page seen again asks for nothing. Whatever happens, no ``500``: an
original Pillow cannot decode gets a placeholder thumbnail (its display copy
is the original itself: a browser may show what Pillow cannot), a missing
original a ``404`` placeholder, unavailable storage or a full queue of copies
a ``503`` placeholder nobody keeps.

Each costs the admin's session and user queries and one for the image,
whatever the page. Mixed into ``ImageAdmin``.
"""

from __future__ import annotations

import logging
from functools import partial

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.http import require_safe

from imagesets.derived import (
    DISPLAY,
    REDIRECT_MAX_AGE,
    THUMBNAIL,
    DerivedBusy,
    DerivedKind,
    Unrenderable,
    derived_read_url,
    image_derived_ensure,
)
from imagesets.models import Image
from imagesets.selectors import image_read_url
from integrations.storage import ObjectNotFound, StorageError

logger = logging.getLogger(__name__)

# A thumbnail of a file Pillow cannot decode is tried again after this many seconds.
UNRENDERABLE_MAX_AGE = 300
MISSING_MAX_AGE = 60

PLACEHOLDER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120" viewBox="0 0 160 120">'
    '<rect width="160" height="120" fill="#e8e8e8"/>'
    '<text x="80" y="66" font-family="sans-serif" font-size="15" text-anchor="middle" fill="#666">{}</text>'
    "</svg>"
)


class DerivedImagePages:
    """``<id>/thumbnail/``, ``<id>/display/`` and ``<id>/original/`` of the image admin (GET and HEAD)."""

    def get_urls(self):
        def page(route: str, view, name: str):
            # cacheable: the admin's never_cache would forbid the browser to keep the redirect.
            wrapped = self.admin_site.admin_view(require_safe(view), cacheable=True)
            return path(f"<rowid:object_id>/{route}/", wrapped, name=f"imagesets_image_{name}")

        pages = [
            page("thumbnail", partial(self.derived_view, kind=THUMBNAIL), "thumbnail"),
            page("display", partial(self.derived_view, kind=DISPLAY), "display"),
            page("original", self.original_view, "original"),
        ]
        return [*pages, *super().get_urls()]

    def derived_view(self, request, object_id: int, *, kind: DerivedKind):
        image = self.guarded_object(request, object_id, change=False)
        try:
            url = derived_read_url(path=image_derived_ensure(image=image, kind=kind))
        except Unrenderable as exc:
            logger.warning("no %s copy of image %s: %s", kind.name, image.pk, exc)
            if kind is DISPLAY:
                return self._original_redirect(image, max_age=UNRENDERABLE_MAX_AGE)
            return _placeholder("no preview", status=200, max_age=UNRENDERABLE_MAX_AGE)
        except ObjectNotFound:
            return _placeholder("file missing", status=404, max_age=MISSING_MAX_AGE)
        except (StorageError, DerivedBusy) as exc:
            logger.warning("no %s copy of image %s for now: %s", kind.name, image.pk, exc)
            return _placeholder("unavailable", status=503, max_age=None)
        return _kept_redirect(url, max_age=int(REDIRECT_MAX_AGE.total_seconds()))

    def original_view(self, request, object_id: int):
        image = self.guarded_object(request, object_id, change=False)
        try:
            return self._original_redirect(image, max_age=int(REDIRECT_MAX_AGE.total_seconds()))
        except StorageError:
            return _placeholder("unavailable", status=503, max_age=None)

    @staticmethod
    def _original_redirect(image: Image, *, max_age: int) -> HttpResponse:
        return _kept_redirect(image_read_url(image=image), max_age=max_age)


def _kept_redirect(url: str, *, max_age: int) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = f"private, max-age={max_age}"
    return response


def _placeholder(text: str, *, status: int, max_age: int | None) -> HttpResponse:
    response = HttpResponse(PLACEHOLDER.format(text), content_type="image/svg+xml", status=status)
    response["Cache-Control"] = "no-store" if max_age is None else f"private, max-age={max_age}"
    if status == 503:
        response["Retry-After"] = "10"
    return response
