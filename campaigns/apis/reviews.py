"""Review of deliveries (image-admins only): decisions, acceptance samples and vendor statistics.

``/campaigns/{id}/reviews`` (list, decide), ``/campaigns/{id}/samples``
(list, draw), ``/campaigns/{id}/samples/{sample_id}`` (read),
``.../decision`` (accept or reject the lot) and ``/campaigns/{id}/stats``.
"""

from __future__ import annotations

from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import Actor
from campaigns import inputs, openapi, selectors, stats
from campaigns.serializers import (
    LotDecisionInputSerializer,
    ReviewOutputSerializer,
    SampleInputSerializer,
    SampleOutputSerializer,
)
from campaigns.services import reviews_decide, sample_decide_lot, sample_start
from core.serializers import format_datetime


@openapi.CAMPAIGNS_REVIEWS_LIST
class CampaignReviewsApi(ListAPIView):
    """``GET /campaigns/{id}/reviews`` (paginated, key ``reviews``) and ``PUT`` (decide)."""

    items_key = "reviews"
    default_per_page = 1000
    serializer_class = ReviewOutputSerializer

    def get_queryset(self):
        campaign_id = self.kwargs["campaign_id"]
        filters = inputs.parse_review_filters(self.request.query_params)
        selectors.campaign_ensure_exists(campaign_id=campaign_id)
        return selectors.review_list(campaign_id=campaign_id, filters=filters)

    @openapi.CAMPAIGNS_REVIEWS_DECIDE
    def put(self, request, campaign_id: int):
        reviews = inputs.parse_review_items(request.data)
        reviews_decide(campaign_id=campaign_id, reviews=reviews, actor=Actor.of_request(request))
        return Response("ok")


@openapi.CAMPAIGNS_SAMPLES_LIST
class CampaignSamplesApi(ListAPIView):
    """``GET /campaigns/{id}/samples`` (paginated, key ``samples``) and ``POST`` (draw one)."""

    items_key = "samples"
    serializer_class = SampleOutputSerializer

    def get_queryset(self):
        campaign_id = self.kwargs["campaign_id"]
        selectors.campaign_ensure_exists(campaign_id=campaign_id)
        return selectors.sample_list(campaign_id=campaign_id)

    @openapi.CAMPAIGNS_SAMPLES_START
    def post(self, request, campaign_id: int):
        serializer = SampleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = serializer.validated_data
        sample = sample_start(campaign_id=campaign_id, new=new, actor=Actor.of_request(request))
        return _sample_response(campaign_id, sample.pk)


def _sample_response(campaign_id: int, sample_id: int) -> Response:
    sample = selectors.sample_get(campaign_id=campaign_id, sample_id=sample_id)
    image_ids = [image_id for image_id, _ in selectors.sample_image_ids(sample=sample)]
    return Response(SampleOutputSerializer(sample, context={"image_ids": image_ids}).data)


class CampaignSampleApi(APIView):
    """``GET /campaigns/{id}/samples/{sample_id}``."""

    @openapi.CAMPAIGNS_SAMPLES_RETRIEVE
    def get(self, request, campaign_id: int, sample_id: int):
        return _sample_response(campaign_id, sample_id)


class CampaignSampleDecisionApi(APIView):
    """``POST /campaigns/{id}/samples/{sample_id}/decision``."""

    @openapi.CAMPAIGNS_SAMPLES_DECIDE
    def post(self, request, campaign_id: int, sample_id: int):
        serializer = LotDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = serializer.validated_data
        sample_decide_lot(
            campaign_id=campaign_id, sample_id=sample_id, decision=decision, actor=Actor.of_request(request)
        )
        return _sample_response(campaign_id, sample_id)


class CampaignStatsApi(APIView):
    """``GET /campaigns/{id}/stats?since=&until=``."""

    @openapi.CAMPAIGNS_STATS
    def get(self, request, campaign_id: int):
        dates = inputs.parse_date_range(request.query_params)
        selectors.campaign_ensure_exists(campaign_id=campaign_id)
        figures = stats.campaign_stats(campaign_id=campaign_id, dates=dates)
        return Response(
            {
                "campaign_id": campaign_id,
                "since": format_datetime(dates.since) if dates.since else None,
                "until": format_datetime(dates.until) if dates.until else None,
                **figures.as_dict(),
            }
        )


__all__ = [
    "CampaignReviewsApi",
    "CampaignSampleApi",
    "CampaignSampleDecisionApi",
    "CampaignSamplesApi",
    "CampaignStatsApi",
]
