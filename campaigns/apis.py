"""The campaign endpoints of the contract: thin views over services and selectors."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.models import ApiKey
from accounts.permissions import IsImageAdmin, IsImageAdminOrCampaignLabeler
from campaigns import selectors, services
from campaigns.serializers import (
    CampaignCreatedOutputSerializer,
    CampaignCreateInputSerializer,
    CampaignImageObjectsOutputSerializer,
    CampaignImageOutputSerializer,
    CampaignOutputSerializer,
    CampaignStatusInputSerializer,
    ImageObjectsInputSerializer,
    ImageRefInputSerializer,
    ObjectOutputSerializer,
)
from labelhub.exceptions import BadRequest


def _api_key(request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


class CampaignListApi(GenericAPIView):
    """``GET /campaigns`` (paginated, key ``campaigns``) and ``POST /campaigns``."""

    items_key = "campaigns"
    serializer_class = CampaignOutputSerializer

    @extend_schema(operation_id="campaigns_list", responses=CampaignOutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.campaign_list())
        return self.get_paginated_response(CampaignOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="campaigns_create",
        request=CampaignCreateInputSerializer,
        responses=CampaignCreatedOutputSerializer,
    )
    def post(self, request):
        serializer = CampaignCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign, issued = services.campaign_create(**serializer.validated_data, created_by=request.user)
        campaign = selectors.campaign_get(campaign_id=campaign.pk)
        return Response(CampaignCreatedOutputSerializer(campaign, context={"issued_key": issued}).data)


class CampaignDetailApi(GenericAPIView):
    """``GET /campaigns/{id}`` and ``PUT /campaigns/{id}`` ``{"new_status": ...}``."""

    serializer_class = CampaignOutputSerializer

    @extend_schema(operation_id="campaigns_retrieve", responses=CampaignOutputSerializer)
    def get(self, request, pk: int):
        return Response(CampaignOutputSerializer(selectors.campaign_get(campaign_id=pk)).data)

    @extend_schema(operation_id="campaigns_set_status", request=CampaignStatusInputSerializer,
                   responses=OpenApiTypes.STR)
    def put(self, request, pk: int):
        serializer = CampaignStatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.campaign_set_status(
            campaign_id=pk, new_status=serializer.validated_data["new_status"], user=request.user
        )
        return Response("ok")


class CampaignImagesApi(GenericAPIView):
    """``GET /campaigns/{id}/images`` (admin or the campaign's labeler) and ``POST`` (admin)."""

    items_key = "images"
    default_per_page = 1000
    serializer_class = CampaignImageOutputSerializer

    def get_permissions(self):
        if self.request.method == "GET":
            return [IsImageAdminOrCampaignLabeler()]
        return [IsImageAdmin()]

    @extend_schema(operation_id="campaigns_images_list", responses=CampaignImageOutputSerializer(many=True))
    def get(self, request, pk: int):
        selectors.campaign_ensure_exists(campaign_id=pk)
        page = self.paginate_queryset(selectors.campaign_image_list(campaign_id=pk))
        return self.get_paginated_response(CampaignImageOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="campaigns_images_add", request=ImageRefInputSerializer(many=True),
                   responses=OpenApiTypes.STR)
    def post(self, request, pk: int):
        services.campaign_add_images(campaign_id=pk, items=request.data)
        return Response("ok")


class CampaignObjectsApi(GenericAPIView):
    """``GET /campaigns/{id}/objects`` (admin) and ``PUT`` (admin or the campaign's labeler)."""

    items_key = "images"
    default_per_page = 1000
    serializer_class = CampaignImageObjectsOutputSerializer

    def get_permissions(self):
        if self.request.method == "PUT":
            return [IsImageAdminOrCampaignLabeler()]
        return [IsImageAdmin()]

    @extend_schema(operation_id="campaigns_objects_list",
                   responses=CampaignImageObjectsOutputSerializer(many=True))
    def get(self, request, pk: int):
        selectors.campaign_ensure_exists(campaign_id=pk)
        page = self.paginate_queryset(selectors.campaign_object_list(campaign_id=pk))
        return self.get_paginated_response(CampaignImageObjectsOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="campaigns_objects_replace", request=ImageObjectsInputSerializer(many=True),
                   responses=OpenApiTypes.STR)
    def put(self, request, pk: int):
        services.objects_replace(campaign_id=pk, items=request.data, user=request.user, api_key=_api_key(request))
        return Response("ok")


def _campaign_ids(request) -> list[int]:
    """``?campaigns=3&campaigns=5`` (``?campaigns=3,5`` works too), in the order given."""
    ids = []
    for raw in request.query_params.getlist("campaigns"):
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            if not (part.isascii() and part.isdigit()):
                raise BadRequest(f"'campaigns' must be campaign ids, got {part[:40]!r}")
            ids.append(int(part))
    return ids


class ImageObjectsApi(GenericAPIView):
    """``GET /images/{id}/objects?campaigns=3&campaigns=5`` (admin): one campaign's objects."""

    serializer_class = ObjectOutputSerializer
    pagination_class = None

    @extend_schema(
        operation_id="images_objects_list",
        parameters=[OpenApiParameter(
            "campaigns", {"type": "array", "items": {"type": "integer"}}, explode=True,
            description="Campaign ids in order of priority; none: the most recently finished campaign",
        )],
        responses=ObjectOutputSerializer(many=True),
    )
    def get(self, request, pk: int):
        objects = selectors.image_objects_for_campaigns(image_id=pk, campaign_ids=_campaign_ids(request))
        return Response(ObjectOutputSerializer(objects, many=True).data)
