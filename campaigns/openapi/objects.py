"""Objects: ``/campaigns/{id}/objects`` (list, submit) and ``/images/{id}/objects`` (one campaign's)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view

from campaigns.openapi.common import (
    IMAGE_LISTED_TWICE_EXAMPLE,
    LABELER_OF_OTHER_CAMPAIGNS,
    NO_CAMPAIGN,
    OBJECT_RULE_EXAMPLES,
    campaign_operation,
)
from campaigns.serializers import (
    AnnotatedImageObjectsInputSerializer,
    CampaignImageObjectsOutputSerializer,
    ObjectOutputSerializer,
)
from core.openapi import JSON_BODY_MALFORMED, TOO_MANY_IMAGES, errors, ok

CAMPAIGNS_OBJECTS_LIST = extend_schema_view(
    get=campaign_operation(
        "campaigns_objects_list",
        "List a campaign's objects, image by image",
        "Every image of the campaign with its current objects (`[]` for none yet), 1000 "
        "images per page by default. Image-admins only.",
        responses={200: CampaignImageObjectsOutputSerializer(many=True), **errors(400, 401, NO_CAMPAIGN)},
    )
)

CAMPAIGNS_OBJECTS_REPLACE = campaign_operation(
    "campaigns_objects_replace",
    "Submit the objects found on images",
    "For every listed image its stored objects are replaced by the given ones and the image "
    "counts as labeled (an empty `objects` list: looked at, nothing found). Only while the "
    "campaign is `active`. All or nothing. The label stored is `label_translated` if given, "
    "else the campaign's `label_translations[label]` if there is one, else `label`. When every "
    "image is labeled the campaign becomes `completed`. An image may name its `annotator`, the "
    "agency's own id of the worker who labeled it (never an e-mail address), for the per-annotator "
    "figures of `GET /campaigns/{id}/annotators`. Image-admins and the campaign's labeler.",
    request=AnnotatedImageObjectsInputSerializer(many=True),
    examples=[
        OpenApiExample(
            "two images, one naming its annotator",
            value=[
                {
                    "image_id": 17,
                    "annotator": "team-b.worker-0042",
                    "objects": [
                        {
                            "label": "Plastic",
                            "confidence": 0.93,
                            "bounding_box": {"xmin": 13, "xmax": 57, "ymin": 123, "ymax": 198},
                        }
                    ],
                },
                {"image_id": 18, "objects": []},
            ],
            request_only=True,
        )
    ],
    responses={
        200: ok("Stored."),
        **errors(
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
                "`OBJECTS_PER_IMAGE_MAX` (default 1000) objects for one image, an `annotator` that is "
                "not a worker id (an e-mail address, say so). `image_id` and "
                "`object_index` name the offending image or object.",
                {
                    **OBJECT_RULE_EXAMPLES,
                    "an e-mail as the annotator": "Image 1: 'annotator' looks like an e-mail address; send the "
                    "agency's own id for the worker (1-64 letters, digits, '.', '_', ':' or '-', starting with a "
                    "letter or a digit), never a person's e-mail",
                },
            ),
        ),
    },
)

IMAGES_OBJECTS_LIST = extend_schema(
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
