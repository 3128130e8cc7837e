"""Vendor statistics you can invoice from: what an agency delivered, per campaign, over a date range.

Every figure is computed by the database: aggregate queries grouped by
campaign (medians too, with window functions), a fixed number of queries
however many images, boxes, revisions or campaigns are counted. The same
reads serve ``GET /campaigns/{id}/stats``, the admin pages and their CSV.

What the date range (``since`` inclusive, ``until`` exclusive) applies to:

- ``labeled``: images first labeled in the range; ``pending``: images
  awaiting review whose current revision arrived in the range; ``boxes``:
  the current boxes of images whose current revision arrived in the range;
- ``accepted``/``rejected``: images decided so in the range (each image
  counted once per decision); ``decisions``/``rejections``: every decision;
- ``revisions``: image revisions submitted in the range; ``rework_rounds``:
  rejections answered by a new revision in the range;
- the medians: from the campaign's activation to an image's first
  submission (images first labeled in the range) and from a rejection to
  the resubmission that answered it (answered in the range).

``images`` and ``unlabeled`` are the campaigns' state now, whatever the range.

Gold figures (``StatsReport.gold``, per campaign and ``None`` for the total;
``StatsReport.gold_weeks``): the latest score of each gold image whose
submission arrived in the range, pooled (``campaigns.gold.selectors``); per
week, every scored delivery of the week (first tries included), pooled.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from campaigns.gold.selectors import gold_by_campaign, gold_by_week
from campaigns.inputs import DateRange
from campaigns.models import BoundingBox, Campaign, CampaignImage, Review, ReviewState, Submission
from core.spreadsheet import spreadsheet_text

Decision = Review.Decision


@dataclass
class VendorStats:
    """The figures of one campaign, or of every campaign in a scope (``campaign_id=None``)."""

    campaign_id: int | None
    title: str
    images: int = 0
    unlabeled: int = 0
    labeled: int = 0
    pending: int = 0
    accepted: int = 0
    rejected: int = 0
    decisions: int = 0
    rejections: int = 0
    revisions: int = 0
    rework_rounds: int = 0
    boxes: int = 0
    boxes_per_label: dict[str, int] = field(default_factory=dict)
    median_first_submission: timedelta | None = None
    median_rework: timedelta | None = None

    @property
    def rejection_rate(self) -> float | None:
        return self.rejections / self.decisions if self.decisions else None

    def as_dict(self) -> dict:
        return {
            "images": self.images,
            "unlabeled": self.unlabeled,
            "labeled": self.labeled,
            "pending": self.pending,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "decisions": self.decisions,
            "rejections": self.rejections,
            "rejection_rate": None if self.rejection_rate is None else round(self.rejection_rate, 6),
            "revisions": self.revisions,
            "rework_rounds": self.rework_rounds,
            "boxes": self.boxes,
            "boxes_per_label": dict(sorted(self.boxes_per_label.items())),
            "median_seconds_to_first_submission": _seconds(self.median_first_submission),
            "median_seconds_to_resubmission": _seconds(self.median_rework),
        }


@dataclass
class StatsReport:
    """Per campaign rows and their total (medians of the total are over every row, not of the medians)."""

    rows: list[VendorStats]
    total: VendorStats
    # Gold images: {campaign id or None (the total): {"images", "scored", "precision", "recall", "f1", "mean_iou"}}
    # and the weeks' pooled figures (``campaigns.gold.selectors.gold_by_week``).
    gold: dict = field(default_factory=dict)
    gold_weeks: list[dict] = field(default_factory=list)

    def gold_of(self, stats: VendorStats) -> dict:
        """The gold figures of one row (or of the total, ``campaign_id=None``)."""
        return self.gold.get(stats.campaign_id) or {"images": 0, "scored": 0, **GOLD_NONE}


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def _in_range(prefix: str, dates: DateRange) -> Q:
    q = Q()
    if dates.since is not None:
        q &= Q(**{f"{prefix}__gte": dates.since})
    if dates.until is not None:
        q &= Q(**{f"{prefix}__lt": dates.until})
    return q


def _medians(
    rows: QuerySet, *, end: str, start: str, by_campaign: str, start_fixed_per_campaign: bool, one_campaign: bool
) -> dict[int | None, timedelta]:
    """The median of ``end - start`` per campaign and over all, in the database (row numbers in a window).

    One query per grouping: the rows ranked by duration within their group;
    only the middle one or two of each group come back, with their two
    dates, and only those are subtracted here. Where ``start`` is the same
    for every row of a campaign (its activation), ranking by ``end`` ranks
    by the duration: no expression is computed per row (on SQLite a
    duration is a Python function call per row).
    """
    duration = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    medians: dict[int | None, timedelta] = {}
    for partition in ([F(by_campaign)], []):
        by_end = start_fixed_per_campaign and (partition or one_campaign)
        order = [F(end).asc(), F("pk").asc()] if by_end else [duration.asc(), F("pk").asc()]
        ranked = (
            rows.order_by()
            .annotate(
                group_id=F(by_campaign),
                rank=Window(RowNumber(), partition_by=partition or None, order_by=order),
                group_size=Window(Count("pk"), partition_by=partition or None),
            )
            .filter(rank__gte=F("group_size") / 2.0, rank__lte=F("group_size") / 2.0 + 1)
            .values_list("group_id", end, start, "rank", "group_size")
        )
        middles: dict[int | None, list[timedelta]] = defaultdict(list)
        for group_id, end_value, start_value, rank, size in ranked:
            # Rows ``ceil(n/2)`` and ``floor(n/2) + 1``: the same row when n is odd.
            if rank in {(size + 1) // 2, size // 2 + 1}:
                middles[group_id if partition else None].append(end_value - start_value)
        for key, values in middles.items():
            medians[key] = sum(values, timedelta()) / len(values)
    return medians


def vendor_stats(*, campaigns: QuerySet[Campaign], dates: DateRange, agency=None, gold: bool = True) -> StatsReport:
    """The figures of each campaign of ``campaigns`` and their total; ``agency`` keeps only its submissions.

    ``gold``: with the gold figures (three queries more; the API's ``/stats`` has none).
    """
    listed = list(campaigns.order_by("pk").values_list("pk", "title"))
    rows = {pk: VendorStats(campaign_id=pk, title=title) for pk, title in listed}
    total = VendorStats(campaign_id=None, title="total")
    ids = list(rows)
    if not ids:
        return StatsReport(rows=[], total=total)

    images = CampaignImage.objects.filter(campaign_id__in=ids)
    for row in (
        images.values("campaign_id")
        .order_by()
        .annotate(
            n_images=Count("pk"),
            n_unlabeled=Count("pk", filter=Q(review_state=ReviewState.UNLABELED)),
            n_labeled=Count("pk", filter=Q(date_first_labeled__isnull=False) & _in_range("date_first_labeled", dates)),
            n_pending=Count("pk", filter=Q(review_state=ReviewState.PENDING) & _in_range("date_labeled", dates)),
        )
    ):
        stats = rows[row["campaign_id"]]
        stats.images, stats.unlabeled = row["n_images"], row["n_unlabeled"]
        stats.labeled, stats.pending = row["n_labeled"], row["n_pending"]

    reviews = Review.objects.filter(campaign_id__in=ids)
    for row in (
        reviews.values("campaign_id")
        .order_by()
        .annotate(
            n_decisions=Count("pk", filter=_in_range("date_created", dates)),
            n_rejections=Count("pk", filter=Q(decision=Decision.REJECTED) & _in_range("date_created", dates)),
            n_accepted=Count(
                "campaign_image", distinct=True, filter=Q(decision=Decision.ACCEPTED) & _in_range("date_created", dates)
            ),
            n_rejected=Count(
                "campaign_image", distinct=True, filter=Q(decision=Decision.REJECTED) & _in_range("date_created", dates)
            ),
            n_reworked=Count("pk", filter=Q(date_reworked__isnull=False) & _in_range("date_reworked", dates)),
        )
    ):
        stats = rows[row["campaign_id"]]
        stats.decisions, stats.rejections = row["n_decisions"], row["n_rejections"]
        stats.accepted, stats.rejected, stats.rework_rounds = row["n_accepted"], row["n_rejected"], row["n_reworked"]

    submissions = Submission.objects.filter(campaign_id__in=ids, source=Submission.Source.AGENCY).filter(
        _in_range("date_created", dates)
    )
    if agency is not None:
        submissions = submissions.filter(user=agency)
    for row in submissions.values("campaign_id").order_by().annotate(n=Sum("image_count")):
        rows[row["campaign_id"]].revisions = row["n"] or 0

    boxes = BoundingBox.objects.current().filter(campaign_image__campaign_id__in=ids)
    boxes = boxes.filter(_in_range("campaign_image__date_labeled", dates))
    for campaign_id, label, n in (
        boxes.values_list("campaign_image__campaign_id", "label").order_by().annotate(n=Count("pk"))
    ):
        stats = rows[campaign_id]
        stats.boxes_per_label[label] = n
        stats.boxes += n

    first_medians = _medians(
        images.filter(date_first_labeled__isnull=False, campaign__date_started__isnull=False).filter(
            _in_range("date_first_labeled", dates)
        ),
        end="date_first_labeled",
        start="campaign__date_started",
        by_campaign="campaign_id",
        start_fixed_per_campaign=True,
        one_campaign=len(ids) == 1,
    )
    rework_medians = _medians(
        reviews.filter(date_reworked__isnull=False).filter(_in_range("date_reworked", dates)),
        end="date_reworked",
        start="date_created",
        by_campaign="campaign_id",
        start_fixed_per_campaign=False,
        one_campaign=len(ids) == 1,
    )
    for pk, stats in rows.items():
        stats.median_first_submission = first_medians.get(pk)
        stats.median_rework = rework_medians.get(pk)
    _add_up(total, rows.values())
    total.median_first_submission = first_medians.get(None)
    total.median_rework = rework_medians.get(None)
    report = StatsReport(rows=list(rows.values()), total=total)
    if gold:
        gold_range = {"campaign_ids": ids, "since": dates.since, "until": dates.until}
        report.gold, report.gold_weeks = gold_by_campaign(**gold_range), gold_by_week(**gold_range)
    return report


COUNTED = (
    "images",
    "unlabeled",
    "labeled",
    "pending",
    "accepted",
    "rejected",
    "decisions",
    "rejections",
    "revisions",
    "rework_rounds",
    "boxes",
)


def _add_up(total: VendorStats, rows) -> None:
    for stats in rows:
        for name in COUNTED:
            setattr(total, name, getattr(total, name) + getattr(stats, name))
        for label, n in stats.boxes_per_label.items():
            total.boxes_per_label[label] = total.boxes_per_label.get(label, 0) + n


def campaign_stats(*, campaign_id: int, dates: DateRange) -> VendorStats:
    """The figures of one campaign (``GET /campaigns/{id}/stats``)."""
    return vendor_stats(campaigns=Campaign.objects.filter(pk=campaign_id), dates=dates, gold=False).total


def agency_stats(*, agency, dates: DateRange) -> StatsReport:
    """The figures of every campaign the agency labels, one row each, and their total."""
    return vendor_stats(campaigns=Campaign.objects.filter(labelers=agency), dates=dates, agency=agency)


GOLD_NONE = {"precision": None, "recall": None, "f1": None, "mean_iou": None}
GOLD_COLUMNS = ("images", "scored", "precision", "recall", "f1", "mean_iou")
CSV_COLUMNS = (
    "campaign_id",
    "campaign",
    *COUNTED,
    "rejection_rate",
    "median_seconds_to_first_submission",
    "median_seconds_to_resubmission",
    "boxes_per_label",
    *(f"gold_{name}" for name in GOLD_COLUMNS),
)


def stats_csv(report: StatsReport) -> str:
    """The report as CSV: one line per campaign and a total line; boxes per label as ``label=n;...``.

    A cell that a spreadsheet would read as a formula (a label starting, after
    any whitespace, with ``=``, ``+``, ``-``, ``@`` or their full-width forms)
    is written with a leading ``'`` (``core.spreadsheet``).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for stats in [*report.rows, report.total]:
        figures = stats.as_dict()
        writer.writerow(
            [
                stats.campaign_id if stats.campaign_id is not None else "",
                spreadsheet_text(stats.title),
                *(figures[name] for name in COUNTED),
                "" if figures["rejection_rate"] is None else figures["rejection_rate"],
                ""
                if figures["median_seconds_to_first_submission"] is None
                else figures["median_seconds_to_first_submission"],
                "" if figures["median_seconds_to_resubmission"] is None else figures["median_seconds_to_resubmission"],
                spreadsheet_text(";".join(f"{label}={n}" for label, n in sorted(stats.boxes_per_label.items()))),
                *_gold_cells(report.gold_of(stats)),
            ]
        )
    return out.getvalue()


def _gold_cells(gold: dict) -> list:
    cells = []
    for name in GOLD_COLUMNS:
        value = gold[name]
        cells.append("" if value is None else round(value, 6) if isinstance(value, float) else value)
    return cells
