"""Gold images: campaign images with the staff's reference boxes, and the score of each submission against them.

A gold image is an ordinary image of its campaign to everything the agency
reads: nothing here is joined into an agency's answer, and creating,
replacing or removing a reference never touches the ``CampaignImage`` or
``Image`` rows (their dates feed the agency's ``ETag``/``Last-Modified``).
Every agency submission of a gold image is scored in the transaction that
stores it (``campaigns.gold.scores``): one ``GoldScore`` per submission and
image, with its counts per label (``GoldScoreLabel``) so the database can
pool them by label. ``latest`` marks the score of the image's current
submission against its current reference: the one ``GET /campaigns/{id}/gold``
shows and ``GET /campaigns/{id}/quality`` pools.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.models.campaigns import Campaign, CampaignImage
from campaigns.models.submissions import LABEL_MAX_LENGTH, Submission


class GoldImage(models.Model):
    """One campaign image whose correct boxes staff know (``boxes``: the reference)."""

    class Source(models.TextChoices):
        STAFF = "staff", "Given by staff"
        CAMPAIGN = "campaign", "Copied from another campaign"
        FILE = "file", "Imported from a file"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="gold_images")
    campaign_image = models.OneToOneField(CampaignImage, on_delete=models.CASCADE, related_name="gold")
    # The image (``campaign_image.image``) kept here too: the API and the lot gate name images by id.
    image = models.ForeignKey("imagesets.Image", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.STAFF)
    source_campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The campaign whose accepted submission the reference was copied from.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    date_created = models.DateTimeField()
    date_updated = models.DateTimeField(help_text="When the reference was last given.")

    class Meta:
        ordering = ["campaign_id", "image_id"]
        verbose_name = "gold image"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "image"], name="campaigns_gold_image_unique"),
        ]

    def __str__(self) -> str:
        return f"gold image {self.image_id} in campaign {self.campaign_id}"


class GoldBox(models.Model):
    """One reference box of a gold image (its label as stored: translated as an agency's would be)."""

    gold = models.ForeignKey(GoldImage, on_delete=models.CASCADE, related_name="boxes")
    label = models.CharField(max_length=LABEL_MAX_LENGTH)
    # PostgreSQL reserves the column names xmin and xmax (system columns), as for BoundingBox.
    xmin = models.IntegerField(db_column="box_xmin")
    xmax = models.IntegerField(db_column="box_xmax")
    ymin = models.IntegerField(db_column="box_ymin")
    ymax = models.IntegerField(db_column="box_ymax")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["gold_id", "position"]
        verbose_name = "gold box"
        verbose_name_plural = "gold boxes"
        constraints = [
            models.CheckConstraint(
                condition=Q(xmin__gte=0) & Q(xmin__lte=models.F("xmax")), name="campaigns_goldbox_x_range"
            ),
            models.CheckConstraint(
                condition=Q(ymin__gte=0) & Q(ymin__lte=models.F("ymax")), name="campaigns_goldbox_y_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} [{self.xmin},{self.ymin},{self.xmax},{self.ymax}]"


class GoldScore(models.Model):
    """One submission of a gold image scored against its reference (``campaigns.scoring``).

    The counts are what pools (summed over images, then divided); the
    figures of the image alone are stored beside them for the list and the
    admin. ``date_submitted`` is the submission's date: the scorecard's weeks.
    """

    gold = models.ForeignKey(GoldImage, on_delete=models.CASCADE, related_name="scores")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    latest = models.BooleanField(default=True)
    tp = models.PositiveIntegerField("true positives")
    fp = models.PositiveIntegerField("false positives")
    fn = models.PositiveIntegerField("false negatives")
    iou_sum = models.FloatField(help_text="The IoU of the matched pairs, summed.")
    matched = models.PositiveIntegerField(help_text="Matched pairs (the true positives).")
    precision = models.FloatField()
    recall = models.FloatField()
    f1 = models.FloatField("F1")
    mean_iou = models.FloatField("mean IoU", null=True, blank=True)
    date_submitted = models.DateTimeField()
    date_scored = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        verbose_name = "gold score"
        constraints = [
            models.UniqueConstraint(fields=["gold"], condition=Q(latest=True), name="campaigns_goldscore_one_latest"),
        ]
        indexes = [
            models.Index(fields=["campaign", "latest"], name="campaigns_goldscore_latest_idx"),
            models.Index(fields=["campaign", "date_submitted"], name="campaigns_goldscore_date_idx"),
        ]

    def __str__(self) -> str:
        return f"score of submission {self.submission_id} on gold image {self.gold_id}"

    @property
    def figures(self) -> dict[str, float | None]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "mean_iou": self.mean_iou}


class GoldScoreLabel(models.Model):
    """One label's counts within a score: what ``by_label`` pools in the database."""

    score = models.ForeignKey(GoldScore, on_delete=models.CASCADE, related_name="labels")
    label = models.CharField(max_length=LABEL_MAX_LENGTH)
    tp = models.PositiveIntegerField()
    fp = models.PositiveIntegerField()
    fn = models.PositiveIntegerField()

    class Meta:
        verbose_name = "gold score per label"
        constraints = [
            models.UniqueConstraint(fields=["score", "label"], name="campaigns_goldscorelabel_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.tp}/{self.fp}/{self.fn}"
