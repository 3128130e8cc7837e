"""``GET /campaigns/{id}/labels.csv``: the labels CSV."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from campaigns.openapi.common import NO_CAMPAIGN, campaign_operation
from core.openapi import errors

CAMPAIGNS_LABELS_CSV = campaign_operation(
    "campaigns_labels_csv",
    "Download the labels CSV",
    "The labels CSV the export job writes, streamed, in any campaign status. Header "
    "`image_url,label,label_confidence`; one row per campaign image: `image_url` is the image "
    'path inside its container, `label` a JSON list of `{"label", "topX", "topY", '
    '"bottomX", "bottomY"}` as fractions of the image size (Azure ML\'s convention) and '
    "`label_confidence` a JSON list of the confidences in the same order. Image-admins only.",
    responses={
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The labels CSV (UTF-8)."),
        **errors(401, NO_CAMPAIGN),
    },
)
