"""The campaign figures ``/metrics`` serves (registered with ``core.metrics.gauges.register_domain_gauges``).

The original service exported labeled images, boxes per image, unlabeled
images and the storage size; these are the same figures, read in one query
(``domain_gauges``) and cached by ``core.metrics.gauges`` for a scrape interval.
"""

from __future__ import annotations

from django.db import connection, models
from django.db.models import F, Func, QuerySet
from django.db.models.functions import Coalesce

from campaigns.models import BoundingBox, Campaign, CampaignImage
from core.metrics.gauges import DomainGauge
from imagesets.models import Image


def _count(queryset: QuerySet) -> QuerySet:
    # A plain COUNT in the SELECT: a Func, not an aggregate, so Django adds no GROUP BY.
    return queryset.order_by().annotate(value=Func(F("pk"), function="COUNT")).values("value")


def _sum(queryset: QuerySet, field: str) -> QuerySet:
    total = Func(F(field), function="SUM", output_field=models.BigIntegerField())
    return queryset.order_by().annotate(value=Coalesce(total, 0)).values("value")


def _one_row(columns: dict[str, QuerySet]) -> dict[str, int]:
    """``SELECT (q1) AS a, (q2) AS b, ...``: one query, one row, whatever the tables hold.

    Each scalar subquery is uncorrelated, so PostgreSQL (an InitPlan) and
    SQLite both run it once; the ORM writes each, so column and table names
    stay the models'.
    """
    selects, params = [], []
    for name, queryset in columns.items():
        sql, values = queryset.query.sql_with_params()
        selects.append(f"({sql}) AS {connection.ops.quote_name(name)}")
        params.extend(values)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selects)}", params)
        return dict(zip(columns, cursor.fetchone(), strict=True))


def domain_gauges() -> list[DomainGauge]:
    """Campaigns by status, images awaiting labeling, labeled images, their boxes, stored image bytes: one query."""
    statuses = list(Campaign.Status)
    row = _one_row(
        {
            **{f"campaigns_{status.value}": _count(Campaign.objects.filter(status=status)) for status in statuses},
            # Never labeled, or rejected and not labeled again: what the agency still owes.
            "awaiting": _count(CampaignImage.objects.filter(campaign__status=Campaign.Status.ACTIVE, labeled=False)),
            "labeled": _count(CampaignImage.objects.filter(labeled=True)),
            # The boxes of labeled images' current revisions, so boxes / labeled is boxes per labeled image.
            "boxes": _count(BoundingBox.objects.current().filter(campaign_image__labeled=True)),
            "image_bytes": _sum(Image.objects.all(), "filesize"),
        }
    )
    labeled, boxes = row["labeled"], row["boxes"]
    return [
        DomainGauge(
            "labelhub_campaigns",
            "Campaigns, by status.",
            tuple(((status.value,), float(row[f"campaigns_{status.value}"])) for status in statuses),
            labels=("status",),
        ),
        DomainGauge.single(
            "labelhub_campaign_images_awaiting_labeling",
            "Images of active campaigns not labeled (never labeled, or rejected and not labeled again).",
            row["awaiting"],
        ),
        DomainGauge.single(
            "labelhub_campaign_images_labeled",
            "Campaign images labeled, in campaigns of every status (an image in two campaigns counts twice).",
            labeled,
        ),
        DomainGauge.single(
            "labelhub_campaign_boxes",
            "Boxes of the current revision of labeled campaign images.",
            boxes,
        ),
        DomainGauge.single(
            "labelhub_campaign_boxes_per_labeled_image",
            "labelhub_campaign_boxes / labelhub_campaign_images_labeled (0 when nothing is labeled).",
            boxes / labeled if labeled else 0.0,
        ),
        DomainGauge.single(
            "labelhub_images_stored_bytes",
            "Bytes of every stored image file (files of unknown size count 0).",
            row["image_bytes"],
        ),
    ]
