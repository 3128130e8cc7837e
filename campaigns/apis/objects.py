"""Objects: ``/campaigns/{id}/objects`` (list, submit) and ``/images/{id}/objects`` (one campaign's)."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import inputs, openapi, selectors, services
from campaigns.apis.common import CampaignImagePagesApi, api_key_of
from campaigns.serializers import CampaignImageObjectsOutputSerializer, ObjectOutputSerializer
from core import metrics
from core.exceptions import BadRequest


@openapi.CAMPAIGNS_OBJECTS_LIST
class CampaignObjectsApi(CampaignImagePagesApi):
    """``GET /campaigns/{id}/objects`` (admin) and ``PUT`` (admin or the campaign's labeler)."""

    serializer_class = CampaignImageObjectsOutputSerializer
    labeler_method = "PUT"

    def get_queryset(self):
        campaign_id = self.kwargs["campaign_id"]
        selectors.campaign_ensure_exists(campaign_id=campaign_id)
        return selectors.campaign_object_list(campaign_id=campaign_id)

    @openapi.CAMPAIGNS_OBJECTS_REPLACE
    def put(self, request, campaign_id: int):
        delivery = inputs.parse_object_delivery(request.data)
        submissions = services.objects_replace_by_annotator(
            campaign_id=campaign_id,
            objects_by_image=delivery.objects_by_image,
            annotators=delivery.annotators,
            user=request.user,
            api_key=api_key_of(request),
        )
        if submissions:
            metrics.objects_submitted(sum(submission.object_count for submission in submissions))
        return Response("ok")


def _campaign_ids(request) -> list[int]:
    """``?campaigns=3&campaigns=5`` (``?campaigns=3,5`` works too), in the order given."""
    ids = []
    for raw in request.query_params.getlist("campaigns"):
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            if not (part.isascii() and part.isdigit() and len(part) <= 4000):  # int() refuses 4,300+ digits
                raise BadRequest(f"'campaigns' must be campaign ids, got {part[:40]!r}")
            ids.append(int(part))
    return ids


class ImageObjectsApi(APIView):
    """``GET /images/{id}/objects?campaigns=3&campaigns=5`` (admin): one campaign's objects."""

    @openapi.IMAGES_OBJECTS_LIST
    def get(self, request, image_id: int):
        objects = selectors.image_objects_for_campaigns(image_id=image_id, campaign_ids=_campaign_ids(request))
        return Response(ObjectOutputSerializer(objects, many=True).data)
