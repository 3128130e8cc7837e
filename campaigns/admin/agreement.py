"""The vendor statistics' agreement and per-annotator part (``stats_annotators.html``), and the review page's
walk through the images two agencies disagree on."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from campaigns.agreement import disagreement_walk, iou_threshold
from campaigns.annotators import annotator_scorecard, campaign_agreements
from campaigns.inputs import DateRange
from campaigns.models import Campaign


def review_walk_url(campaign_id: int, other_id: int) -> str:
    """The review page walking the images the two campaigns disagree on, lowest F1 first."""
    return f"{reverse('admin:campaigns_campaign_review', args=[campaign_id])}?disagree_with={other_id}"


@dataclass(frozen=True)
class WalkPlace:
    """An image's place in a walk through the disagreements (as ``review_place`` answers for a filter)."""

    position: int | None
    previous_id: int | None
    next_id: int | None
    total: int
    f1: float | None


def walk_first(*, campaign_id: int, other_id: int) -> int | None:
    """The image the two campaigns disagree on most (the walk computed afresh), or None."""
    walk = disagreement_walk(campaign_id=campaign_id, other_id=other_id, refresh=True)
    return walk[0][0] if walk else None


def walk_place(*, campaign_id: int, other_id: int, image_id: int) -> WalkPlace:
    walk = disagreement_walk(campaign_id=campaign_id, other_id=other_id)
    ids = [walked for walked, _ in walk]
    if image_id not in ids:
        return WalkPlace(position=None, previous_id=None, next_id=ids[0] if ids else None, total=len(ids), f1=None)
    index = ids.index(image_id)
    return WalkPlace(
        position=index + 1,
        previous_id=ids[index - 1] if index > 0 else None,
        next_id=ids[index + 1] if index + 1 < len(ids) else None,
        total=len(ids),
        f1=walk[index][1],
    )


def walk_banner(*, other_id: int, image_id: int, place: WalkPlace, leave_url: str) -> dict:
    """What the review page says of the walk: the other campaign (and its boxes on this image), this image's F1,
    the way out."""
    other = Campaign.objects.filter(pk=other_id).values_list("title", flat=True).first()
    return {
        "other_title": other or f"campaign {other_id}",
        "other_url": reverse("admin:campaigns_campaign_change", args=[other_id]) if other else None,
        "their_url": reverse("admin:campaigns_campaign_review_image", args=[other_id, image_id]) if other else None,
        "f1": place.f1,
        "total": place.total,
        "leave_url": leave_url,
    }


def agreement_context(*, campaigns: list[Campaign], dates: DateRange, agency=None) -> dict:
    """``agreements`` (one per campaign compared with another) and ``annotators`` (the per-annotator table, only
    when some delivery named one) for the statistics page."""
    titles = dict(
        Campaign.objects.filter(pk__in=[c.consensus_with_id for c in campaigns if c.consensus_with_id]).values_list(
            "pk", "title"
        )
    )
    by_id = {campaign.pk: campaign for campaign in campaigns}
    agreements = campaign_agreements(campaigns=campaigns)
    shown = []
    for agreement in agreements:
        figures = agreement.total.figures()
        shown.append(
            {
                "campaign": by_id[agreement.campaign_id],
                "other": {"pk": agreement.other_id, "title": titles.get(agreement.other_id, agreement.other_id)},
                "other_url": reverse("admin:campaigns_campaign_stats", args=[agreement.other_id]),
                "images": agreement.images,
                "f1": figures["f1"],
                "mean_iou": figures["mean_iou"],
                "by_label": agreement.label_figures(),
                "disagreements": len(agreement.disagreements),
                "walk_url": review_walk_url(agreement.campaign_id, agreement.other_id),
            }
        )
    rows = annotator_scorecard(campaigns=campaigns, dates=dates, agency=agency, agreements=agreements)
    return {
        "agreements": shown,
        "iou_threshold": iou_threshold(),
        "annotators": rows if any(row.annotator for row in rows) else [],
    }
