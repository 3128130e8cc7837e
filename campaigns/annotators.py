"""Figures per annotator: the agency's own worker ids (``annotator`` in ``PUT /campaigns/{id}/objects``).

An agency may name, per image, who labeled it; each annotator's images of
one delivery are stored as one submission with that ``annotator`` (images
naming none: ``""``, shown as ``null``). Every figure follows the
submission, so it is the annotator of the revision it judges:

- ``images``: images whose current revision is theirs, now; ``pending``:
  those of them awaiting review, now;
- ``delivered``: image revisions they delivered in the period (a
  resubmission counts again: the vendor statistics' "revisions");
- ``accepted``/``rejected``: images whose revision by them was accepted
  (rejected) in the period, each image once per decision, as the vendor
  statistics count them; ``decisions``/``rejections``: every decision on
  their revisions, and ``rejection_rate`` the one over the other.

That is ``GET /campaigns/{id}/annotators``, for the agency and staff, and
the review columns of the admin's statistics. Staff also see there, per
annotator, the gold figures (``gold_by_annotator``: every scored delivery
of a gold image in the period, pooled; never shown to the agency, since it
would tell which images are gold) and the agreement with the campaign the
campaign is compared with (``agreement_by_annotator``: the annotator of the
campaign's current revision on each shared image, ``campaigns.agreement``).

The review figures are three aggregate queries and the gold figures one,
however many campaigns, images and annotators; agreement costs three
streamed queries per campaign compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from campaigns.agreement import Agreement, Counts, campaign_agreement_cached
from campaigns.inputs import DateRange
from campaigns.models import Campaign, CampaignImage, GoldScore, Review, ReviewState, Submission
from campaigns.scoring import figures

Decision = Review.Decision
ALL_TIME = DateRange()


@dataclass
class AnnotatorFigures:
    """One annotator's figures (``annotator`` ``""``: the images whose delivery named none)."""

    annotator: str
    images: int = 0
    pending: int = 0
    delivered: int = 0
    accepted: int = 0
    rejected: int = 0
    decisions: int = 0
    rejections: int = 0
    # Staff only: pooled gold figures ({"images", "precision", "recall", "f1", "mean_iou"}) and agreement
    # ({"images", "f1", "mean_iou"}); None when there is nothing to pool.
    gold: dict | None = None
    agreement: dict | None = None

    @property
    def rejection_rate(self) -> float | None:
        return self.rejections / self.decisions if self.decisions else None

    def review_dict(self) -> dict:
        """The figures the agency reads (``GET /campaigns/{id}/annotators``)."""
        return {
            "annotator": self.annotator or None,
            "images": self.images,
            "pending": self.pending,
            "delivered": self.delivered,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "decisions": self.decisions,
            "rejections": self.rejections,
            "rejection_rate": None if self.rejection_rate is None else round(self.rejection_rate, 6),
        }


def _in_range(prefix: str, dates: DateRange) -> Q:
    q = Q()
    if dates.since is not None:
        q &= Q(**{f"{prefix}__gte": dates.since})
    if dates.until is not None:
        q &= Q(**{f"{prefix}__lt": dates.until})
    return q


def _ordered(figures_by_annotator: dict[str, AnnotatorFigures]) -> list[AnnotatorFigures]:
    """By annotator id; the images naming none last."""
    return sorted(figures_by_annotator.values(), key=lambda row: (row.annotator == "", row.annotator))


