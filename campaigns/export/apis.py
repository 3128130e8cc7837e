"""``GET /campaigns/{id}/labels.csv``: the labels CSV, streamed."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.views import APIView

from accounts.permissions import IsImageAdmin
from campaigns.export.formats import labels_csv_chunks
from campaigns.models import Campaign
from labelhub.exceptions import NotFound
from labelhub.negotiation import ForcedNegotiationMixin
from labelhub.schema import errors


class CampaignLabelsCsvApi(ForcedNegotiationMixin, APIView):
    """The same CSV the export job writes, built row by row while it is sent (any campaign status)."""

    permission_classes = [IsImageAdmin]

    @extend_schema(
        operation_id="campaigns_labels_csv",
        tags=["campaigns"],
        summary="Download the labels CSV",
        description=(
            "The labels CSV the export job writes, streamed, in any campaign status. Header "
            "`image_url,label,label_confidence`; one row per campaign image: `image_url` is the image "
            'path inside its container, `label` a JSON list of `{"label", "topX", "topY", '
            '"bottomX", "bottomY"}` as fractions of the image size (Azure ML\'s convention) and '
            "`label_confidence` a JSON list of the confidences in the same order. Image-admins only."
        ),
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The campaign's id.")],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The labels CSV (UTF-8)."),
            **errors(401, (404, "The campaign does not exist.")),
        },
    )
    def get(self, request, pk: int):
        campaign = Campaign.objects.filter(pk=pk).values("pk", "title").first()
        if campaign is None:
            raise NotFound(f"Campaign {pk} not found")
        response = StreamingHttpResponse(
            labels_csv_chunks(campaign_id=campaign["pk"]), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{campaign["title"]}_labels.csv"'
        return response
