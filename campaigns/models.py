from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.jobs import Job
from core.validators import TITLE_MAX_LENGTH

# A label, as sent and as stored (``label_translations`` keys and values too).
LABEL_MAX_LENGTH = 128


class CampaignQuerySet(models.QuerySet):
    def with_progress(self):
        """``progress_done``/``progress_total`` for one campaign or a page, in the same query.

        Two correlated ``COUNT`` subqueries (served by the ``(campaign, labeled)``
        index) rather than a ``JOIN ... GROUP BY``: they stay right whatever else
        the queryset joins, and the database evaluates them only for the rows
        of the page, not for every campaign before ``LIMIT``.
        """
        return self.annotate(
            progress_total=_campaign_image_count(),
            progress_done=_campaign_image_count(labeled=True),
        )


def _campaign_image_count(**filters):
    counted = (
        CampaignImage.objects.filter(campaign=models.OuterRef("pk"), **filters)
        .order_by()
        .values("campaign")
        .annotate(image_count=models.Count("pk"))
        .values("image_count")
    )
    return Coalesce(models.Subquery(counted, output_field=models.IntegerField()), 0)


class Campaign(models.Model):
    class Status(models.TextChoices):
        CREATED = "created", "Created"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        FINISHED = "finished", "Finished"

    # from -> allowed targets; anything else is a 409.
    TRANSITIONS = {
        Status.CREATED: {Status.ACTIVE},
        Status.ACTIVE: {Status.COMPLETED},
        Status.COMPLETED: {Status.ACTIVE, Status.FINISHED},
        Status.FINISHED: set(),
    }

    title = models.CharField(max_length=TITLE_MAX_LENGTH, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    review_required = models.BooleanField(
        default=False, help_text="Finishing is refused until every image's current revision is accepted."
    )
    aql = models.DecimalField(
        "AQL (%)",
        max_digits=5,
        decimal_places=3,
        default=Decimal("2.5"),
        help_text="Acceptance quality limit of the delivery's acceptance sampling (ISO 2859-1), in percent.",
    )
    metadata = models.JSONField(null=True, blank=True)
    label_translations = models.JSONField(null=True, blank=True)
    # The label schema: null (any label) or ``[{"name", "colour", "description"}]`` (campaigns/label_schema.py).
    labels = models.JSONField(null=True, blank=True)
    date_created = models.DateTimeField(default=timezone.now, editable=False)
    date_started = models.DateTimeField(null=True, blank=True)
    date_completed = models.DateTimeField(null=True, blank=True)
    date_finished = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    labelers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CampaignLabeler", related_name="labeled_campaigns", blank=True
    )
    images = models.ManyToManyField("imagesets.Image", through="CampaignImage", related_name="campaigns", blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class CampaignLabeler(models.Model):
    """A labeler's access to one campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="labeler_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="campaign_links")
    date_added = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="campaigns_labeler_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.campaign}"


class ReviewState(models.TextChoices):
    """Where an image of a campaign stands; ``labeled`` (counts as labeled) is pending or accepted."""

    UNLABELED = "unlabeled", "Unlabeled"
    PENDING = "pending", "Pending review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class CampaignImage(models.Model):
    """An image in a campaign. Its current objects are those of ``current_submission``.

    ``review_state`` is the state of the current revision (``last_review``
    when it judged that revision, else ``pending``); a rejected image no
    longer counts as labeled until the agency resubmits it, which starts a
    new rework round.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="campaign_images")
    image = models.ForeignKey("imagesets.Image", on_delete=models.PROTECT, related_name="campaign_images")
    labeled = models.BooleanField(default=False)
    date_labeled = models.DateTimeField(null=True, blank=True)
    date_first_labeled = models.DateTimeField(null=True, blank=True)
    current_submission = models.ForeignKey(
        "Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_state = models.CharField(max_length=16, choices=ReviewState.choices, default=ReviewState.UNLABELED)
    last_review = models.ForeignKey("Review", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revision_count = models.PositiveIntegerField(default=0, help_text="Submissions that labeled this image.")
    rework_round = models.PositiveIntegerField(default=0, help_text="Resubmissions after a rejection.")

    class Meta:
        ordering = ["image_id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "image"], name="campaigns_image_unique"),
        ]
        indexes = [
            models.Index(fields=["campaign", "labeled"], name="campaigns_ci_labeled_idx"),
            models.Index(fields=["campaign", "review_state", "image"], name="campaigns_ci_review_idx"),
        ]

    def __str__(self) -> str:
        return f"image {self.image_id} in {self.campaign_id}"

    @property
    def current_review(self) -> Review | None:
        """The latest decision when it judged the current revision (needs ``last_review`` loaded)."""
        review = self.last_review
        if review is None or review.submission_id != self.current_submission_id:
            return None
        return review


class Submission(models.Model):
    """One ``PUT /campaigns/{id}/objects``: who sent it, when, for how many images.

    Earlier submissions of an image stay stored as superseded revisions. A
    submission from a model (``PUT /campaigns/{id}/predictions``) holds
    pre-annotations: it never labels an image nor becomes its current submission.
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

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"submission {self.pk} to {self.campaign_id}"


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

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"sample {self.pk} of {self.campaign_id} ({self.sample_size} of {self.lot_size})"

    @property
    def is_open(self) -> bool:
        return not self.lot_decision


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


class CampaignJob(Job):
    """The export job started when a campaign is finished (one per campaign; retries reuse it)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="job")

    class Meta:
        verbose_name = "export job"
