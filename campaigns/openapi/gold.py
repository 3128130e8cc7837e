"""Gold images and quality: ``/campaigns/{id}/gold``, ``.../gold/{image_id}``, ``.../gold/from_campaign``,
``/campaigns/{id}/quality``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema_view

from campaigns.openapi.common import IMAGE_LISTED_TWICE_EXAMPLE, NO_CAMPAIGN, OBJECT_RULE_EXAMPLES, campaign_operation
from campaigns.serializers import (
    GoldCopiedOutputSerializer,
    GoldCopyInputSerializer,
    GoldImageOutputSerializer,
    GoldItemsInputSerializer,
    GoldUpdatedOutputSerializer,
    QualityOutputSerializer,
)
from core.openapi import JSON_BODY_MALFORMED, TOO_MANY_IMAGES, errors

GOLD_STATUS = "The campaign is not `created` or `active`."
STAFF_ONLY = "Image-admins only: the agency is never told which images are gold."
GOLD_ITEM_EXAMPLE = {
    "image_id": 17,
    "url": "/images/17",
    "source": "staff",
    "source_campaign_id": None,
    "objects": [
        {"label": "Plastic", "bounding_box": {"xmin": 13, "xmax": 57, "ymin": 123, "ymax": 198}},
        {"label": "Glass", "bounding_box": {"xmin": 80, "xmax": 140, "ymin": 20, "ymax": 90}},
    ],
    "score": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "mean_iou": 0.871429},
    "date_updated": "2026-12-01T10:02:11.512000Z",
}
QUALITY_EXAMPLE = {
    "campaign_id": 7,
    "gold": {
        "images": 50,
        "scored": 48,
        "precision": 0.931818,
        "recall": 0.911111,
        "f1": 0.921348,
        "mean_iou": 0.846203,
        "by_label": {
            "Glass": {"precision": 0.9, "recall": 0.818182, "f1": 0.857143},
            "Plastic": {"precision": 0.945946, "recall": 0.958904, "f1": 0.952381},
        },
    },
}

CAMPAIGNS_GOLD_LIST = extend_schema_view(
    get=campaign_operation(
        "campaigns_gold_list",
        "List a campaign's gold images",
        "Every gold image (an image whose correct boxes staff gave) by image id, 100 per page by default, "
        "with its reference boxes and the `score` of the agency's current submission of it against them "
        "(`precision`, `recall`, `f1`, `mean_iou`; null until the agency delivers it). " + STAFF_ONLY,
        examples=[
            OpenApiExample(
                "one gold image, delivered",
                value={"pagination": {"page": 1, "per_page": 100, "pages": 1, "total": 1}, "gold": [GOLD_ITEM_EXAMPLE]},
                response_only=True,
            )
        ],
        responses={200: GoldImageOutputSerializer(many=True), **errors(400, 401, NO_CAMPAIGN)},
    )
)

CAMPAIGNS_GOLD_REPLACE = campaign_operation(
    "campaigns_gold_replace",
    "Give gold images their reference boxes",
    "Each listed image becomes a gold image of the campaign with the given objects as its reference, "
    "replacing the reference it had (`[]`: nothing to find on it). Checked like `PUT .../objects`: the "
    "images must be the campaign's, the boxes inside them, the labels in the label schema (after the "
    "campaign's `label_translations`, stored translated as the agency's labels are). All or nothing; only "
    "while the campaign is `created` or `active`. Every submission of a gold image by the agency is then "
    "scored against it: its boxes matched one to one with the reference's by IoU, a match counting only "
    "with the same label and IoU >= `GOLD_IOU_THRESHOLD` (default 0.5). An image the agency already "
    "delivered is scored at once. Nothing the agency reads changes. " + STAFF_ONLY,
    request=GoldItemsInputSerializer,
    examples=[
        OpenApiExample(
            "two gold images",
            value={
                "items": [
                    {
                        "image_id": 17,
                        "objects": [
                            {"label": "Plastic", "bounding_box": {"xmin": 13, "xmax": 57, "ymin": 123, "ymax": 198}}
                        ],
                    },
                    {"image_id": 18, "objects": []},
                ]
            },
            request_only=True,
        ),
        OpenApiExample("given", value={"given": 2, "images": 50}, response_only=True),
    ],
    responses={
        200: GoldUpdatedOutputSerializer,
        **errors(
            (
                400,
                "Malformed body: not an object with `items`, then as `PUT .../objects`: a missing or mistyped "
                "field, an image listed twice (`image_id` and `object_index` name it). " + JSON_BODY_MALFORMED,
                IMAGE_LISTED_TWICE_EXAMPLE,
            ),
            401,
            (404, "The campaign does not exist, or a listed image is not part of it (`image_id`)."),
            (409, GOLD_STATUS),
            (413, TOO_MANY_IMAGES),
            (
                422,
                "A value out of range, as in `PUT .../objects`: a label over 128 characters or outside the "
                "label schema, a bounding box with min > max or outside the image, too many objects for one "
                "image. `image_id` and `object_index` name it.",
                OBJECT_RULE_EXAMPLES,
            ),
        ),
    },
)

CAMPAIGNS_GOLD_DESTROY = campaign_operation(
    "campaigns_gold_destroy",
    "Remove a gold image",
    "The image's reference and its scores are deleted; it stays in the campaign as an ordinary image. "
    "In any status. " + STAFF_ONLY,
    parameters=[OpenApiParameter("image_id", int, OpenApiParameter.PATH, description="The gold image's id.")],
    responses={
        204: None,
        **errors(401, (404, "The campaign does not exist, or the image is not one of its gold images.")),
    },
)

CAMPAIGNS_GOLD_FROM_CAMPAIGN = campaign_operation(
    "campaigns_gold_from_campaign",
    "Copy gold references from an earlier campaign",
    "For images this campaign shares with an earlier one (`campaign_id`) whose current revision there was "
    "accepted, the accepted boxes become the references here, checked as `PUT .../gold` checks them (this "
    "campaign's label schema). `image_ids`: only these (each must be in both campaigns and accepted "
    "there); absent or null: every such image. Replaces those images' references; all or nothing; only "
    "while this campaign is `created` or `active`. " + STAFF_ONLY,
    request=GoldCopyInputSerializer,
    examples=[
        OpenApiExample("three images", value={"campaign_id": 5, "image_ids": [17, 18, 40]}, request_only=True),
        OpenApiExample("copied", value={"given": 3, "images": 53, "image_ids": [17, 18, 40]}, response_only=True),
    ],
    responses={
        200: GoldCopiedOutputSerializer,
        **errors(
            (
                400,
                "Malformed body: not an object, `campaign_id` missing or not an integer, `image_ids` not a "
                "list of integers or listing an image twice. " + JSON_BODY_MALFORMED,
            ),
            401,
            (
                404,
                "This campaign or `campaign_id` does not exist, or a listed image is not part of one of them "
                "(`image_id`).",
            ),
            (
                409,
                GOLD_STATUS + " Or a listed image's current revision in `campaign_id` is not accepted (`image_id`).",
                {
                    "not accepted there": "Image 18 has no accepted submission in campaign 5; its current "
                    "revision there is 'pending'"
                },
            ),
            (413, TOO_MANY_IMAGES),
            (
                422,
                "`campaign_id` is this campaign or not an id; a copied box outside the image or a label outside "
                "this campaign's schema.",
            ),
        ),
    },
)

CAMPAIGNS_QUALITY = campaign_operation(
    "campaigns_quality",
    "Quality of a campaign's delivery against its gold images",
    "`gold`: the latest score of every delivered gold image pooled: true positives, false positives and "
    "false negatives summed over the images, then precision, recall, F1 and mean IoU of the sums (null "
    "while no gold image is scored; an image with no box in its reference nor its submission counts as "
    "1); `by_label`: the same per label. Computed by the database, a fixed number of queries. " + STAFF_ONLY,
    examples=[OpenApiExample("a campaign", value=QUALITY_EXAMPLE, response_only=True)],
    responses={200: QualityOutputSerializer, **errors(401, NO_CAMPAIGN)},
)
