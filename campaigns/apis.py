"""The campaign endpoints of the contract: thin views over services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.models import ApiKey
from accounts.permissions import IsImageAdmin
from campaigns import selectors, services
from campaigns.permissions import IsImageAdminOrCampaignLabeler
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
from labelhub import metrics
from labelhub.exceptions import BadRequest
from labelhub.schema import JSON_BODY_MALFORMED, errors, ok

_CAMPAIGN_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The campaign's id.")
_NO_CAMPAIGN = (404, "The campaign does not exist.")
_TOO_MANY_IMAGES = (
    "More than `IMAGES_PER_REQUEST_MAX` (default 10,000) images listed (send them in several "
    "requests), or a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` bytes. Nothing is stored."
)


def _api_key(request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


class CampaignListApi(GenericAPIView):
    """``GET /campaigns`` (paginated, key ``campaigns``) and ``POST /campaigns``."""

    items_key = "campaigns"
    serializer_class = CampaignOutputSerializer

    @extend_schema(
        operation_id="campaigns_list",
        tags=["campaigns"],
        summary="List campaigns",
        description="Every campaign, 10 per page by default. Image-admins only.",
        responses={200: CampaignOutputSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.campaign_list())
        return self.get_paginated_response(CampaignOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="campaigns_create",
        tags=["campaigns"],
        summary="Create a campaign and its labeler's key",
        description=(
            "Creates the campaign in status `created`. The labeler is found by `labeler_email` or "
            "created, and may from now on read this campaign's images and submit its objects. "
            "`access_token` is that labeler's key: a new key and secret for a user without one; for "
            "a user who already has a key, its `apikey` and `apisecret: null` (secrets are stored "
            "hashed). Next: add images, then set the status to `active`."
        ),
        request=CampaignCreateInputSerializer,
        responses={
            200: CampaignCreatedOutputSerializer,
            **errors(
                (
                    400,
                    "Malformed body, an invalid `labeler_email`, or `metadata`/`label_translations` "
                    "that are not JSON objects of the documented shape. " + JSON_BODY_MALFORMED,
                ),
                401,
                (
                    409,
                    "A campaign with this title already exists, or `labeler_email` belongs to a staff "
                    "account (staff get no key through a campaign; nothing is stored).",
                ),
                (
                    422,
                    "The title is not a valid name: 1-53 lowercase letters, digits and single dashes, "
                    "not starting or ending with a dash.",
                ),
            ),
        },
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

    @extend_schema(
        operation_id="campaigns_retrieve",
        tags=["campaigns"],
        summary="Get a campaign",
        description="The campaign with its status, `progress` (labeled images out of all) and the "
        "export `job` once finished. Image-admins only.",
        parameters=[_CAMPAIGN_ID],
        responses={200: CampaignOutputSerializer, **errors(401, _NO_CAMPAIGN)},
    )
    def get(self, request, pk: int):
        return Response(CampaignOutputSerializer(selectors.campaign_get(campaign_id=pk)).data)

    @extend_schema(
        operation_id="campaigns_set_status",
        tags=["campaigns"],
        summary="Change a campaign's status",
        description=(
            "Transitions: `created` -> `active` (labeling starts); `active` -> `completed` (also "
            "automatic when every image is labeled); `completed` -> `active` (reopen); `completed` -> "
            "`finished` (starts the export job: labels CSV and Azure ML data assets; follow it in "
            "the campaign's `job`; if the job broker is down the export stays `queued` and starts "
            "once it is back). Anything else is `409`.\n\n"
            "Added: `finished` again on a finished campaign retries its export when it `failed` or is "
            "stuck (its worker died, or it never reached the broker)."
        ),
        parameters=[_CAMPAIGN_ID],
        request=CampaignStatusInputSerializer,
        responses={
            200: ok("The status changed."),
            **errors(
                (400, "`new_status` is missing or not a status. " + JSON_BODY_MALFORMED),
                401,
                _NO_CAMPAIGN,
                (409, "The campaign cannot go from its current status to `new_status`."),
            ),
        },
    )
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

    @extend_schema(
        operation_id="campaigns_images_list",
        tags=["campaigns"],
        summary="List a campaign's images",
        description='Each image as `{"image_id", "url"}`, 1000 per page by default; `url` is '
        "relative to the API base (`GET /images/{image_id}` redirects to the file). Image-admins and "
        "the campaign's labeler.",
        parameters=[_CAMPAIGN_ID],
        responses={
            200: CampaignImageOutputSerializer(many=True),
            **errors(400, (401, "No valid key, or a labeler of other campaigns."), _NO_CAMPAIGN),
        },
    )
    def get(self, request, pk: int):
        if not getattr(self, "campaign_exists", False):  # the labeler check already found it
            selectors.campaign_ensure_exists(campaign_id=pk)
        page = self.paginate_queryset(selectors.campaign_image_list(campaign_id=pk))
        return self.get_paginated_response(CampaignImageOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="campaigns_images_add",
        tags=["campaigns"],
        summary="Add images to a campaign",
        description="Each item names an image by `id` or by `filepath` (its `blobstorage_path`). Only "
        "while the campaign is `created`. All or nothing: one unknown image and none is added. Images "
        "already in the campaign are ignored. Image-admins only.",
        parameters=[_CAMPAIGN_ID],
        request=ImageRefInputSerializer(many=True),
        responses={
            200: ok("The images are in the campaign."),
            **errors(
                400,
                401,
                (
                    404,
                    "The campaign, or one of the listed images, does not exist (an `id` outside "
                    '1..2^63-1 included). `id` must be a JSON integer: `"1"` and `1.0` are a 400.',
                ),
                (409, "The campaign is no longer `created`."),
                (413, _TOO_MANY_IMAGES),
            ),
        },
    )
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

    @extend_schema(
        operation_id="campaigns_objects_list",
        tags=["campaigns"],
        summary="List a campaign's objects, image by image",
        description="Every image of the campaign with its current objects (`[]` for none yet), 1000 "
        "images per page by default. Image-admins only.",
        parameters=[_CAMPAIGN_ID],
        responses={
            200: CampaignImageObjectsOutputSerializer(many=True),
            **errors(400, 401, _NO_CAMPAIGN),
        },
    )
    def get(self, request, pk: int):
        selectors.campaign_ensure_exists(campaign_id=pk)
        page = self.paginate_queryset(selectors.campaign_object_list(campaign_id=pk))
        return self.get_paginated_response(CampaignImageObjectsOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="campaigns_objects_replace",
        tags=["campaigns"],
        summary="Submit the objects found on images",
        description=(
            "For every listed image its stored objects are replaced by the given ones and the image "
            "counts as labeled (an empty `objects` list: looked at, nothing found). Only while the "
            "campaign is `active`. All or nothing. The label stored is `label_translated` if given, "
            "else the campaign's `label_translations[label]` if there is one, else `label`. When every "
            "image is labeled the campaign becomes `completed`. Image-admins and the campaign's "
            "labeler."
        ),
        parameters=[_CAMPAIGN_ID],
        request=ImageObjectsInputSerializer(many=True),
        responses={
            200: ok("Stored."),
            **errors(
                (
                    400,
                    "Malformed body: not a list, a missing or mistyped field (`image_id` must be a "
                    'JSON integer: `"1"` and `1.0` are refused), an image listed twice. `image_id` '
                    "and `object_index` name the offending item. " + JSON_BODY_MALFORMED,
                ),
                (401, "No valid key, or a labeler of other campaigns."),
                (404, "The campaign does not exist, or a listed image is not part of it (`image_id`)."),
                (409, "The campaign is not `active`."),
                (413, _TOO_MANY_IMAGES),
                (
                    422,
                    "A value out of range: a label longer than 128 characters, a confidence outside "
                    "0..1, a bounding box with min > max or outside the image, more than "
                    "`OBJECTS_PER_IMAGE_MAX` (default 1000) objects for one image. `image_id` and "
                    "`object_index` name the offending image or object.",
                ),
            ),
        },
    )
    def put(self, request, pk: int):
        submission = services.objects_replace(
            campaign_id=pk, items=request.data, user=request.user, api_key=_api_key(request)
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
        tags=["images"],
        summary="The objects labeled on an image in one campaign",
        description="The objects of exactly one campaign: the first of `campaigns` that labeled this "
        "image; with no `campaigns`, the most recently finished campaign. `[]` when none. "
        "Image-admins only.",
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="The image's id."),
            OpenApiParameter(
                "campaigns",
                {"type": "array", "items": {"type": "integer"}},
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
    def get(self, request, pk: int):
        objects = selectors.image_objects_for_campaigns(image_id=pk, campaign_ids=_campaign_ids(request))
        return Response(ObjectOutputSerializer(objects, many=True).data)
