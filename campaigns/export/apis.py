"""``GET /campaigns/{id}/labels.csv``: the labels CSV, streamed."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.views import APIView

from accounts.permissions import IsImageAdmin
from campaigns.export.formats import labels_csv_chunks
from campaigns.models import Campaign
from labelhub.exceptions import NotFound


class CampaignLabelsCsvApi(APIView):
    """The same CSV the export job writes, built row by row while it is sent (any campaign status)."""

    permission_classes = [IsImageAdmin]

    def perform_content_negotiation(self, request, force=False):
        # A client asking for text/csv must get the CSV, not a 406; error
        # bodies stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="campaigns_labels_csv",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The labels CSV")},
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
