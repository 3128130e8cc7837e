"""Objects: ``/campaigns/{id}/objects`` (list, submit) and ``/images/{id}/objects`` (one campaign's)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import inputs, selectors, services
from campaigns.apis.common import (
    IMAGE_LISTED_TWICE_EXAMPLE,
    LABELER_OF_OTHER_CAMPAIGNS,
    NO_CAMPAIGN,
    OBJECT_RULE_EXAMPLES,
    CampaignImagePagesApi,
    api_key_of,
    campaign_operation,
)
from campaigns.serializers import (
    CampaignImageObjectsOutputSerializer,
    ImageObjectsInputSerializer,
    ObjectOutputSerializer,
)
from core import metrics
from core.exceptions import BadRequest
from core.openapi import JSON_BODY_MALFORMED, TOO_MANY_IMAGES, errors, ok

_REPLACE_DESCRIPTION = (
    "For every listed image its stored objects are replaced by the given ones and the image "
    "counts as labeled (an empty `objects` list: looked at, nothing found). Only while the "
    "campaign is `active`. All or nothing. The label stored is `label_translated` if given, "
    "else the campaign's `label_translations[label]` if there is one, else `label`. When every "
    "image is labeled the campaign becomes `completed`. Image-admins and the campaign's "
    "labeler."
)
_REPLACE_ERRORS = errors(
    (
        400,
        "Malformed body: not a list, a missing or mistyped field (`image_id` must be a "
        'JSON integer: `"1"` and `1.0` are refused), an image listed twice. `image_id` '
        "and `object_index` name the offending item. " + JSON_BODY_MALFORMED,
        IMAGE_LISTED_TWICE_EXAMPLE,
    ),
    LABELER_OF_OTHER_CAMPAIGNS,
    (404, "The campaign does not exist, or a listed image is not part of it (`image_id`)."),
    (409, "The campaign is not `active`."),
    (413, TOO_MANY_IMAGES),
    (
        422,
        "A value out of range: a label longer than 128 characters, a confidence outside "
        "0..1, a bounding box with min > max or outside the image, more than "
        "`OBJECTS_PER_IMAGE_MAX` (default 1000) objects for one image. `image_id` and "
        "`object_index` name the offending image or object.",
        OBJECT_RULE_EXAMPLES,
    ),
)


@extend_schema_view(
    get=campaign_operation(
        "campaigns_objects_list",
        "List a campaign's objects, image by image",
        "Every image of the campaign with its current objects (`[]` for none yet), 1000 "
        "images per page by default. Image-admins only.",
        responses={200: CampaignImageObjectsOutputSerializer(many=True), **errors(400, 401, NO_CAMPAIGN)},
    )
)
class CampaignObjectsApi(CampaignImagePagesApi):
    """``GET /campaigns/{id}/objects`` (admin) and ``PUT`` (admin or the campaign's labeler)."""

    serializer_class = CampaignImageObjectsOutputSerializer
    labeler_method = "PUT"

    def get_queryset(self):
        campaign_id = self.kwargs["campaign_id"]
        selectors.campaign_ensure_exists(campaign_id=campaign_id)
        return selectors.campaign_object_list(campaign_id=campaign_id)

    @campaign_operation(
        "campaigns_objects_replace",
        "Submit the objects found on images",
        _REPLACE_DESCRIPTION,
        request=ImageObjectsInputSerializer(many=True),
        responses={200: ok("Stored."), **_REPLACE_ERRORS},
    )
    def put(self, request, campaign_id: int):
        objects_by_image = inputs.parse_object_items(request.data)
        submission = services.objects_replace(
            campaign_id=campaign_id, objects_by_image=objects_by_image, user=request.user, api_key=api_key_of(request)
        )
        if submission is not None:
            metrics.objects_submitted(submission.object_count)
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

    @extend_schema(
        operation_id="images_objects_list",
        tags=["images"],
        summary="The objects labeled on an image in one campaign",
        description="The objects of exactly one campaign: the first of `campaigns` that labeled this "
        "image; with no `campaigns`, the most recently finished campaign. `[]` when none. "
        "Image-admins only.",
        parameters=[
            OpenApiParameter("image_id", int, OpenApiParameter.PATH, description="The image's id."),
            OpenApiParameter(
                "campaigns",
                {"type": "array", "items": {"type": "integer", "minimum": 0}},
                explode=True,
                description="Campaign ids in order of priority (`?campaigns=3&campaigns=5`); none: the "
                "most recently finished campaign.",
            ),
        ],
        responses={
            200: ObjectOutputSerializer(many=True),
            **errors(
                (400, "`campaigns` holds something that is not a campaign id."),
                401,
                (404, "The image, or a listed campaign, does not exist."),
            ),
        },
    )
    def get(self, request, image_id: int):
        objects = selectors.image_objects_for_campaigns(image_id=image_id, campaign_ids=_campaign_ids(request))
        return Response(ObjectOutputSerializer(objects, many=True).data)
