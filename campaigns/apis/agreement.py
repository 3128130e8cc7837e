"""Agreement between agencies and figures per annotator.

``GET /campaigns/{id}/agreement?with=`` (image-admins): how two campaigns
labeling the same images agree (``campaigns.agreement``);
``GET /campaigns/{id}/annotators`` (image-admins and the campaign's
labeler): the review figures of each annotator the agency named
(``campaigns.annotators``).
"""

from __future__ import annotations

import math

from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import agreement, annotators, inputs, openapi, selectors
from campaigns.permissions import IsImageAdminOrCampaignLabeler
from core.pagination import MAX_PER_PAGE
from core.serializers import format_datetime


def _rounded(figure: float | None) -> float | None:
    """Six places, as the quality figures are given."""
    return None if figure is None else round(figure, 6)


def list_page(items: list, *, page: int, per_page: int) -> tuple[list, dict]:
    """One page of a list computed whole, and the contract's pagination object for it."""
    total = len(items)
    pages = max(1, math.ceil(total / per_page))
    start = (page - 1) * per_page
    position = {
        "page": page,
        "pages": pages,
        "total": total,
        "per_page": per_page,
        "next": page + 1 if page < pages else None,
        "prev": min(page - 1, pages) if page > 1 else None,
    }
    return items[start : start + per_page], position


class CampaignAgreementApi(APIView):
    """``GET /campaigns/{id}/agreement?with=<campaign id>&page=&per_page=``."""

    @openapi.CAMPAIGNS_AGREEMENT
    def get(self, request, campaign_id: int):
        query = inputs.parse_agreement_query(request.query_params, campaign_id=campaign_id)
        agreement.check_campaigns(campaign_id=campaign_id, other_id=query.other_id)
        result = agreement.campaign_agreement_cached(campaign_id=campaign_id, other_id=query.other_id)
        disagreements, position = list_page(result.disagreements, page=query.page, per_page=query.per_page)
        figures = result.total.figures()
        return Response(
            {
                "campaign_id": campaign_id,
                "with_campaign_id": query.other_id,
                "iou_threshold": result.threshold,
                "images": result.images,
                "f1": _rounded(figures["f1"]),
                "mean_iou": _rounded(figures["mean_iou"]),
                "by_label": {label: {"f1": _rounded(f["f1"])} for label, f in result.label_figures().items()},
                "pagination": position,
                "disagreements": [{"image_id": image_id, "f1": _rounded(f1)} for image_id, f1 in disagreements],
            }
        )


class CampaignAnnotatorsApi(APIView):
    """``GET /campaigns/{id}/annotators?since=&until=&page=&per_page=`` (the campaign's labeler too)."""

    permission_classes = [IsImageAdminOrCampaignLabeler]

    @openapi.CAMPAIGNS_ANNOTATORS
    def get(self, request, campaign_id: int):
        dates = inputs.parse_date_range(request.query_params)
        page, per_page = inputs.parse_page(request.query_params, default_per_page=MAX_PER_PAGE)
        if not getattr(self, "campaign_exists", False):  # a labeler's binding already proved it
            selectors.campaign_ensure_exists(campaign_id=campaign_id)
        rows = annotators.annotator_review_figures(campaign_ids=[campaign_id], dates=dates)
        shown, position = list_page(rows, page=page, per_page=per_page)
        return Response(
            {
                "campaign_id": campaign_id,
                "since": format_datetime(dates.since) if dates.since else None,
                "until": format_datetime(dates.until) if dates.until else None,
                "pagination": position,
                "annotators": [row.review_dict() for row in shown],
            }
        )


__all__ = ["CampaignAgreementApi", "CampaignAnnotatorsApi"]
