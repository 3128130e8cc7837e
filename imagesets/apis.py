"""HTTP endpoints of image sets and images (``/api/v1``), thin over services and selectors."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from imagesets import selectors, services
from imagesets.permissions import IsImageAdminOrImageLabeler
from imagesets.serializers import (
    ImageRefSerializer,
    ImageSerializer,
    ImageSetCreatedSerializer,
    ImageSetCreateInputSerializer,
    ImageSetSerializer,
    ImageSetStatusInputSerializer,
)
from labelhub.exceptions import BadRequest, DropboxClosed, LengthRequired, NotFound, PayloadTooLarge
from labelhub.negotiation import ForcedNegotiationMixin
from labelhub.schema import JSON_BODY_MALFORMED, errors, ok
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


_IMAGESET_ID = OpenApiParameter("imageset_id", int, OpenApiParameter.PATH, description="The image set's id.")
_IMAGE_ID = OpenApiParameter("image_id", int, OpenApiParameter.PATH, description="The image's id.")


@extend_schema_view(
    get=extend_schema(
        operation_id="image_sets_list",
        tags=["image sets"],
        summary="List image sets",
        description="Every image set, ordered by id, 10 per page by default. Image-admins only.",
        responses={200: ImageSetSerializer(many=True), **errors(400, 401)},
    )
)
class ImageSetListCreateApi(ListAPIView):
    serializer_class = ImageSetSerializer
    items_key = "image_sets"

    def get_queryset(self):
        return selectors.imageset_list()

    @extend_schema(
        operation_id="image_sets_create",
        tags=["image sets"],
        summary="Create an image set and its dropbox",
        description=(
            "Creates the set in status `created` and answers it with `dropbox_url`, the URL files "
            "are uploaded to until the set is finished: upload each file as "
            "`PUT <dropbox_url path>/<filename>?<dropbox_url query>` with the raw bytes as body "
            "(Azure storage also wants the header `x-ms-blob-type: BlockBlob`). With Azure storage "
            "it is a SAS URL of a fresh container `dropbox-<title>` (HTTPS-only on an HTTPS endpoint) "
            "naming the container's stored access policy; with local storage a signed URL of labelhub "
            "(`PUT /dropbox/{token}/{filename}`). It is valid for `IMAGESET_UPLOAD_TOKEN_VALID_DAYS` "
            "(default 7) days and tied to this set, not to its title: once the set is finished, uploads "
            "are refused (Azure: `403`; local: `409`, also for an upload still streaming at that moment, "
            "whose file is not kept); once the set is deleted they are refused with `403`, also when a "
            "new set takes the same title. An upload answered `201` is registered by the finish job."
        ),
        request=ImageSetCreateInputSerializer,
        responses={
            200: ImageSetCreatedSerializer,
            **errors(
                400,
                401,
                (409, "An image set with this title already exists."),
                (
                    422,
                    "The title is not a valid name: 1-53 lowercase letters, digits and single dashes, "
                    "not starting or ending with a dash.",
                ),
                503,
            ),
        },
    )
    def post(self, request):
        data = _validated(ImageSetCreateInputSerializer, request.data)
        created = services.imageset_create(title=data["title"], metadata=data["metadata"], created_by=request.user)
        imageset = selectors.imageset_get(imageset_id=created.pk)
        dropbox_url = _absolute(request, created.dropbox_url)
        body = ImageSetCreatedSerializer(imageset, context={"dropbox_url": dropbox_url}).data
        return Response(body, status=status.HTTP_200_OK)


class ImageSetDetailApi(APIView):
    @extend_schema(
        operation_id="image_sets_retrieve",
        tags=["image sets"],
        summary="Get an image set",
        description="The set with its status and `job`: after finishing, poll until `job.status` is "
        "`succeeded` (or `failed`); `job.skipped` names uploaded files that are not readable images.",
        parameters=[_IMAGESET_ID],
        responses={200: ImageSetSerializer, **errors(401, (404, "The image set does not exist."))},
    )
    def get(self, request, imageset_id: int):
        return Response(ImageSetSerializer(selectors.imageset_get(imageset_id=imageset_id)).data)

    @extend_schema(
        operation_id="image_sets_set_status",
        tags=["image sets"],
        summary="Finish an image set",
        description=(
            '`{"new_status": "finished"}` closes the dropbox and starts the background job that '
            "copies every uploaded file to its final place and registers it as an image; follow it in "
            "the set's `job`. `created` -> `finished` is the only transition. The answer never "
            "depends on the job broker: if it is down, the job stays `queued` and starts once it is back.\n\n"
            "Added: `finished` again on a finished set retries its job when the job `failed` or is stuck "
            "(its worker died, or it never reached the broker); the job goes on where it stopped."
        ),
        parameters=[_IMAGESET_ID],
        request=ImageSetStatusInputSerializer,
        responses={
            200: ok("The status changed; the job is queued."),
            **errors(
                (400, "`new_status` is missing or not a status. " + JSON_BODY_MALFORMED),
                401,
                (404, "The image set does not exist."),
                (
                    409,
                    "The set cannot go to that status (it is already finished, and its job is queued, "
                    "running or succeeded).",
                ),
            ),
        },
    )
    def put(self, request, imageset_id: int):
        data = _validated(ImageSetStatusInputSerializer, request.data)
        services.imageset_set_status(imageset_id=imageset_id, new_status=data["new_status"])
        return Response("ok")


@extend_schema_view(
    get=extend_schema(
        operation_id="image_sets_images_list",
        tags=["image sets"],
        summary="List the images of an image set",
        description="The set's images, ordered by id, 10 per page by default. Image-admins only.",
        parameters=[_IMAGESET_ID],
        responses={
            200: ImageSerializer(many=True),
            **errors(400, 401, (404, "The image set does not exist.")),
        },
    )
)
class ImageSetImagesApi(ListAPIView):
    serializer_class = ImageSerializer
    items_key = "images"

    def get_queryset(self):
        return selectors.imageset_image_list(imageset_id=self.kwargs["imageset_id"])

    @extend_schema(
        operation_id="image_sets_images_add",
        tags=["image sets"],
        summary="Add existing images to an image set",
        description="Each item names an image by `id` or by `filepath` (its `blobstorage_path`). All or "
        "nothing: one unknown image and none is added. Only while the set is `created`; images "
        "already in this set are ignored.",
        parameters=[_IMAGESET_ID],
        request=ImageRefSerializer(many=True),
        responses={
            200: ok("The images are in the set."),
            **errors(
                400,
                401,
                (
                    404,
                    "The image set, or one of the listed images, does not exist (`unknown` lists them; "
                    'an `id` outside 1..2^63-1 included). `id` must be a JSON integer: `"1"` and `1.0` '
                    "are a 400.",
                ),
                (409, "The set is finished, or an image belongs to another set (`image_ids`)."),
                (
                    413,
                    "More than `IMAGES_PER_REQUEST_MAX` (default 10,000) images listed (send them in "
                    "several requests), or a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` bytes. Nothing is stored.",
                ),
            ),
        },
    )
    def post(self, request, imageset_id: int):
        items = _validated(ImageRefSerializer, request.data, many=True)
        services.imageset_add_images(imageset_id=imageset_id, items=[dict(item) for item in items])
        return Response("ok")


@extend_schema_view(
    get=extend_schema(
        operation_id="images_list",
        tags=["images"],
        summary="List images",
        description="Every image, ordered by id, 10 per page by default. Image-admins only.",
        responses={200: ImageSerializer(many=True), **errors(400, 401)},
    )
)
class ImageListApi(ListAPIView):
    serializer_class = ImageSerializer
    items_key = "images"

    def get_queryset(self):
        return selectors.image_list()


class ImageDetailApi(APIView):
    permission_classes = [IsImageAdminOrImageLabeler]
    image_url_kwarg = "image_id"

    @extend_schema(
        operation_id="images_retrieve",
        tags=["images"],
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
        url = _absolute(request, selectors.image_read_url(image=image))
        return Response(status=status.HTTP_303_SEE_OTHER, headers={"Location": url})


# --- local storage: the dropbox upload endpoint ---------------------------------


class DropboxUploadApi(ForcedNegotiationMixin, APIView):
    """``PUT /dropbox/<token>/<filename>`` with the raw file as body, as Azure's Put Blob.

    The signed token is the credential (no API key): forged or expired 403,
    a set that is no longer ``created`` 409 (gone, or a new set with the same
    title: 403), a bad name 400, a body over ``LOCAL_DROPBOX_MAX_FILE_SIZE``
    413. The body is streamed to a temporary file, never held in memory, and
    moved into the dropbox under the set's row lock only if the set is still
    ``created`` (``imageset_dropbox_store``); otherwise it is dropped and the
    answer is 409/403. ``x-ms-blob-type`` is accepted and ignored.
    """

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        operation_id="dropbox_upload",
        tags=["files"],
        summary="Upload a file to an image set's dropbox (local storage)",
        description=(
            "The `dropbox_url` of an image set created with local storage. Send the raw file as body "
            "with `Content-Length`; the file is stored as `{filename}` until the set is finished. No "
            "key: the signed token in the URL is the credential, tied to the set (not its title). "
            "`201` means the finish job will register the file: an upload that is still streaming "
            "when the set is finished answers `409` and is not kept. `x-ms-blob-type` is accepted and "
            "ignored, so one client works against local and Azure storage alike."
        ),
        auth=[],
        parameters=[
            OpenApiParameter("token", str, OpenApiParameter.PATH, description="The signed token of the dropbox URL."),
            OpenApiParameter("filename", str, OpenApiParameter.PATH, description="The file's name in the set."),
        ],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={
            201: OpenApiResponse(description="Stored."),
            **errors(
                (400, "Invalid file name or Content-Length, or a body shorter than Content-Length."),
                (
                    403,
                    "The URL is forged or expired, or its image set is gone (deleted, even if a new "
                    "set has the same title).",
                ),
                (404, "The URL names no file: the token or file name is empty or malformed."),
                (
                    409,
                    "The image set is finished (also while this upload was streaming): its dropbox "
                    "is closed and the file is not kept.",
                ),
                411,
                413,
            ),
        },
    )
    def put(self, request, token: str, filename: str):
        try:
            dropbox, key = unsign_dropbox_token(token)
        except InvalidToken:
            raise DropboxClosed() from None
        storage = get_storage()
        if not hasattr(storage, "stage_dropbox_file"):
            raise DropboxClosed("This server does not accept local uploads")
        try:
            # Early, so no body is streamed for a closed dropbox; checked again before it lands.
            services.imageset_dropbox_check(dropbox_key=key, dropbox=dropbox)
        except NotFound:
            raise DropboxClosed() from None

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
            staged = storage.stage_dropbox_file(dropbox, filename, request._request, max_size=max_size)
            with staged:  # removed unless it lands in the dropbox
                if staged.size != length:
                    raise BadRequest(f"The body ended after {staged.size} of {length} bytes")
                services.imageset_dropbox_store(dropbox_key=key, dropbox=dropbox, upload=staged)
        except InvalidFileName as exc:
            raise BadRequest(f"Invalid file name: {exc}") from None
        except FileTooLarge:
            raise PayloadTooLarge(f"File too large: at most {max_size} bytes") from None
        except (ObjectNotFound, NotFound):
            raise DropboxClosed() from None
        return Response(status=status.HTTP_201_CREATED)