def annotator_review_figures(
    *, campaign_ids: Iterable[int], dates: DateRange = ALL_TIME, agency=None
) -> list[AnnotatorFigures]:
    """The review figures of every annotator of the campaigns' agency deliveries (three queries).

    ``agency`` keeps only that user's submissions (the scorecard of one agency across its campaigns).
    """
    ids = list(campaign_ids)
    rows: dict[str, AnnotatorFigures] = {}

    def row(annotator: str) -> AnnotatorFigures:
        return rows.setdefault(annotator, AnnotatorFigures(annotator=annotator))

    agency_submission = Q(submission__source=Submission.Source.AGENCY)
    if agency is not None:
        agency_submission &= Q(submission__user=agency)

    current = CampaignImage.objects.filter(campaign_id__in=ids, current_submission__source=Submission.Source.AGENCY)
    if agency is not None:
        current = current.filter(current_submission__user=agency)
    for item in (
        current.values("current_submission__annotator")
        .order_by()
        .annotate(n=Count("pk"), n_pending=Count("pk", filter=Q(review_state=ReviewState.PENDING)))
    ):
        figures_of = row(item["current_submission__annotator"])
        figures_of.images, figures_of.pending = item["n"], item["n_pending"]

    submissions = Submission.objects.filter(campaign_id__in=ids, source=Submission.Source.AGENCY)
    if agency is not None:
        submissions = submissions.filter(user=agency)
    for annotator, n in (
        submissions.filter(_in_range("date_created", dates))
        .values("annotator")
        .order_by()
        .annotate(n=Coalesce(Sum("image_count"), 0))
        .values_list("annotator", "n")
    ):
        row(annotator).delivered = n

    for item in (
        Review.objects.filter(campaign_id__in=ids)
        .filter(agency_submission, _in_range("date_created", dates))
        .values("submission__annotator")
        .order_by()
        .annotate(
            n_decisions=Count("pk"),
            n_rejections=Count("pk", filter=Q(decision=Decision.REJECTED)),
            n_accepted=Count("campaign_image", distinct=True, filter=Q(decision=Decision.ACCEPTED)),
            n_rejected=Count("campaign_image", distinct=True, filter=Q(decision=Decision.REJECTED)),
        )
    ):
        figures_of = row(item["submission__annotator"])
        figures_of.decisions, figures_of.rejections = item["n_decisions"], item["n_rejections"]
        figures_of.accepted, figures_of.rejected = item["n_accepted"], item["n_rejected"]
    return _ordered(rows)


def gold_by_annotator(*, campaign_ids: Iterable[int], dates: DateRange = ALL_TIME, agency=None) -> dict[str, dict]:
    """Per annotator, every score of a gold image delivered in the period, pooled (one query). Staff only."""
    scores = GoldScore.objects.filter(campaign_id__in=list(campaign_ids)).filter(_in_range("date_submitted", dates))
    if agency is not None:
        scores = scores.filter(submission__user=agency)
    result = {}
    for item in (
        scores.values("submission__annotator")
        .order_by()
        .annotate(
            images=Count("pk"),
            tp=Coalesce(Sum("tp"), 0),
            fp=Coalesce(Sum("fp"), 0),
            fn=Coalesce(Sum("fn"), 0),
            matched=Coalesce(Sum("matched"), 0),
            iou_sum=Coalesce(Sum("iou_sum"), 0.0),
        )
    ):
        pooled = figures(tp=item["tp"], fp=item["fp"], fn=item["fn"], iou_sum=item["iou_sum"], matched=item["matched"])
        result[item["submission__annotator"]] = {"images": item["images"], **pooled}
    return result


def campaign_agreements(*, campaigns: Iterable[Campaign]) -> list[Agreement]:
    """The agreement of each campaign that names a campaign to compare with (``campaign_agreement_cached``:
    one query each when cached, four when computed)."""
    return [
        campaign_agreement_cached(campaign_id=campaign.pk, other_id=campaign.consensus_with_id)
        for campaign in campaigns
        if campaign.consensus_with_id is not None
    ]


def agreement_by_annotator(agreements: Iterable[Agreement]) -> dict[str, dict]:
    """Per annotator of the compared campaigns, the agreement counts pooled over them. Staff only."""
    pooled: dict[str, Counts] = {}
    for agreement in agreements:
        for annotator, counts in agreement.by_annotator.items():
            total = pooled.setdefault(annotator, Counts())
            total.images += counts.images
            total.tp, total.fp, total.fn = total.tp + counts.tp, total.fp + counts.fp, total.fn + counts.fn
            total.iou_sum += counts.iou_sum
    return {annotator: {"images": counts.images, **counts.figures()} for annotator, counts in pooled.items()}


def annotator_scorecard(
    *, campaigns: list[Campaign], dates: DateRange, agency=None, agreements: list[Agreement] | None = None
) -> list[AnnotatorFigures]:
    """The staff's table: review, gold and agreement figures per annotator of these campaigns.

    ``agreements``: those of ``campaign_agreements(campaigns=campaigns)``, when the caller has them already.
    """
    ids = [campaign.pk for campaign in campaigns]
    if agreements is None:
        agreements = campaign_agreements(campaigns=campaigns)
    rows = {row.annotator: row for row in annotator_review_figures(campaign_ids=ids, dates=dates, agency=agency)}
    for annotator, gold in gold_by_annotator(campaign_ids=ids, dates=dates, agency=agency).items():
        rows.setdefault(annotator, AnnotatorFigures(annotator=annotator)).gold = gold
    for annotator, agreement in agreement_by_annotator(agreements).items():
        rows.setdefault(annotator, AnnotatorFigures(annotator=annotator)).agreement = agreement
    return _ordered(rows)
