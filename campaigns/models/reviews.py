"""Reviews of submitted revisions, and acceptance samples with the images drawn into each and its lot."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from campaigns.models.campaigns import Campaign, CampaignImage
from campaigns.models.submissions import Submission


class Review(models.Model):
    """A reviewer's decision on one revision (submission) of a campaign image. Every one is kept."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reviews")
    campaign_image = models.ForeignKey(CampaignImage, on_delete=models.CASCADE, related_name="reviews")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="reviews")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason = models.TextField(blank=True, default="")
    reason_code = models.CharField(max_length=64, blank=True, default="")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey("accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sample = models.ForeignKey(
        "ReviewSample", null=True, blank=True, on_delete=models.SET_NULL, related_name="lot_reviews"
    )
    date_created = models.DateTimeField(default=timezone.now, editable=False)
    # A rejection: when the agency's next revision of the image arrived.
    date_reworked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["campaign", "date_created"], name="campaigns_review_date_idx"),
            models.Index(fields=["campaign_image", "-id"], name="campaigns_review_image_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} image {self.campaign_image_id} (submission {self.submission_id})"


class ReviewSample(models.Model):
    """An acceptance sample of a delivery: images drawn at random (seeded) by a single sampling plan.

    ``verdict`` is set once every sampled image is decided: ``accept`` when
    the defects (rejections) are at most ``acceptance_number``. Staff then
    accept or reject the lot (``lot_decision``): the images and revisions
    recorded in ``lot_images`` when it was drawn, nothing delivered since.

    The plan is the table of the inspection (``severity``) the switching rules
    gave the lot when it was drawn, with why (``inspection_reason``); the lot's
    gold figures then (``gold_f1`` below ``gold_min_f1``) reject it whatever
    its sampled images' decisions.
    """

    class Verdict(models.TextChoices):
        ACCEPT = "accept", "Accept the lot"
        REJECT = "reject", "Reject the lot"

    class LotDecision(models.TextChoices):
        ACCEPT = "accept", "Accept the lot"
        REJECT = "reject", "Reject the lot"
        # Closes the sample without deciding any image: its verdict no longer stands (a sampled
        # image was labeled again) or staff want a new draw. Its lot waits for the next sample.
        DISCARD = "discard", "Discard the sample"

    class Severity(models.TextChoices):
        """ISO 2859-1's inspections, each with its table of plans (``campaigns.sampling.TABLES``)."""

        NORMAL = "normal", "Normal"
        TIGHTENED = "tightened", "Tightened"
        REDUCED = "reduced", "Reduced"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="samples")
    seed = models.BigIntegerField()
    aql = models.DecimalField(max_digits=5, decimal_places=3)
    code_letter = models.CharField(max_length=1, blank=True, default="", help_text="Empty for a size given by hand.")
    lot_size = models.PositiveIntegerField()
    sample_size = models.PositiveIntegerField()
    acceptance_number = models.PositiveIntegerField()
    rejection_number = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    date_created = models.DateTimeField(default=timezone.now, editable=False)
    verdict = models.CharField(max_length=8, choices=Verdict.choices, blank=True, default="")
    defects = models.PositiveIntegerField(null=True, blank=True)
    date_verdict = models.DateTimeField(null=True, blank=True)
    lot_decision = models.CharField(max_length=8, choices=LotDecision.choices, blank=True, default="")
    lot_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    date_lot_decided = models.DateTimeField(null=True, blank=True)
    # The switching rules' answer when the sample was drawn (campaigns/switching.py): the plan is this table's.
    severity = models.CharField(
        "inspection",
        max_length=10,
        choices=Severity.choices,
        default=Severity.NORMAL,
        help_text="ISO 2859-1 inspection the plan was drawn under: normal (Table 2-A), tightened (2-B), reduced (2-C).",
    )
    inspection_reason = models.TextField(
        blank=True, default="", help_text="Why that inspection, read from the campaign's decided lots at the draw."
    )
    switching_score = models.PositiveIntegerField(
        null=True, blank=True, help_text="Normal inspection: the switching score of the lots before this one."
    )
    # Gold images (campaigns/models/gold.py) delivered in the lot, scored, when the sample was drawn: the lot's gate.
    gold_images = models.PositiveIntegerField(default=0)
    gold_f1 = models.FloatField("gold F1", null=True, blank=True, help_text="Their pooled F1; empty: none in the lot.")
    gold_min_f1 = models.DecimalField(
        "gold minimum F1",
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="The campaign's minimum when the sample was drawn: a lot scoring less is rejected. Empty: no gate.",
    )
    # ISO 2859-1 9.4: deciding this lot discontinued inspection; no sample is drawn until staff resume it.
    discontinued = models.BooleanField(default=False)
    date_resumed = models.DateTimeField(null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"sample {self.pk} of campaign {self.campaign_id} ({self.sample_size} of {self.lot_size} images)"

    @property
    def is_open(self) -> bool:
        return not self.lot_decision

    @property
    def gold_below_minimum(self) -> bool:
        """The lot's gold images score below the campaign's minimum: the lot cannot be accepted."""
        return self.gold_f1 is not None and self.gold_min_f1 is not None and self.gold_f1 < self.gold_min_f1

    def verdict_for(self, defects: int) -> str:
        """Accept with at most ``acceptance_number`` rejected sampled images and no gold below the minimum."""
        if defects > self.acceptance_number or self.gold_below_minimum:
            return self.Verdict.REJECT
        return self.Verdict.ACCEPT

    @property
    def accepted_on_inspection(self) -> bool:
        """What the switching rules count as accepted: the verdict was accept and staff accepted the lot."""
        return self.verdict == self.Verdict.ACCEPT and self.lot_decision == self.LotDecision.ACCEPT


class ReviewSampleImage(models.Model):
    """One image drawn into a sample, with the revision it had then and, once reviewed, the decision on it."""

    sample = models.ForeignKey(ReviewSample, on_delete=models.CASCADE, related_name="sample_images")
    campaign_image = models.ForeignKey(CampaignImage, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    decision = models.CharField(max_length=16, choices=Review.Decision.choices, blank=True, default="")

    class Meta:
        ordering = ["sample", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "campaign_image"], name="campaigns_sample_image_unique"),
        ]

    def __str__(self) -> str:
        return f"image {self.campaign_image_id} in sample {self.sample_id}"


class ReviewLotImage(models.Model):
    """One image of a sample's lot, with the revision it had when the sample was drawn.

    Deciding the lot decides exactly these pairs whose revision is still the
    image's current one: an image labeled again after the draw, or delivered
    after it, belongs to the next lot.
    """

    sample = models.ForeignKey(ReviewSample, on_delete=models.CASCADE, related_name="lot_images")
    campaign_image = models.ForeignKey(CampaignImage, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sample", "campaign_image"], name="campaigns_lot_image_unique"),
        ]

    def __str__(self) -> str:
        return f"image {self.campaign_image_id} in the lot of sample {self.sample_id}"
