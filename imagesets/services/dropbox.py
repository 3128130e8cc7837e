"""The dropbox of an image set: its upload URL, and local uploads landing in it while the set is ``created``."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from core.exceptions import Conflict, NotFound
from imagesets.models import ImageSet
from imagesets.naming import dropbox_name
from imagesets.selectors import imageset_lock
from integrations.storage import get_storage
from integrations.storage.base import Storage

if TYPE_CHECKING:
    from integrations.storage.local import StagedUpload


@transaction.atomic
def imageset_dropbox_url(*, imageset_id: int) -> str:
    """Authorise uploads to the set's dropbox and return its URL; 409 once the set is finished.

    Valid ``IMAGESET_UPLOAD_TOKEN_VALID_DAYS`` days and tied to the set's
    ``dropbox_key``, not its title. Taken under the set's row lock, as
    ``imageset_finish`` and ``imageset_delete``: Azure (re)writes the
    container's stored access policy here, which finishing removes, so a
    finished or deleted set's dropbox is never re-opened.
    """
    imageset = imageset_lock(imageset_id=imageset_id)
    _ensure_open(imageset)
    return dropbox_open(get_storage(), imageset)


def dropbox_open(storage: Storage, imageset: ImageSet) -> str:
    """The upload URL of the set's dropbox (no lock: the caller holds the set's row or has just created it)."""
    return storage.dropbox_upload_url(
        dropbox_name(imageset.title),
        key=imageset.dropbox_key,
        valid_for=timedelta(days=settings.IMAGESET_UPLOAD_TOKEN_VALID_DAYS),
    )


def _ensure_open(imageset: ImageSet) -> None:
    if imageset.status != ImageSet.Status.CREATED:
        raise Conflict(f"Image set is {imageset.status}; its dropbox is closed")


def _dropbox_imageset(queryset, dropbox: str) -> ImageSet:
    """The set a local upload token names; 404 when it is gone, 409 when it is no longer ``created``."""
    imageset = queryset.only("pk", "title", "status").first()
    if imageset is None or dropbox_name(imageset.title) != dropbox:
        raise NotFound("Image set not found")
    _ensure_open(imageset)
    return imageset


def imageset_dropbox_check(*, dropbox_key: str, dropbox: str) -> ImageSet:
    """Before a local upload streams its body: 404 if the token's set is gone, 409 if it is finished."""
    return _dropbox_imageset(ImageSet.objects.filter(dropbox_key=dropbox_key), dropbox)


@transaction.atomic
def imageset_dropbox_store(*, dropbox_key: str, dropbox: str, upload: StagedUpload) -> ImageSet:
    """Move a fully received local upload (``upload.commit()``) into the dropbox while the set is ``created``.

    Holds the set's row lock, which ``imageset_finish`` and ``imageset_delete``
    also take: the file lands before the set is finished (so the finish job,
    queued on that commit, lists it) or not at all (404 gone, 409 finished;
    the caller discards the staged file). Never a 201 for a lost file.
    """
    imageset = _dropbox_imageset(ImageSet.objects.select_for_update().filter(dropbox_key=dropbox_key), dropbox)
    upload.commit()
    return imageset
