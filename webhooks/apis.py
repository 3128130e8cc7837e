"""``/webhooks``: endpoints of staff (every one) and of agencies (their own), and their deliveries."""

from __future__ import annotations

from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.audit import actor_of_request
from webhooks import openapi, selectors, services
from webhooks.serializers import (
    WebhookCreateInputSerializer,
    WebhookDeliveryOutputSerializer,
    WebhookOutputSerializer,
    WebhookUpdateInputSerializer,
)


class IsActiveUser(BasePermission):
    """Any active user with a key: staff manage every endpoint, an agency its own (the selectors scope it)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


@openapi.WEBHOOKS_LIST
class WebhookListApi(ListAPIView):
    """``GET /webhooks`` (paginated, key ``webhooks``) and ``POST /webhooks``."""

    permission_classes = [IsActiveUser]
    serializer_class = WebhookOutputSerializer
    items_key = "webhooks"

    def get_queryset(self):
        return selectors.webhook_list(user=self.request.user)

    @openapi.WEBHOOKS_CREATE
    def post(self, request):
        serializer = WebhookCreateInputSerializer(data=request.data, context={"agency": not request.user.is_staff})
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        user = request.user
        webhook = services.webhook_create(
            url=values["url"],
            events=values["events"],
            description=values["description"],
            active=values["active"],
            owner=None if user.is_staff else user,
            created_by=user,
            actor=actor_of_request(request),
        )
        webhook = selectors.webhook_get(user=user, webhook_id=webhook.pk)
        body = {**WebhookOutputSerializer(webhook).data, "secret": webhook.secret}
        return Response(body, status=201)


class WebhookDetailApi(APIView):
    """``GET``, ``PATCH`` and ``DELETE /webhooks/{webhook_id}``."""

    permission_classes = [IsActiveUser]

    @openapi.WEBHOOKS_RETRIEVE
    def get(self, request, webhook_id: int):
        return Response(WebhookOutputSerializer(selectors.webhook_get(user=request.user, webhook_id=webhook_id)).data)

    @openapi.WEBHOOKS_UPDATE
    def patch(self, request, webhook_id: int):
        user = request.user
        selectors.webhook_get(user=user, webhook_id=webhook_id)  # 404 before the body is looked at
        serializer = WebhookUpdateInputSerializer(data=request.data, context={"agency": not user.is_staff})
        serializer.is_valid(raise_exception=True)
        changes = serializer.validated_data
        services.webhook_update(
            webhook_id=webhook_id, owner_id=user.pk, staff=user.is_staff, actor=actor_of_request(request), **changes
        )
        return Response(WebhookOutputSerializer(selectors.webhook_get(user=user, webhook_id=webhook_id)).data)

    @openapi.WEBHOOKS_DELETE
    def delete(self, request, webhook_id: int):
        user = request.user
        services.webhook_delete(
            webhook_id=webhook_id, owner_id=user.pk, staff=user.is_staff, actor=actor_of_request(request)
        )
        return Response(status=204)


@openapi.WEBHOOKS_DELIVERIES_LIST
class WebhookDeliveriesApi(ListAPIView):
    """``GET /webhooks/{webhook_id}/deliveries`` (paginated, key ``deliveries``)."""

    permission_classes = [IsActiveUser]
    serializer_class = WebhookDeliveryOutputSerializer
    items_key = "deliveries"

    def get_queryset(self):
        webhook = selectors.webhook_get(user=self.request.user, webhook_id=self.kwargs["webhook_id"])
        return selectors.delivery_list(webhook_id=webhook.pk)
