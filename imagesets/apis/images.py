"""The image endpoints: the list, and reading one image file (a redirect)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import image_fetch_count
from accounts.models import ApiKey
from core.openapi import DATE_OR_DATE_TIME, ERROR_DESCRIPTIONS, errors, list_endpoint
from imagesets import selectors
from imagesets.inputs import LAT_LIMIT, LON_LIMIT, parse_image_filters
from imagesets.permissions import IsImageAdminOrImageLabeler
from imagesets.serializers import ImageOutputSerializer

TAG = "images"
_IMAGE_ID = OpenApiParameter("image_id", int, OpenApiParameter.PATH, description="The image's id.")


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


@list_endpoint(
    "images_list",
    ImageOutputSerializer,
    items_key="images",
    tag=TAG,
    summary="List images",
    parameters=IMAGE_FILTERS,
    bad_request=(
        400,
        f"{ERROR_DESCRIPTIONS[400]} Or a filter out of order: `date_taken_from` later than `date_taken_to`, "
        "`lat_min` greater than `lat_max`.",
        {"dates out of order": "date_taken_from must not be later than date_taken_to"},
    ),
)
class ImageListApi(ListAPIView):
    """Every image, ordered by id, 10 per page by default. Image-admins only.

    Added: filtered by when the image was taken (`date_taken_from`, `date_taken_to`) and where (a
    latitude/longitude box: `lat_min`, `lat_max`, `lon_min`, `lon_max`), each bound optional and
    all of them combined; e.g. `?date_taken_from=2024-03-01&date_taken_to=2024-03-31&lat_min=52`
    is "March 2024, north of 52°". The facts come from each file's EXIF, read when its set is
    finished, or from staff.
    """

    def get_queryset(self):
        return selectors.image_list(filters=parse_image_filters(self.request.query_params))


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
        if isinstance(request.auth, ApiKey) and not request.user.is_image_admin:
            image_fetch_count(api_key=request.auth)  # the agency's fetches, one counter per key and day
        return Response(status=status.HTTP_303_SEE_OTHER, headers={"Location": url})
