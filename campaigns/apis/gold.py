"""Gold images and quality (image-admins only; nothing here is ever open to the agency).

``/campaigns/{id}/gold`` (list, give), ``/campaigns/{id}/gold/{image_id}`` (remove),
``/campaigns/{id}/gold/from_campaign`` (copy from an earlier campaign) and
``/campaigns/{id}/quality``.
"""

from __future__ import annotations

from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import Actor
from campaigns import inputs, openapi, selectors, services
from campaigns.gold import selectors as gold_selectors
from campaigns.serializers import (
    GoldCopiedOutputSerializer,
    GoldCopyInputSerializer,
    GoldImageOutputSerializer,
    GoldUpdatedOutputSerializer,
    QualityOutputSerializer,
)
from core.serializers import validated


@openapi.CAMPAIGNS_GOLD_LIST
class CampaignGoldApi(ListAPIView):
    """``GET /campaigns/{id}/gold`` (paginated, key ``gold``) and ``PUT`` (give references)."""

    items_key = "gold"
    default_per_page = 100
    serializer_class = GoldImageOutputSerializer

    def get_queryset(self):
        campaign_id = self.kwargs["campaign_id"]
        selectors.campaign_ensure_exists(campaign_id=campaign_id)
        return gold_selectors.gold_list(campaign_id=campaign_id)

    @openapi.CAMPAIGNS_GOLD_REPLACE
    def put(self, request, campaign_id: int):
        objects_by_image = inputs.parse_gold_items(request.data)
        given = services.gold_replace(
            campaign_id=campaign_id, objects_by_image=objects_by_image, actor=Actor.of_request(request)
        )
        images = gold_selectors.gold_count(campaign_id=campaign_id)
        return Response(GoldUpdatedOutputSerializer({"given": given, "images": images}).data)


class CampaignGoldImageApi(APIView):
    """``DELETE /campaigns/{id}/gold/{image_id}``."""

    @openapi.CAMPAIGNS_GOLD_DESTROY
    def delete(self, request, campaign_id: int, image_id: int):
        services.gold_delete(campaign_id=campaign_id, image_id=image_id, actor=Actor.of_request(request))
        return Response(status=204)


class CampaignGoldCopyApi(APIView):
    """``POST /campaigns/{id}/gold/from_campaign`` ``{"campaign_id": <earlier>, "image_ids"?: [...]}``."""

    @openapi.CAMPAIGNS_GOLD_FROM_CAMPAIGN
    def post(self, request, campaign_id: int):
        copy = validated(GoldCopyInputSerializer, request.data)
        image_ids = services.gold_copy_from_campaign(
            campaign_id=campaign_id,
            source_campaign_id=copy.campaign_id,
            image_ids=copy.image_ids,
            actor=Actor.of_request(request),
        )
        images = gold_selectors.gold_count(campaign_id=campaign_id)
        return Response(
            GoldCopiedOutputSerializer({"given": len(image_ids), "images": images, "image_ids": image_ids}).data
        )


class CampaignQualityApi(APIView):
    """``GET /campaigns/{id}/quality``."""

    @openapi.CAMPAIGNS_QUALITY
    def get(self, request, campaign_id: int):
        selectors.campaign_ensure_exists(campaign_id=campaign_id)
        gold = gold_selectors.campaign_quality(campaign_id=campaign_id)
        return Response(QualityOutputSerializer({"campaign_id": campaign_id, "gold": gold}).data)


__all__ = ["CampaignGoldApi", "CampaignGoldCopyApi", "CampaignGoldImageApi", "CampaignQualityApi"]
