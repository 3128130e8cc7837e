"""``/campaigns/{id}/images``: list a campaign's images (admin or its labeler), add images (admin)."""

from __future__ import annotations

from rest_framework.response import Response

from campaigns import openapi, selectors, services
from campaigns.apis.common import CampaignImagePagesApi
from campaigns.inputs import parse_image_state
from campaigns.serializers import CampaignImageOutputSerializer
from core.validators import query_value
from imagesets.inputs import parse_image_refs


@openapi.CAMPAIGNS_IMAGES_LIST
class CampaignImagesApi(CampaignImagePagesApi):
    """``GET /campaigns/{id}/images`` (admin or the campaign's labeler) and ``POST`` (admin)."""

    serializer_class = CampaignImageOutputSerializer
    labeler_method = "GET"

    def get_queryset(self):
        campaign_id = self.kwargs["campaign_id"]
        state = parse_image_state(query_value(self.request.query_params, "state"))
        if not getattr(self, "campaign_exists", False):  # the labeler check already found it
            selectors.campaign_ensure_exists(campaign_id=campaign_id)
        return selectors.campaign_image_list(campaign_id=campaign_id, state=state)

    @openapi.CAMPAIGNS_IMAGES_ADD
    def post(self, request, campaign_id: int):
        refs = parse_image_refs(request.data)
        services.campaign_add_images(campaign_id=campaign_id, image_ids=refs.ids, filepaths=refs.paths)
        return Response("ok")
