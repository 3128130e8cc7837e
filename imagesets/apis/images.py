"""The image endpoints: the list, and reading one image file (a redirect)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from imagesets import selectors
from imagesets.permissions import IsImageAdminOrImageLabeler
from imagesets.serializers import ImageOutputSerializer
from labelhub.api_docs import list_endpoint
from labelhub.schema import errors

TAG = "images"
_IMAGE_ID = OpenApiParameter("image_id", int, OpenApiParameter.PATH, description="The image's id.")


@list_endpoint("images_list", ImageOutputSerializer, items_key="images", tag=TAG, summary="List images")
class ImageListApi(ListAPIView):
    """Every image, ordered by id, 10 per page by default. Image-admins only."""

    def get_queryset(self):
        return selectors.image_list()


class ImageDetailApi(APIView):
    permission_classes = [IsImageAdminOrImageLabeler]
    image_url_kwarg = "image_id"

    @extend_schema(
        operation_id="images_retrieve",
        tags=[TAG],
        summary="Read an image (redirect)",
        description=(
            "Answers `303 See Other` with `Location`: a short-lived URL reading exactly this image "
            "file (Azure storage: a blob SAS URL; local storage: a signed labelhub URL, "
            "`GET /files/{token}`), valid for `IMAGE_READ_TOKEN_VALID_DAYS` (default 7) days. Follow "
            "it without the key headers. Image-admins, and labelers whose campaign holds the image."
        ),
        parameters=[
            _IMAGE_ID,
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                response=[303],
                description="The read URL of the image file.",
            ),
        ],
        responses={
            303: OpenApiResponse(description="See Other: the image file is at `Location`."),
            **errors(
                (401, "No valid key, or a labeler asking for an image outside its campaigns."),
                (404, "The image does not exist."),
                503,
            ),
        },
    )
    def get(self, request, image_id: int):
        image = selectors.image_get(image_id=image_id)
        url = request.build_absolute_uri(selectors.image_read_url(image=image))  # Azure: absolute; local: relative
        return Response(status=status.HTTP_303_SEE_OTHER, headers={"Location": url})
