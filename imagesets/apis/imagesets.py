"""The image-set endpoints: list and create, read and finish, and the set's images."""

from __future__ import annotations

from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import Actor
from imagesets import openapi, selectors, services
from imagesets.inputs import parse_image_refs
from imagesets.serializers import (
    ImageOutputSerializer,
    ImageSetCreatedOutputSerializer,
    ImageSetCreateInputSerializer,
    ImageSetOutputSerializer,
    ImageSetStatusInputSerializer,
    ImageSetUploadUrlOutputSerializer,
)


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@openapi.IMAGE_SETS_LIST
class ImageSetListCreateApi(ListAPIView):
    """``GET /image_sets`` (paginated, key ``image_sets``) and ``POST /image_sets``."""

    items_key = "image_sets"
    serializer_class = ImageSetOutputSerializer

    def get_queryset(self):
        return selectors.imageset_list()

    @openapi.IMAGE_SETS_CREATE
    def post(self, request):
        data = _validated(ImageSetCreateInputSerializer, request.data)
        created = services.imageset_create(title=data["title"], metadata=data["metadata"], created_by=request.user)
        imageset = selectors.imageset_get(imageset_id=created.pk)
        dropbox_url = request.build_absolute_uri(created.dropbox_url)  # Azure: absolute; local: site-relative
        return Response(ImageSetCreatedOutputSerializer(imageset, context={"dropbox_url": dropbox_url}).data)


class ImageSetDetailApi(APIView):
    @openapi.IMAGE_SETS_RETRIEVE
    def get(self, request, imageset_id: int):
        return Response(ImageSetOutputSerializer(selectors.imageset_get(imageset_id=imageset_id)).data)

    @openapi.IMAGE_SETS_SET_STATUS
    def put(self, request, imageset_id: int):
        data = _validated(ImageSetStatusInputSerializer, request.data)
        services.imageset_set_status(
            imageset_id=imageset_id, new_status=data["new_status"], actor=Actor.of_request(request)
        )
        return Response("ok")


class ImageSetUploadUrlApi(APIView):
    """``POST /image_sets/{id}/upload_url``: a fresh dropbox URL while the set is ``created``."""

    @openapi.IMAGE_SETS_UPLOAD_URL
    def post(self, request, imageset_id: int):
        url = services.imageset_dropbox_url(imageset_id=imageset_id)
        dropbox_url = request.build_absolute_uri(url)  # Azure: absolute; local: site-relative
        return Response(
            ImageSetUploadUrlOutputSerializer({"imageset_id": imageset_id, "dropbox_url": dropbox_url}).data
        )


@openapi.IMAGE_SETS_IMAGES_LIST
class ImageSetImagesApi(ListAPIView):
    """``GET /image_sets/{id}/images`` (paginated, key ``images``) and ``POST`` (add images)."""

    items_key = "images"
    serializer_class = ImageOutputSerializer

    def get_queryset(self):
        return selectors.imageset_image_list(imageset_id=self.kwargs["imageset_id"])

    @openapi.IMAGE_SETS_IMAGES_ADD
    def post(self, request, imageset_id: int):
        refs = parse_image_refs(request.data)
        services.imageset_add_images(imageset_id=imageset_id, image_ids=refs.ids, paths=refs.paths)
        return Response("ok")
