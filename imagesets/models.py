from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.jobs import Job
from core.validators import TITLE_MAX_LENGTH
from imagesets.naming import new_dropbox_key
from imagesets.orientation import display_size
from integrations.storage.base import BlobPathMixin


class ImageSet(models.Model):
    """A batch of uploaded images: a dropbox while ``created``, a folder once ``finished``."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        FINISHED = "finished", "Finished"

    TRANSITIONS = {
        Status.CREATED: {Status.FINISHED},
        Status.FINISHED: set(),
    }

    title = models.CharField(max_length=TITLE_MAX_LENGTH, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    metadata = models.JSONField(null=True, blank=True)
    # The dropbox container while created; the final folder once finished.
    blobstorage_path = models.CharField(max_length=1024, blank=True, default="")
    # The secret upload URLs are tied to (never shown): a URL of a deleted
    # set, or of an earlier set with the same title, names another key.
    dropbox_key = models.CharField(max_length=64, unique=True, default=new_dropbox_key, editable=False)
    date_created = models.DateTimeField(default=timezone.now, editable=False)
    date_finished = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class ImageSetJob(Job):
    """The finish job of an image set (one per set; a retry reuses it)."""

    imageset = models.OneToOneField(ImageSet, on_delete=models.CASCADE, related_name="job")
    skipped = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "image-set job"

    def reset(self) -> None:
        super().reset()
        self.skipped = []

    def as_contract(self) -> dict:
        return {
            **super().as_contract(),
            "skipped": list(self.skipped or []),
            # Added: why each skipped file is not an image (unreadable, empty, absurd, ...).
            "skipped_reasons": dict((self.result or {}).get("skipped_reasons") or {}),
            # Added: how many of the set's images have a date taken / a location (null until the job is done).
            "images_with_date": (self.result or {}).get("images_with_date"),
            "images_with_location": (self.result or {}).get("images_with_location"),
        }


class Image(BlobPathMixin, models.Model):
    """One stored image file. ``blobstorage_path`` is ``<container>/<folder>/<set title>/<name>``."""

    imageset = models.ForeignKey(ImageSet, null=True, blank=True, on_delete=models.PROTECT, related_name="images")
    blobstorage_path = models.CharField(max_length=1024, unique=True)
    filetype = models.CharField(max_length=16, blank=True, default="")
    content_type = models.CharField(max_length=128, blank=True, default="")
    filesize = models.BigIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    date_taken = models.DateTimeField(null=True, blank=True)
    # null, not "": the API tells an unknown value (null) from an empty one.
    location_description = models.CharField(max_length=512, null=True, blank=True)  # noqa: DJ001
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    # EXIF orientation 1-8 (``imagesets.orientation``); width/height stay the file's own.
    orientation = models.PositiveSmallIntegerField(null=True, blank=True)
    # Set by staff: the finish job never writes these over (it only ever inserts new rows;
    # anything that reads the file's facts again must skip a hand-set value).
    date_taken_by_hand = models.BooleanField(default=False)
    location_by_hand = models.BooleanField(default=False)
    type = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    metadata = models.JSONField(null=True, blank=True)
    tss_id = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    date_added = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        # Plain B-tree indexes, one per filtered column, partial (most images may have no date or
        # position, and those rows cost nothing). A box filter is two ranges: PostgreSQL combines the
        # lat and lon indexes (bitmap AND), SQLite walks the more selective one; a composite
        # (lat, lon) index serves only its first column's range, and PostGIS is a dependency for one
        # rectangle query. See docs/images.md ("Date taken, location and orientation").
        indexes = [
            models.Index(fields=["date_taken"], name="image_date_taken", condition=Q(date_taken__isnull=False)),
            models.Index(fields=["lat"], name="image_lat", condition=Q(lat__isnull=False)),
            models.Index(fields=["lon"], name="image_lon", condition=Q(lon__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.blobstorage_path

    @property
    def display_size(self) -> tuple[int | None, int | None]:
        return display_size(self.width, self.height, self.orientation)
