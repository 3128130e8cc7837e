"""The OpenAPI declarations of the image-set, image and dropbox endpoints, one decorator per operation.

Named after the operation (``IMAGE_SETS_CREATE`` is ``image_sets_create``) and applied in
``imagesets.apis`` as ``@openapi.IMAGE_SETS_CREATE``, so a view holds its HTTP code and this
module its descriptions, examples and error tables.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from core.openapi import (
    DATE_OR_DATE_TIME,
    ERROR_DESCRIPTIONS,
    JSON_BODY_MALFORMED,
    JSON_NUL_EXAMPLE,
    JSON_NUL_REFUSED,
    add_images_responses,
    errors,
    ok,
)
from imagesets.inputs import LAT_LIMIT, LON_LIMIT
from imagesets.serializers import (
    ImageOutputSerializer,
    ImageRefInputSerializer,
    ImageSetCreatedOutputSerializer,
    ImageSetCreateInputSerializer,
    ImageSetOutputSerializer,
    ImageSetStatusInputSerializer,
    ImageSetUploadUrlOutputSerializer,
)

IMAGE_SETS_TAG = "image sets"
IMAGES_TAG = "images"
IMAGESET_ID = OpenApiParameter("imageset_id", int, OpenApiParameter.PATH, description="The image set's id.")
NO_IMAGESET = (404, "The image set does not exist.")
IMAGE_ID = OpenApiParameter("image_id", int, OpenApiParameter.PATH, description="The image's id.")


def _filter(name: str, kind, description: str, example: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        kind,
        OpenApiParameter.QUERY,
        required=False,
        description=f"Added. {description} A malformed or impossible value is a 400 naming the parameter.",
        examples=[OpenApiExample(name, value=example)],
    )


def _degrees(limit: float) -> dict:
    return {"type": "number", "format": "double", "minimum": -limit, "maximum": limit}


_DATE = "An ISO 8601 date or date-time (without an offset: UTC), inclusive; images without a `date_taken` never match."
_BOX = "Decimal degrees, inclusive; images without a `location` never match."
IMAGE_FILTERS = [
    _filter("date_taken_from", DATE_OR_DATE_TIME, f"Taken at or after this moment. {_DATE}", "2024-03-01"),
    _filter(
        "date_taken_to",
        DATE_OR_DATE_TIME,
        f"Taken at or before this moment (a date: that whole day). {_DATE}",
        "2024-03-31",
    ),
    _filter("lat_min", _degrees(LAT_LIMIT), f"South edge of the box, -90..90. {_BOX}", "52.0"),
    _filter("lat_max", _degrees(LAT_LIMIT), f"North edge of the box, -90..90, not below `lat_min`. {_BOX}", "53.5"),
    _filter("lon_min", _degrees(LON_LIMIT), f"West edge of the box, -180..180. {_BOX}", "3.3"),
    _filter(
        "lon_max",
        _degrees(LON_LIMIT),
        f"East edge of the box, -180..180; below `lon_min`, the box crosses the 180th meridian. {_BOX}",
        "7.2",
    ),
]


# --- /image_sets -------------------------------------------------------------------

IMAGE_SETS_LIST = extend_schema_view(
    get=extend_schema(
        operation_id="image_sets_list",
        tags=[IMAGE_SETS_TAG],
        summary="List image sets",
        description="Every image set, ordered by id, 10 per page by default. Image-admins only.",
        responses={200: ImageSetOutputSerializer(many=True), **errors(400, 401)},
    )
)

IMAGE_SETS_CREATE = extend_schema(
    operation_id="image_sets_create",
    tags=[IMAGE_SETS_TAG],
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

IMAGE_SETS_RETRIEVE = extend_schema(
    operation_id="image_sets_retrieve",
    tags=[IMAGE_SETS_TAG],
    summary="Get an image set",
    description="The set with its status and `job`: after finishing, poll until `job.status` is "
    "`succeeded` (or `failed`); `job.skipped` names uploaded files that are not readable images.",
    parameters=[IMAGESET_ID],
    responses={200: ImageSetOutputSerializer, **errors(401, NO_IMAGESET)},
)

IMAGE_SETS_SET_STATUS = extend_schema(
    operation_id="image_sets_set_status",
    tags=[IMAGE_SETS_TAG],
    summary="Finish an image set",
    description=(
        '`{"new_status": "finished"}` closes the dropbox and starts the background job that '
        "copies every uploaded file to its final place and registers it as an image; follow it in "
        "the set's `job`. `created` -> `finished` is the only transition. The answer never "
        "depends on the job broker: if it is down, the job stays `queued` and starts once it is back.\n\n"
        "Added: `finished` again on a finished set retries its job when the job `failed` or is stuck "
        "(its worker died, or it never reached the broker); the job goes on where it stopped."
    ),
    parameters=[IMAGESET_ID],
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

IMAGE_SETS_UPLOAD_URL = extend_schema(
    operation_id="image_sets_upload_url",
    tags=[IMAGE_SETS_TAG],
    summary="Issue a new upload URL of a set's dropbox",
    description=(
        "Added. A fresh `dropbox_url` for a set that is still `created`, as `POST /image_sets` "
        "returned one and as the admin's image-set page shows one: for uploads that outlast the first "
        "URL (valid `IMAGESET_UPLOAD_TOKEN_VALID_DAYS` days), or for a client that did not keep it. "
        "Earlier URLs of the set stay valid until they expire; finishing or deleting the set closes "
        "every one. No body. Image-admins only."
    ),
    parameters=[IMAGESET_ID],
    request=None,
    responses={
        200: ImageSetUploadUrlOutputSerializer,
        **errors(
            401,
            NO_IMAGESET,
            (409, "The set is finished: its dropbox is closed."),
            (503, "The storage could not issue the URL (it is unreachable or refused); try again."),
        ),
    },
    examples=[
        OpenApiExample(
            "Azure storage",
            response_only=True,
            value={
                "imageset_id": 2,
                "dropbox_url": "https://account.blob.core.windows.net/dropbox-imageset-26-10-2020"
                "?si=k3Jd9a&sv=2025-01-05&sr=c&sig=REDACTED",
            },
        )
    ],
)

IMAGE_SETS_IMAGES_LIST = extend_schema_view(
    get=extend_schema(
        operation_id="image_sets_images_list",
        tags=[IMAGE_SETS_TAG],
        summary="List the images of an image set",
        description="The set's images, ordered by id, 10 per page by default. Image-admins only.",
        parameters=[IMAGESET_ID],
        responses={200: ImageOutputSerializer(many=True), **errors(400, 401, NO_IMAGESET)},
    )
)

IMAGE_SETS_IMAGES_ADD = extend_schema(
    operation_id="image_sets_images_add",
    tags=[IMAGE_SETS_TAG],
    summary="Add existing images to an image set",
    description="Each item names an image by `id` or by `filepath` (its `blobstorage_path`). All or "
    "nothing: one unknown image and none is added. Only while the set is `created`; images "
    "already in this set are ignored.",
    parameters=[IMAGESET_ID],
    request=ImageRefInputSerializer(many=True),
    responses=add_images_responses(
        to="image set",
        unknown="`unknown` lists them; ",
        conflict="The set is finished, or an image belongs to another set (`image_ids`).",
    ),
)


# --- /images -----------------------------------------------------------------------

IMAGES_LIST = extend_schema_view(
    get=extend_schema(
        operation_id="images_list",
        tags=[IMAGES_TAG],
        summary="List images",
        description="Every image, ordered by id, 10 per page by default. Image-admins only.\n\n"
        "Added: filtered by when the image was taken (`date_taken_from`, `date_taken_to`) and where (a\n"
        "latitude/longitude box: `lat_min`, `lat_max`, `lon_min`, `lon_max`), each bound optional and\n"
        "all of them combined; e.g. `?date_taken_from=2024-03-01&date_taken_to=2024-03-31&lat_min=52`\n"
        'is "March 2024, north of 52°". The facts come from each file\'s EXIF, read when its set is\n'
        "finished, or from staff.",
        parameters=IMAGE_FILTERS,
        responses={
            200: ImageOutputSerializer(many=True),
            **errors(
                (
                    400,
                    f"{ERROR_DESCRIPTIONS[400]} Or a filter out of order: `date_taken_from` later than "
                    "`date_taken_to`, `lat_min` greater than `lat_max`.",
                    {"dates out of order": "date_taken_from must not be later than date_taken_to"},
                ),
                401,
            ),
        },
    )
)

IMAGES_RETRIEVE = extend_schema(
    operation_id="images_retrieve",
    tags=[IMAGES_TAG],
    summary="Read an image (redirect)",
    description=(
        "Answers `303 See Other` with `Location`: a short-lived URL reading exactly this image "
        "file (Azure storage: a blob SAS URL; local storage: a signed labelhub URL, "
        "`GET /files/{token}`), valid for `IMAGE_READ_TOKEN_VALID_DAYS` (default 7) days. Follow "
        "it without the key headers. Image-admins, and labelers whose campaign holds the image."
    ),
    parameters=[
        IMAGE_ID,
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


# --- the local dropbox -------------------------------------------------------------

DROPBOX_UPLOAD = extend_schema(
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
