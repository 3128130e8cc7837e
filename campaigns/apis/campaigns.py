"""``/campaigns`` and ``/campaigns/{id}``: list, create, read, change the status."""

from __future__ import annotations

from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import Actor
from accounts.permissions import IsImageAdmin
from campaigns import openapi, selectors, services
from campaigns.permissions import IsImageAdminOrCampaignLabeler, IsImageAdminOrLabeler
from campaigns.serializers import (
    CampaignCreatedOutputSerializer,
    CampaignCreateInputSerializer,
    CampaignOutputSerializer,
    CampaignStatusInputSerializer,
    LabelerCampaignOutputSerializer,
)


@openapi.CAMPAIGNS_LIST
class CampaignListApi(ListAPIView):
    """``GET /campaigns`` (paginated, key ``campaigns``) and ``POST /campaigns``.

    Image-admins list every campaign; a labeler lists its own, in its view (``LabelerCampaign``).
    """

    items_key = "campaigns"

    def get_permissions(self):
        if self.request.method == "GET":
            return [IsImageAdminOrLabeler()]
        return [IsImageAdmin()]

    def get_serializer_class(self):
        if self.request.user.is_staff:
            return CampaignOutputSerializer
        return LabelerCampaignOutputSerializer

    def get_queryset(self):
        if self.request.user.is_staff:
            return selectors.campaign_list()
        return selectors.labeler_campaign_list(user=self.request.user)

    @openapi.CAMPAIGNS_CREATE
    def post(self, request):
        serializer = CampaignCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = serializer.validated_data
        campaign, issued = services.campaign_create(
            title=new.title,
            labeler_email=new.labeler_email,
            metadata=new.metadata,
            label_translations=new.label_translations,
            review_required=new.review_required,
            aql=new.aql,
            labels=new.labels,
            gold_min_f1=new.gold_min_f1,
            created_by=request.user,
            actor=Actor.of_request(request),
        )
        campaign = selectors.campaign_get(campaign_id=campaign.pk)
        return Response(CampaignCreatedOutputSerializer(campaign, context={"issued_key": issued}).data)


class CampaignDetailApi(APIView):
    """``GET /campaigns/{id}`` (admin, or its labeler) and ``PUT /campaigns/{id}`` ``{"new_status": ...}`` (admin)."""

    def get_permissions(self):
        if self.request.method == "GET":
            return [IsImageAdminOrCampaignLabeler()]
        return [IsImageAdmin()]

    @openapi.CAMPAIGNS_RETRIEVE
    def get(self, request, campaign_id: int):
        campaign = selectors.campaign_get(campaign_id=campaign_id)
        if request.user.is_staff:
            return Response(CampaignOutputSerializer(campaign).data)
        return Response(LabelerCampaignOutputSerializer(campaign).data)

    @openapi.CAMPAIGNS_SET_STATUS
    def put(self, request, campaign_id: int):
        serializer = CampaignStatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new_status = serializer.validated_data["new_status"]
        services.campaign_set_status(
            campaign_id=campaign_id, new_status=new_status, user=request.user, actor=Actor.of_request(request)
        )
        return Response("ok")
