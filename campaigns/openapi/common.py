"""What the campaign operations share: the path parameter, common answers, ``campaign_operation``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema

CAMPAIGN_ID = OpenApiParameter("campaign_id", int, OpenApiParameter.PATH, description="The campaign's id.")
NO_CAMPAIGN = (404, "The campaign does not exist.")
LABELER_OF_OTHER_CAMPAIGNS = (401, "No valid key, or a labeler of other campaigns.")
# How the rules of a submitted object that the request schema cannot express are answered:
# one field against another, or against the stored image and label schema.
OBJECT_RULE_EXAMPLES = {
    "a box with min > max": "Image 1, object 0: 'bounding_box.ymin' must not be greater than 'ymax'",
    "a box outside the image": "Image 1, object 0: the bounding box lies outside the image (200x100)",
}
IMAGE_LISTED_TWICE_EXAMPLE = {"an image listed twice": "Image 1 is listed more than once"}


def campaign_operation(operation_id: str, summary: str, description: str, *, parameters=(), **schema):
    """``extend_schema`` of an operation on ``/campaigns/{campaign_id}...`` (tag ``campaigns``)."""
    return extend_schema(
        operation_id=operation_id,
        tags=["campaigns"],
        summary=summary,
        description=description,
        parameters=[CAMPAIGN_ID, *parameters],
        **schema,
    )
