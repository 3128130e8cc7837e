"""Pre-annotations: ``PUT /campaigns/{id}/predictions`` and ``GET /campaigns/{id}/images/{image_id}/objects``.

The serializers here describe the two bodies in the document only:
``campaigns.predictions.parse_predictions`` parses the request, the view shapes the answer.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import serializers

from campaigns.openapi.common import (
    IMAGE_LISTED_TWICE_EXAMPLE,
    LABELER_OF_OTHER_CAMPAIGNS,
    NO_CAMPAIGN,
    OBJECT_RULE_EXAMPLES,
    campaign_operation,
)
from campaigns.serializers import ImageObjectsInputSerializer, ObjectOutputSerializer
from core.openapi import JSON_BODY_MALFORMED, TOO_MANY_IMAGES, errors, ok
from core.validators import NO_NUL_PATTERN

IMAGE_ID = OpenApiParameter("image_id", int, OpenApiParameter.PATH, description="An image of the campaign.")


class ModelInputSerializer(serializers.Serializer):
    name = serializers.RegexField(NO_NUL_PATTERN, min_length=1, max_length=128, help_text="The model's name.")
    version = serializers.RegexField(
        NO_NUL_PATTERN,
        min_length=1,
        max_length=128,
        required=False,
        allow_null=True,
        help_text="Its version (optional).",
    )

    class Meta:
        ref_name = "PredictionModel"


class PredictionsInputSerializer(serializers.Serializer):
    """Describes the body in the API schema only: ``campaigns.predictions.parse_predictions`` parses it."""

    model = ModelInputSerializer()
    items = ImageObjectsInputSerializer(
        many=True, help_text="As the body of `PUT /campaigns/{id}/objects`: each image with its predicted objects."
    )


class PredictionsOutputSerializer(serializers.Serializer):
    model = ModelInputSerializer(allow_null=True, help_text="The model that predicted them; null when none did.")
    date_created = serializers.DateTimeField(allow_null=True)
    objects = ObjectOutputSerializer(many=True)


class SubmittedOutputSerializer(serializers.Serializer):
    submission_id = serializers.IntegerField()
    date_created = serializers.DateTimeField()
    objects = ObjectOutputSerializer(many=True)


class ImagePredictionsOutputSerializer(serializers.Serializer):
    image_id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    labeled = serializers.BooleanField()
    predictions = PredictionsOutputSerializer(help_text="The model's current pre-annotations of the image.")
    submission = SubmittedOutputSerializer(
        allow_null=True, help_text="The agency's current submission for the image; null before it labels it."
    )

    class Meta:
        ref_name = "ImagePredictionsAndObjects"


PREDICTION_EXAMPLE = {
    "model": {"name": "litter-detector", "version": "2024-06"},
    "items": [
        {
            "image_id": 1,
            "objects": [
                {
                    "label": "Plastic",
                    "confidence": 0.87,
                    "bounding_box": {"xmin": 10, "xmax": 50, "ymin": 5, "ymax": 40},
                }
            ],
        }
    ],
}

CAMPAIGNS_PREDICTIONS_REPLACE = campaign_operation(
    "campaigns_predictions_replace",
    "Load a model's predictions (pre-annotations)",
    "Added. For every listed image its predicted boxes are replaced by the given ones, recorded as a "
    "submission from the model (`model.name`, `model.version`). Predictions never label an image, "
    "never become its current objects and are never exported as labels; the agency reads them with "
    "`GET /campaigns/{id}/images/{image_id}/objects`, and the export compares them with what the "
    "agency submitted. `items` is validated like `PUT /campaigns/{id}/objects` (labels translated "
    "and checked against the label schema the same way). While the campaign is `created` or "
    "`active`. All or nothing. Image-admins only.",
    request=PredictionsInputSerializer,
    examples=[OpenApiExample("One image", value=PREDICTION_EXAMPLE, request_only=True)],
    responses={
        200: ok("Stored."),
        **errors(
            (
                400,
                "Malformed body: not an object, `model` missing or not an object, `model.name` not a string, "
                "or `items` malformed as for `PUT /campaigns/{id}/objects`. " + JSON_BODY_MALFORMED,
                IMAGE_LISTED_TWICE_EXAMPLE,
            ),
            401,
            (404, "The campaign does not exist, or a listed image is not part of it (`image_id`)."),
            (409, "The campaign is `completed` or `finished`."),
            (413, TOO_MANY_IMAGES),
            (
                422,
                "A model name or version over 128 characters, or a value out of range as for "
                "`PUT /campaigns/{id}/objects` (a box with min > max or outside the image, a label "
                "outside the schema).",
                OBJECT_RULE_EXAMPLES,
            ),
        ),
    },
)

CAMPAIGNS_IMAGE_OBJECTS_RETRIEVE = campaign_operation(
    "campaigns_image_objects_retrieve",
    "Read an image's predictions and current objects",
    "Added. The model's current predictions for the image (`predictions`; `model: null` and no "
    "objects when none were loaded) and the campaign's current submission for it (`submission`, "
    "null before it is labeled). Image-admins and the campaign's labeler.",
    parameters=[IMAGE_ID],
    responses={
        200: ImagePredictionsOutputSerializer,
        **errors(LABELER_OF_OTHER_CAMPAIGNS, (404, NO_CAMPAIGN[1] + " Or the image is not part of it.")),
    },
    examples=[
        OpenApiExample(
            "Predicted, then labeled",
            response_only=True,
            value={
                "image_id": 1,
                "campaign_id": 3,
                "labeled": True,
                "predictions": {
                    "model": {"name": "litter-detector", "version": "2024-06"},
                    "date_created": "2024-06-01T10:00:00.000000Z",
                    "objects": [
                        {
                            "object_id": 11,
                            "image_id": 1,
                            "campaign_id": 3,
                            "label": "Plastic",
                            "label_original": "Plastic",
                            "confidence": 0.87,
                            "bounding_box": {"xmin": 10, "xmax": 50, "ymin": 5, "ymax": 40},
                            "date_added": "2024-06-01T10:00:00.000000Z",
                        }
                    ],
                },
                "submission": {
                    "submission_id": 12,
                    "date_created": "2024-06-02T09:30:00.000000Z",
                    "objects": [
                        {
                            "object_id": 20,
                            "image_id": 1,
                            "campaign_id": 3,
                            "label": "Plastic",
                            "label_original": "Plastic",
                            "confidence": None,
                            "bounding_box": {"xmin": 12, "xmax": 50, "ymin": 5, "ymax": 41},
                            "date_added": "2024-06-02T09:30:00.000000Z",
                        }
                    ],
                },
            },
        )
    ],
)
