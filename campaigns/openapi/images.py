"""``/campaigns/{id}/images``: list a campaign's images, add images."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema_view

from campaigns.openapi.common import LABELER_OF_OTHER_CAMPAIGNS, NO_CAMPAIGN, campaign_operation
from campaigns.serializers import CampaignImageOutputSerializer, ImageRefInputSerializer
from core.openapi import add_images_responses, errors

CAMPAIGNS_IMAGES_LIST = extend_schema_view(
    get=campaign_operation(
        "campaigns_images_list",
        "List a campaign's images",
        'Each image as `{"image_id", "url", "labeled", "review"}`, 1000 per page by default; `url` is '
        "relative to the API base (`GET /images/{image_id}` redirects to the file). Added: `labeled` "
        "(counts as labeled) and `review` (the decision on the current revision: `{decision, reason, "
        "reason_code, date}`, null while awaiting review), `width` and `height` (the file's pixels, the "
        "space boxes are given in; null when unreadable), and the filter `state`: `unlabeled`, `rejected` "
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

CAMPAIGNS_IMAGES_ADD = campaign_operation(
    "campaigns_images_add",
    "Add images to a campaign",
    "Each item names an image by `id` or by `filepath` (its `blobstorage_path`). Only "
    "while the campaign is `created`. All or nothing: one unknown image and none is added. Images "
    "already in the campaign are ignored. Image-admins only.",
    request=ImageRefInputSerializer(many=True),
    responses=add_images_responses(to="campaign", conflict="The campaign is no longer `created`."),
)
