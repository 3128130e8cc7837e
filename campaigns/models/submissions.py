"""Submissions (one ``PUT /campaigns/{id}/objects`` or ``.../predictions`` each) and the bounding boxes they hold."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from campaigns.models.campaigns import Campaign, CampaignImage

# A label, as sent and as stored (``label_translations`` keys and values too).
LABEL_MAX_LENGTH = 128
# An annotator: the agency's own id of the worker who labeled an image (``PUT /campaigns/{id}/objects``).
ANNOTATOR_MAX_LENGTH = 64


class Submission(models.Model):
    """One ``PUT /campaigns/{id}/objects``: who sent it, when, for how many images.

    A body naming annotators (the agency's worker ids, per image) is stored as
    one submission per annotator named (``annotator``; the images naming none
    together, ``""``), all sent at the same moment. Earlier submissions of an
    image stay stored as superseded revisions. A submission from a model
    (``PUT /campaigns/{id}/predictions``) holds pre-annotations: it never
    labels an image nor becomes its current submission.
    """

    class Source(models.TextChoices):
        AGENCY = "agency", "Agency"
        MODEL = "model", "Model"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="submissions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey("accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    image_count = models.PositiveIntegerField(default=0)
    object_count = models.PositiveIntegerField(default=0)
    date_created = models.DateTimeField(default=timezone.now, editable=False)
    # Database defaults too: rows inserted by raw SQL (the benchmarks) stay agency submissions.
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.AGENCY, db_default=Source.AGENCY)
    model_name = models.CharField(max_length=LABEL_MAX_LENGTH, blank=True, default="", db_default="")
    model_version = models.CharField(max_length=LABEL_MAX_LENGTH, blank=True, default="", db_default="")
    # The agency's own worker id for the images of this submission ("" when it named none).
    annotator = models.CharField(max_length=ANNOTATOR_MAX_LENGTH, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        by = f", annotator {self.annotator}" if self.annotator else ""
        return f"submission {self.pk} (campaign {self.campaign_id}{by})"


class BoundingBoxQuerySet(models.QuerySet):
    def current(self):
        """Only the boxes of each image's latest submission."""
        return self.filter(submission_id=models.F("campaign_image__current_submission_id"))


class BoundingBox(models.Model):
    """One labeled bounding box on a campaign image, part of one submission.

    The API calls these "objects" (``PUT /campaigns/{id}/objects``); the model is
    named for what it stores.
    """

    # Not ``related_name="objects"``: that would replace the ``objects`` manager
    # of CampaignImage and Submission.
    campaign_image = models.ForeignKey(CampaignImage, on_delete=models.CASCADE, related_name="boxes")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="boxes")
    label = models.CharField(max_length=LABEL_MAX_LENGTH)
    label_original = models.CharField(max_length=LABEL_MAX_LENGTH)
    confidence = models.FloatField(null=True, blank=True)
    # PostgreSQL reserves the column names xmin and xmax (system columns).
    xmin = models.IntegerField(db_column="box_xmin")
    xmax = models.IntegerField(db_column="box_xmax")
    ymin = models.IntegerField(db_column="box_ymin")
    ymax = models.IntegerField(db_column="box_ymax")
    # Keeps the order in which the labeler sent the objects of one image.
    position = models.PositiveIntegerField(default=0)
    date_added = models.DateTimeField(default=timezone.now, editable=False)

    objects = BoundingBoxQuerySet.as_manager()

    class Meta:
        ordering = ["campaign_image_id", "submission_id", "position"]
        verbose_name_plural = "bounding boxes"
        # The index and constraint names keep the model's first name ("object"):
        # renaming a check constraint re-validates every row of a large table.
        indexes = [
            models.Index(fields=["campaign_image", "submission", "position"], name="campaigns_obj_ci_sub_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(xmin__gte=0) & Q(xmin__lte=models.F("xmax")), name="campaigns_object_x_range"
            ),
            models.CheckConstraint(
                condition=Q(ymin__gte=0) & Q(ymin__lte=models.F("ymax")), name="campaigns_object_y_range"
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | (Q(confidence__gte=0) & Q(confidence__lte=1)),
                name="campaigns_object_confidence_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} [{self.xmin},{self.ymin},{self.xmax},{self.ymax}]"
