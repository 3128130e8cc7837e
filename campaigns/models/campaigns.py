"""Campaigns, their labelers and their images, and the export job a finished campaign runs.

``CampaignImage`` points at its current submission and its last review by name
(``campaigns.models.submissions``, ``campaigns.models.reviews``), which import
this module and not the other way round.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.jobs import Job
from core.validators import TITLE_MAX_LENGTH

if TYPE_CHECKING:
    from campaigns.models.reviews import Review


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
    # ISO 2859-1 9.3.3 c (campaigns/switching.py): the responsible authority considers reduced inspection desirable.
    reduced_inspection = models.BooleanField(
        "reduced inspection allowed",
        default=True,
        help_text="Lots go to reduced inspection (smaller samples) once the switching score reaches 30; turning it "
        "off brings a campaign on reduced inspection back to normal at its next lot.",
    )
    # Gold images (campaigns/models/gold.py): a lot whose gold images score a pooled F1 below this is rejected.
    gold_min_f1 = models.DecimalField(
        "gold minimum F1",
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="A lot whose gold images score a pooled F1 below this (0 to 1) is rejected; empty: no gate.",
    )
    metadata = models.JSONField(null=True, blank=True)
    label_translations = models.JSONField(null=True, blank=True)
    # The label schema: null (any label) or ``[{"name", "colour", "description"}]`` (campaigns/label_schema.py).
    labels = models.JSONField(null=True, blank=True)
    # Agreement between agencies (campaigns/agreement.py): the campaign labeling the same images for another agency.
    consensus_with = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="compare with campaign",
        help_text="Another campaign labeling the same images for another agency: the statistics show how the two "
        "agree (per annotator too) and the export adds a COCO file of the boxes both agencies agree on.",
    )
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
        constraints = [
            models.CheckConstraint(
                condition=models.Q(gold_min_f1__isnull=True)
                | (models.Q(gold_min_f1__gte=0) & models.Q(gold_min_f1__lte=1)),
                name="campaigns_campaign_gold_min_f1_range",
            ),
        ]

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
        return f"image {self.image_id} in campaign {self.campaign_id}"

    @property
    def current_review(self) -> Review | None:
        """The latest decision when it judged the current revision (needs ``last_review`` loaded)."""
        review = self.last_review
        if review is None or review.submission_id != self.current_submission_id:
            return None
        return review


class CampaignJob(Job):
    """The export job started when a campaign is finished (one per campaign; retries reuse it)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="job")

    class Meta:
        verbose_name = "export job"
