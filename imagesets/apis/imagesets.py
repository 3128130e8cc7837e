"""The image-set endpoints: list and create, read and finish, and the set's images."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import Actor
from core.openapi import (
    ERROR_DESCRIPTIONS,
    JSON_BODY_MALFORMED,
    JSON_NUL_EXAMPLE,
    JSON_NUL_REFUSED,
    add_images_responses,
    errors,
    list_endpoint,
    ok,
)
from imagesets import selectors, services
from imagesets.inputs import parse_image_refs
from imagesets.serializers import (
    ImageOutputSerializer,
    ImageRefInputSerializer,
    ImageSetCreatedOutputSerializer,
    ImageSetCreateInputSerializer,
    ImageSetOutputSerializer,
    ImageSetStatusInputSerializer,
)

TAG = "image sets"
_IMAGESET_ID = OpenApiParameter("imageset_id", int, OpenApiParameter.PATH, description="The image set's id.")
_NO_IMAGESET = (404, "The image set does not exist.")


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@list_endpoint("image_sets_list", ImageSetOutputSerializer, items_key="image_sets", tag=TAG, summary="List image sets")
class ImageSetListCreateApi(ListAPIView):
    """Every image set, ordered by id, 10 per page by default. Image-admins only."""

    def get_queryset(self):
        return selectors.imageset_list()

    @extend_schema(
        operation_id="image_sets_create",
        tags=[TAG],
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
            200: ImageSetCreatedOutputSerializer,
            **errors(
                (400, f"{ERROR_DESCRIPTIONS[400]} {JSON_NUL_REFUSED}", JSON_NUL_EXAMPLE),
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
        dropbox_url = request.build_absolute_uri(created.dropbox_url)  # Azure: absolute; local: site-relative
        return Response(ImageSetCreatedOutputSerializer(imageset, context={"dropbox_url": dropbox_url}).data)


class ImageSetDetailApi(APIView):
    @extend_schema(
        operation_id="image_sets_retrieve",
        tags=[TAG],
        summary="Get an image set",
        description="The set with its status and `job`: after finishing, poll until `job.status` is "
        "`succeeded` (or `failed`); `job.skipped` names uploaded files that are not readable images.",
        parameters=[_IMAGESET_ID],
        responses={200: ImageSetOutputSerializer, **errors(401, _NO_IMAGESET)},
    )
    def get(self, request, imageset_id: int):
        return Response(ImageSetOutputSerializer(selectors.imageset_get(imageset_id=imageset_id)).data)

    @extend_schema(
        operation_id="image_sets_set_status",
        tags=[TAG],
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
        services.imageset_set_status(
            imageset_id=imageset_id, new_status=data["new_status"], actor=Actor.of_request(request)
        )
        return Response("ok")


@list_endpoint(
    "image_sets_images_list",
    ImageOutputSerializer,
    items_key="images",
    tag=TAG,
    summary="List the images of an image set",
    parameters=[_IMAGESET_ID],
    not_found=_NO_IMAGESET,
)
class ImageSetImagesApi(ListAPIView):
    """The set's images, ordered by id, 10 per page by default. Image-admins only."""

    def get_queryset(self):
        return selectors.imageset_image_list(imageset_id=self.kwargs["imageset_id"])

    @extend_schema(
        operation_id="image_sets_images_add",
        tags=[TAG],
        summary="Add existing images to an image set",
        description="Each item names an image by `id` or by `filepath` (its `blobstorage_path`). All or "
        "nothing: one unknown image and none is added. Only while the set is `created`; images "
        "already in this set are ignored.",
        parameters=[_IMAGESET_ID],
        request=ImageRefInputSerializer(many=True),
        responses=add_images_responses(
            to="image set",
            unknown="`unknown` lists them; ",
            conflict="The set is finished, or an image belongs to another set (`image_ids`).",
        ),
    )
    def post(self, request, imageset_id: int):
        refs = parse_image_refs(request.data)
        services.imageset_add_images(imageset_id=imageset_id, image_ids=refs.ids, paths=refs.paths)
        return Response("ok")
