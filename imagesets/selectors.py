"""Reads of image sets and images."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from core.exceptions import NotFound
from imagesets.inputs import ImageFilters
from imagesets.models import Image, ImageSet
from integrations.storage import get_storage


def imageset_list() -> QuerySet[ImageSet]:
    return ImageSet.objects.select_related("created_by", "job").order_by("id")


def imageset_get(*, imageset_id: int) -> ImageSet:
    imageset = imageset_list().filter(pk=imageset_id).first()
    if imageset is None:
        raise NotFound("Image set not found")
    return imageset


def imageset_lock(*, imageset_id: int) -> ImageSet:
    """The set's row, locked until the caller's transaction ends (every transition takes it first); 404 if unknown."""
    imageset = ImageSet.objects.select_for_update().filter(pk=imageset_id).first()
    if imageset is None:
        raise NotFound("Image set not found")
    return imageset


def image_list(*, filters: ImageFilters | None = None) -> QuerySet[Image]:
    images = Image.objects.select_related("imageset").order_by("id")
    return images if filters is None else image_filter(images, filters=filters)


def image_filter(images: QuerySet[Image], *, filters: ImageFilters) -> QuerySet[Image]:
    """The images taken within the date range and located inside the box (each bound optional).

    Each bound is a range on one indexed column (``Image.Meta.indexes``); a
    box across the 180th meridian (``lon_min > lon_max``) is two ranges.
    """
    bounds = {
        "date_taken__gte": filters.taken_from,
        "date_taken__lt": filters.taken_before,
        "lat__gte": filters.lat_min,
        "lat__lte": filters.lat_max,
    }
    images = images.filter(**{lookup: value for lookup, value in bounds.items() if value is not None})
    low, high = filters.lon_min, filters.lon_max
    if low is not None and high is not None and low > high:
        return images.filter(Q(lon__gte=low) | Q(lon__lte=high))
    if low is not None:
        images = images.filter(lon__gte=low)
    if high is not None:
        images = images.filter(lon__lte=high)
    return images


def imageset_image_list(*, imageset_id: int) -> QuerySet[Image]:
    if not ImageSet.objects.filter(pk=imageset_id).exists():
        raise NotFound("Image set not found")
    return image_list().filter(imageset_id=imageset_id)


def image_get(*, image_id: int) -> Image:
    image = Image.objects.filter(pk=image_id).first()
    if image is None:
        raise NotFound("Image not found")
    return image


def image_read_url(*, image: Image) -> str:
    """A short-lived URL reading exactly this image (Azure: absolute; local: site-relative)."""
    return get_storage().read_url(
        image.blobstorage_path, valid_for=timedelta(days=settings.IMAGE_READ_TOKEN_VALID_DAYS)
    )


def imageset_facts_counts(*, imageset_id: int) -> dict[str, int]:
    """How many of a set's images have a date taken, and a location (one query)."""
    return Image.objects.filter(imageset_id=imageset_id).aggregate(
        images_with_date=Count("pk", filter=Q(date_taken__isnull=False)),
        images_with_location=Count("pk", filter=Q(lat__isnull=False, lon__isnull=False)),
    )


# --- the staff admin ------------------------------------------------------------------------------------------


def imageset_list_counted() -> QuerySet[ImageSet]:
    """``imageset_list`` with each set's number of images as ``image_count``, in the same query."""
    return imageset_list().annotate(image_count=Count("images"))


def imageset_image_count(*, imageset_id: int) -> int:
    return Image.objects.filter(imageset_id=imageset_id).count()


def imageset_image_ids(*, imageset_id: int) -> list[int]:
    """The ids of a set's images, ascending."""
    return list(Image.objects.filter(imageset_id=imageset_id).order_by("pk").values_list("pk", flat=True))


def imagesets_holding_images(*, limit: int) -> list[tuple[int, str, int]]:
    """``(id, title, image count)`` of the newest ``limit`` sets that hold images."""
    holding = imageset_list_counted().filter(image_count__gt=0).order_by("-id")
    return list(holding.values_list("pk", "title", "image_count")[:limit])
