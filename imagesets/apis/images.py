"""The image endpoints: the list, and reading one image file (a redirect)."""

from __future__ import annotations

from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import image_fetch_count
from accounts.models import ApiKey
from imagesets import openapi, selectors
from imagesets.inputs import parse_image_filters
from imagesets.permissions import IsImageAdminOrImageLabeler
from imagesets.serializers import ImageOutputSerializer


@openapi.IMAGES_LIST
class ImageListApi(ListAPIView):
    """``GET /images`` (paginated, key ``images``), filtered by when and where each image was taken."""

    items_key = "images"
    serializer_class = ImageOutputSerializer

    def get_queryset(self):
        return selectors.image_list(filters=parse_image_filters(self.request.query_params))


class ImageDetailApi(APIView):
    permission_classes = [IsImageAdminOrImageLabeler]
    image_url_kwarg = "image_id"

    @openapi.IMAGES_RETRIEVE
    def get(self, request, image_id: int):
        image = selectors.image_get(image_id=image_id)
        url = request.build_absolute_uri(selectors.image_read_url(image=image))  # Azure: absolute; local: relative
        if isinstance(request.auth, ApiKey) and not request.user.is_image_admin:
            image_fetch_count(api_key=request.auth)  # the agency's fetches, one counter per key and day
        return Response(status=status.HTTP_303_SEE_OTHER, headers={"Location": url})
