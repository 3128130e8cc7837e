"""HTTP endpoints of image sets and images (``/api/v1``), thin over services and selectors."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from imagesets import selectors, services
from imagesets.models import ImageSet
from imagesets.permissions import IsImageAdminOrImageLabeler
from imagesets.serializers import (
    ImageRefSerializer,
    ImageSerializer,
    ImageSetCreateInputSerializer,
    ImageSetSerializer,
    ImageSetStatusInputSerializer,
)
from labelhub.exceptions import ApplicationError, BadRequest, Conflict
from labelhub.storage import (
    FileTooLarge,
    InvalidFileName,
    InvalidToken,
    ObjectNotFound,
    get_storage,
    unsign_dropbox_token,
)


def _absolute(request, url: str) -> str:
    """Storage URLs are absolute (Azure) or site-relative (local storage)."""
    return request.build_absolute_uri(url)


def _validated(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ImageSetListCreateApi(ListAPIView):
    serializer_class = ImageSetSerializer
    items_key = "image_sets"

    def get_queryset(self):
        return selectors.imageset_list()

    @extend_schema(request=ImageSetCreateInputSerializer, responses=ImageSetSerializer)
    def post(self, request):
        data = _validated(ImageSetCreateInputSerializer, request.data)
        imageset = services.imageset_create(
            title=data["title"], metadata=data["metadata"], created_by=request.user
        )
        imageset = selectors.imageset_get(imageset_id=imageset.pk)
        body = ImageSetSerializer(imageset).data
        body["dropbox_url"] = _absolute(request, selectors.imageset_dropbox_url(imageset=imageset))
        return Response(body, status=status.HTTP_200_OK)


class ImageSetDetailApi(APIView):
    @extend_schema(responses=ImageSetSerializer)
    def get(self, request, imageset_id: int):
        return Response(ImageSetSerializer(selectors.imageset_get(imageset_id=imageset_id)).data)

    @extend_schema(request=ImageSetStatusInputSerializer, responses={200: OpenApiResponse(description='"ok"')})
    def put(self, request, imageset_id: int):
        data = _validated(ImageSetStatusInputSerializer, request.data)
        services.imageset_set_status(imageset_id=imageset_id, new_status=data["new_status"])
        return Response("ok")


class ImageSetImagesApi(ListAPIView):
    serializer_class = ImageSerializer
    items_key = "images"

    def get_queryset(self):
        return selectors.imageset_image_list(imageset_id=self.kwargs["imageset_id"])

    @extend_schema(request=ImageRefSerializer(many=True), responses={200: OpenApiResponse(description='"ok"')})
    def post(self, request, imageset_id: int):
        items = _validated(ImageRefSerializer, request.data, many=True)
        services.imageset_add_images(imageset_id=imageset_id, items=[dict(item) for item in items])
        return Response("ok")


class ImageListApi(ListAPIView):
    serializer_class = ImageSerializer
    items_key = "images"

    def get_queryset(self):
        return selectors.image_list()


class ImageDetailApi(APIView):
    permission_classes = [IsImageAdminOrImageLabeler]
    image_url_kwarg = "image_id"

    @extend_schema(responses={303: OpenApiResponse(description="Location: a short-lived read URL of the image")})
    def get(self, request, image_id: int):
        image = selectors.image_get(image_id=image_id)
        url = _absolute(request, selectors.image_read_url(image=image))
        return Response(status=status.HTTP_303_SEE_OTHER, headers={"Location": url})


# --- local storage: the dropbox upload endpoint ---------------------------------


class DropboxClosed(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "This upload URL is invalid, expired or closed"


class LengthRequired(ApplicationError):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_detail = "Content-Length is required"


class PayloadTooLarge(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "File too large"


class DropboxUploadApi(APIView):
    """``PUT /dropbox/<token>/<filename>`` with the raw file as body, as Azure's Put Blob.

    The signed token is the credential (no API key): forged or expired 403,
    a set that is no longer ``created`` 409 (gone: 403), a bad name 400, a
    body over ``LOCAL_DROPBOX_MAX_FILE_SIZE`` 413. The body is streamed to
    disk, never held in memory. ``x-ms-blob-type`` is accepted and ignored.
    """

    authentication_classes: list = []
    permission_classes: list = []

    def perform_content_negotiation(self, request, force=False):
        # Upload clients send whatever Accept they like; error bodies are JSON regardless.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(request={"application/octet-stream": bytes}, responses={201: None})
    def put(self, request, token: str, filename: str):
        try:
            dropbox = unsign_dropbox_token(token)
        except InvalidToken:
            raise DropboxClosed() from None
        storage = get_storage()
        if not hasattr(storage, "save_dropbox_file"):
            raise DropboxClosed("This server does not accept local uploads")
        title = dropbox.removeprefix("dropbox-")
        set_status = ImageSet.objects.filter(title=title).values_list("status", flat=True).first()
        if set_status is None:
            raise DropboxClosed()
        if set_status != ImageSet.Status.CREATED:
            raise Conflict(f"Image set is {set_status}; its dropbox is closed")

        max_size = settings.LOCAL_DROPBOX_MAX_FILE_SIZE
        raw_length = request.META.get("CONTENT_LENGTH") or ""
        if not raw_length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # WSGI reads no chunked body; Azure's Put Blob also wants a length.
            raise LengthRequired()
        try:
            length = int(raw_length or 0)  # no length and no chunks: an empty body
        except ValueError:
            raise BadRequest("Invalid Content-Length") from None
        if length < 0:
            raise BadRequest("Invalid Content-Length")
        if length > max_size:
            raise PayloadTooLarge(f"File too large: at most {max_size} bytes")
        try:
            # The Django request itself: a stream limited to Content-Length.
            storage.save_dropbox_file(dropbox, filename, request._request, max_size=max_size)
        except InvalidFileName as exc:
            raise BadRequest(f"Invalid file name: {exc}") from None
        except FileTooLarge:
            raise PayloadTooLarge(f"File too large: at most {max_size} bytes") from None
        except ObjectNotFound:
            raise DropboxClosed() from None
        return Response(status=status.HTTP_201_CREATED)
