"""``GET /campaigns/{id}/labels.csv``: the labels CSV, streamed (also the admin's download)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework.views import APIView

from accounts.permissions import IsImageAdmin
from campaigns.apis.common import NO_CAMPAIGN, campaign_operation
from campaigns.export.formats import labels_csv_chunks
from campaigns.models import Campaign
from core.exceptions import NotFound
from core.negotiation import ForcedNegotiationMixin
from core.openapi import errors


def labels_csv_response(*, campaign_id: int, title: str) -> StreamingHttpResponse:
    """The campaign's labels CSV as a download, built row by row while it is sent."""
    response = StreamingHttpResponse(labels_csv_chunks(campaign_id=campaign_id), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{title}_labels.csv"'
    return response


class CampaignLabelsCsvApi(ForcedNegotiationMixin, APIView):
    """The same CSV the export job writes, built row by row while it is sent (any campaign status)."""

    permission_classes = [IsImageAdmin]

    @campaign_operation(
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
    def get(self, request, campaign_id: int):
        campaign = Campaign.objects.filter(pk=campaign_id).values("pk", "title").first()
        if campaign is None:
            raise NotFound(f"Campaign {campaign_id} not found")
        return labels_csv_response(campaign_id=campaign["pk"], title=campaign["title"])
