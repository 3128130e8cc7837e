"""``/campaigns/{id}/images``: list a campaign's images (admin or its labeler), add images (admin)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema_view
from rest_framework.response import Response

from campaigns import selectors, services
from campaigns.apis.common import (
    LABELER_OF_OTHER_CAMPAIGNS,
    NO_CAMPAIGN,
    CampaignImagePagesApi,
    campaign_operation,
)
from campaigns.inputs import parse_image_state
from campaigns.serializers import CampaignImageOutputSerializer, ImageRefInputSerializer
from core.openapi import add_images_responses, errors
from core.validators import query_value
from imagesets.inputs import parse_image_refs


@extend_schema_view(
    get=campaign_operation(
        "campaigns_images_list",
        "List a campaign's images",
        'Each image as `{"image_id", "url", "labeled", "review"}`, 1000 per page by default; `url` is '
        "relative to the API base (`GET /images/{image_id}` redirects to the file). Added: `labeled` "
        "(counts as labeled) and `review` (the decision on the current revision: `{decision, reason, "
        "reason_code, date}`, null while awaiting review), and the filter `state`: `unlabeled`, `rejected` "
        "(sent back: label it again), `labeled` (delivered, awaiting review) or `accepted`. Image-admins and "
        "the campaign's labeler.",
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=["unlabeled", "rejected", "labeled", "accepted"],
                description="Only the images in this review state.",
            )
        ],
        responses={
            200: CampaignImageOutputSerializer(many=True),
            **errors((400, "Bad pagination or an unknown `state`."), LABELER_OF_OTHER_CAMPAIGNS, NO_CAMPAIGN),
        },
    )
)
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

    @campaign_operation(
        "campaigns_images_add",
        "Add images to a campaign",
        "Each item names an image by `id` or by `filepath` (its `blobstorage_path`). Only "
        "while the campaign is `created`. All or nothing: one unknown image and none is added. Images "
        "already in the campaign are ignored. Image-admins only.",
        request=ImageRefInputSerializer(many=True),
        responses=add_images_responses(to="campaign", conflict="The campaign is no longer `created`."),
    )
    def post(self, request, campaign_id: int):
        refs = parse_image_refs(request.data)
        services.campaign_add_images(campaign_id=campaign_id, image_ids=refs.ids, filepaths=refs.paths)
        return Response("ok")
