"""The switching rules of a campaign's acceptance sampling (image-admins only).

``/campaigns/{id}/inspection``: the inspection (ISO 2859-1 normal, tightened
or reduced) the next sample will be drawn under and why (``GET``), whether
reduced inspection is allowed (``PATCH``); ``.../inspection/resume``: resume
inspection after it was discontinued.
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import Actor
from campaigns import openapi, selectors, services
from campaigns.serializers import CampaignInspectionOutputSerializer, InspectionSettingsInputSerializer
from core.serializers import validated


def _inspection_response(campaign_id: int) -> Response:
    state = selectors.campaign_inspection(campaign_id=campaign_id)
    return Response(CampaignInspectionOutputSerializer(state).data)


class CampaignInspectionApi(APIView):
    """``GET /campaigns/{id}/inspection`` and ``PATCH`` (``{"reduced_inspection": true|false}``)."""

    @openapi.CAMPAIGNS_INSPECTION_RETRIEVE
    def get(self, request, campaign_id: int):
        return _inspection_response(campaign_id)

    @openapi.CAMPAIGNS_INSPECTION_UPDATE
    def patch(self, request, campaign_id: int):
        changes = validated(InspectionSettingsInputSerializer, request.data)
        if changes["reduced_inspection"] is not None:
            services.campaign_set_reduced_inspection(
                campaign_id=campaign_id, allowed=changes["reduced_inspection"], actor=Actor.of_request(request)
            )
        else:
            selectors.campaign_ensure_exists(campaign_id=campaign_id)
        return _inspection_response(campaign_id)


class CampaignInspectionResumeApi(APIView):
    """``POST /campaigns/{id}/inspection/resume``."""

    @openapi.CAMPAIGNS_INSPECTION_RESUME
    def post(self, request, campaign_id: int):
        services.inspection_resume(campaign_id=campaign_id, actor=Actor.of_request(request))
        return _inspection_response(campaign_id)


__all__ = ["CampaignInspectionApi", "CampaignInspectionResumeApi"]
