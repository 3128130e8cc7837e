"""Attaching existing images to an image set."""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction
from django.db.models import Q

from core.exceptions import Conflict, NotFound
from core.validators import contains_nul, is_valid_id
from imagesets.models import Image, ImageSet
from imagesets.selectors import imageset_lock


@transaction.atomic
def imageset_add_images(*, imageset_id: int, image_ids: Collection[int] = (), paths: Collection[str] = ()) -> int:
    """Attach existing images, named by id or ``blobstorage_path``, to a set still ``created``; all or nothing.

    The request's shape is checked at the edge (``imagesets.inputs.parse_image_refs``).
    404 if any image is unknown (an id outside 1..2^63-1 included), 409 if the
    set is finished or an image belongs to another set. Images already in
    this set are ignored. Returns how many were attached.
    """
    imageset = imageset_lock(imageset_id=imageset_id)
    if imageset.status != ImageSet.Status.CREATED:
        raise Conflict(f"Image set is {imageset.status}; images can only be added while created")
    if not image_ids and not paths:
        return 0
    # Neither an id outside 1..ID_MAX nor a path with a NUL names a stored image (and a query refuses both).
    images = list(
        Image.objects.select_for_update()
        .filter(
            Q(pk__in=[i for i in image_ids if is_valid_id(i)])
            | Q(blobstorage_path__in=[p for p in paths if not contains_nul(p)])
        )
        .only("pk", "blobstorage_path", "imageset_id")
    )
    unknown_ids = set(image_ids) - {image.pk for image in images}
    unknown_paths = set(paths) - {image.blobstorage_path for image in images}
    if unknown_ids or unknown_paths:
        named = [f"id {i}" for i in sorted(unknown_ids)] + [repr(p) for p in sorted(unknown_paths)]
        raise NotFound("Unknown image provided", extra={"unknown": named[:20]})
    taken = [image.pk for image in images if image.imageset_id not in (None, imageset.pk)]
    if taken:
        raise Conflict("Image already belongs to another image set", extra={"image_ids": sorted(taken)[:20]})
    to_attach = [image.pk for image in images if image.imageset_id is None]
    return Image.objects.filter(pk__in=to_attach).update(imageset=imageset)
