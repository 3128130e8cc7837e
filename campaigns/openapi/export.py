"""``GET /campaigns/{id}/labels.csv`` (the labels CSV) and ``GET /campaigns/{id}/export`` (the export's files)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from campaigns.openapi.common import NO_CAMPAIGN, campaign_operation
from campaigns.serializers import CampaignExportOutputSerializer
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

CAMPAIGNS_EXPORT = campaign_operation(
    "campaigns_export",
    "List the export's files",
    "Added. The campaign's export job (as its `job` shows it) and the files it wrote, each with its "
    "`path` in storage, `size`, `sha256` and a read `url` valid for one hour, made afresh for every "
    "answer (no key headers: the URL carries its own signature). While the job runs, or after it "
    "failed, `files` holds what it has written so far; only a `succeeded` job's list is the whole "
    "export. Image-admins only.",
    responses={
        200: CampaignExportOutputSerializer,
        **errors(
            401,
            NO_CAMPAIGN,
            (409, "The campaign has no export: it is not finished yet."),
        ),
    },
    examples=[
        OpenApiExample(
            "A finished export",
            response_only=True,
            value={
                "campaign_id": 3,
                "job": {
                    "status": "succeeded",
                    "progress": {"done": 9, "total": 9},
                    "error": None,
                    "date_queued": "2024-03-15T10:00:00.000000Z",
                    "date_started": "2024-03-15T10:00:01.000000Z",
                    "date_done": "2024-03-15T10:00:04.000000Z",
                    "attempts": 1,
                },
                "files": [
                    {
                        "path": "imagesets/label_sets/beach-2024_labels.csv",
                        "size": 48213,
                        "sha256": "9f2c1e6b0d3a4c5e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e",
                        "url": "https://account.blob.core.windows.net/imagesets/label_sets/beach-2024_labels.csv"
                        "?se=2024-03-15T11%3A00%3A00Z&sp=r&sv=2025-01-05&sr=b&sig=REDACTED",
                    }
                ],
            },
        )
    ],
)
