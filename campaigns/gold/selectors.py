"""Reads of gold images and their scores: the gold list, a campaign's quality, a lot's figures, the scorecard.

Every figure is pooled in the database (``SUM`` of the true positives, false
positives, false negatives, IoU sums and matched pairs of the images' latest
scores) and divided here by ``campaigns.scoring.figures``: a fixed number of
queries however many gold images are scored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncWeek

from campaigns.models import GoldBox, GoldImage, GoldScore, GoldScoreLabel
from campaigns.scoring import LabelCounts, figures, label_figures

COUNTS = ("tp", "fp", "fn", "matched")


def _sums(prefix: str = "", **filters) -> dict:
    """``SUM`` of each count over the rows (0 for none), and of the IoUs; ``prefix`` reaches the score."""
    sums = {name: Coalesce(Sum(f"{prefix}{name}", **filters), 0) for name in COUNTS}
    sums["iou_sum"] = Coalesce(Sum(f"{prefix}iou_sum", **filters), 0.0)
    return sums


def _figures_of(row: dict) -> dict[str, float | None]:
    return figures(tp=row["tp"], fp=row["fp"], fn=row["fn"], iou_sum=row["iou_sum"], matched=row["matched"])


def gold_image_ids(*, campaign_id: int) -> set[int]:
    """The ids of the campaign's gold images (image ids, as the API names them)."""
    return set(GoldImage.objects.filter(campaign_id=campaign_id).values_list("image_id", flat=True))


def gold_lot_figures(*, campaign_id: int, image_ids: Iterable[int]) -> dict | None:
    """``{"images", "f1"}`` pooled over the scored gold images among ``image_ids`` (image ids); None for none.

    ``images`` counts the gold images with a score (delivered); their latest
    scores are pooled. One query: ``image_ids`` as a QuerySet of ids is a
    subquery; another iterable is intersected here with the campaign's
    scored gold images (a lot may hold more images than a query may bind).
    """
    scores = GoldScore.objects.filter(campaign_id=campaign_id, latest=True)
    if isinstance(image_ids, QuerySet):
        row = scores.filter(gold__image_id__in=image_ids).aggregate(images=Count("pk"), **_sums())
    else:
        wanted = set(image_ids)
        row = {"images": 0, "tp": 0, "fp": 0, "fn": 0, "matched": 0, "iou_sum": 0.0}
        for image_id, tp, fp, fn in scores.values_list("gold__image_id", "tp", "fp", "fn"):
            if image_id in wanted:
                row["images"] += 1
                row["tp"] += tp
                row["fp"] += fp
                row["fn"] += fn
    if not row["images"]:
        return None
    return {"images": row["images"], "f1": _figures_of(row)["f1"]}


def gold_list(*, campaign_id: int) -> QuerySet[GoldImage]:
    """The campaign's gold images by image id, each with its reference (``boxes``) and ``latest_scores``."""
    return (
        GoldImage.objects.filter(campaign_id=campaign_id)
        .order_by("image_id")
        .prefetch_related(
            Prefetch("boxes", queryset=GoldBox.objects.order_by("position")),
            Prefetch("scores", queryset=GoldScore.objects.filter(latest=True), to_attr="latest_scores"),
        )
    )


def gold_admin_list() -> QuerySet[GoldImage]:
    """Every gold image for the admin's list: its campaign, its reference's size and latest F1 (one query a page)."""
    latest = GoldScore.objects.filter(gold=OuterRef("pk"), latest=True)
    return (
        GoldImage.objects.select_related("campaign", "image", "source_campaign")
        .annotate(box_count=Count("boxes", distinct=True), latest_f1=Subquery(latest.values("f1")[:1]))
        .order_by("campaign_id", "image_id")
    )


def gold_count(*, campaign_id: int) -> int:
    return GoldImage.objects.filter(campaign_id=campaign_id).count()


def campaign_quality(*, campaign_id: int) -> dict:
    """``GET /campaigns/{id}/quality``'s ``gold``: pooled figures of the latest scores, and per label. Two queries."""
    latest = Q(scores__latest=True)
    row = GoldImage.objects.filter(campaign_id=campaign_id).aggregate(
        images=Count("pk", distinct=True),
        scored=Count("scores", filter=latest),
        **_sums("scores__", filter=latest),
    )
    by_label = {
        item["label"]: label_figures(LabelCounts(tp=item["tp"], fp=item["fp"], fn=item["fn"]))
        for item in GoldScoreLabel.objects.filter(score__campaign_id=campaign_id, score__latest=True)
        .values("label")
        .order_by("label")
        .annotate(tp=Sum("tp"), fp=Sum("fp"), fn=Sum("fn"))
    }
    pooled = _figures_of(row) if row["scored"] else dict.fromkeys(("precision", "recall", "f1", "mean_iou"))
    return {"images": row["images"], "scored": row["scored"], **pooled, "by_label": by_label}


# --- the scorecard ------------------------------------------------------------------


def gold_by_campaign(*, campaign_ids: list[int], since: datetime | None, until: datetime | None) -> dict:
    """Per campaign (and ``None``: all of them) ``{"images", "scored", "precision", "recall", "f1", "mean_iou"}``.

    The latest scores whose submission arrived in the range (``since``
    inclusive, ``until`` exclusive; ``images``: the campaigns' gold images
    now, whatever the range). Two queries.
    """
    scores = GoldScore.objects.filter(campaign_id__in=campaign_ids, latest=True).filter(_in_range(since, until))
    images = dict(
        GoldImage.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("campaign_id", "n")
    )
    result: dict[int | None, dict] = {}
    total = {"scored": 0, "tp": 0, "fp": 0, "fn": 0, "matched": 0, "iou_sum": 0.0}
    for row in scores.values("campaign_id").order_by().annotate(scored=Count("pk"), **_sums()):
        result[row["campaign_id"]] = {"images": images.get(row["campaign_id"], 0), "scored": row["scored"]}
        result[row["campaign_id"]].update(_figures_of(row))
        for name in total:
            total[name] += row[name]
    for campaign_id, n in images.items():
        result.setdefault(campaign_id, {"images": n, "scored": 0, **_no_figures()})
    result[None] = {"images": sum(images.values()), "scored": total["scored"]}
    result[None].update(_figures_of(total) if total["scored"] else _no_figures())
    return result


def gold_by_week(*, campaign_ids: list[int], since: datetime | None, until: datetime | None) -> list[dict]:
    """Every score (each delivery of a gold image, superseded ones too) pooled per week of its submission.

    ``[{"week": date of the Monday, "scored", "precision", "recall", "f1", "mean_iou"}]``, oldest
    week first: how the agency did on what it delivered that week, first tries included. One query.
    """
    rows = (
        GoldScore.objects.filter(campaign_id__in=campaign_ids)
        .filter(_in_range(since, until))
        .annotate(week=TruncWeek("date_submitted"))
        .values("week")
        .order_by("week")
        .annotate(scored=Count("pk"), **_sums())
    )
    return [
        {"week": row["week"].date() if isinstance(row["week"], datetime) else row["week"], "scored": row["scored"]}
        | _figures_of(row)
        for row in rows
    ]


def _no_figures() -> dict:
    return dict.fromkeys(("precision", "recall", "f1", "mean_iou"))


def _in_range(since: datetime | None, until: datetime | None) -> Q:
    q = Q()
    if since is not None:
        q &= Q(date_submitted__gte=since)
    if until is not None:
        q &= Q(date_submitted__lt=until)
    return q
