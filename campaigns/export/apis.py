"""``GET /campaigns/{id}/labels.csv`` (the labels CSV, streamed; also the admin's download) and
``GET /campaigns/{id}/export`` (the last export's files)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsImageAdmin
from campaigns import openapi, selectors
from campaigns.export.files import export_files
from campaigns.export.formats import labels_csv_chunks
from campaigns.models import Campaign
from campaigns.serializers import CampaignExportOutputSerializer
from core.exceptions import Conflict, NotFound
from core.negotiation import ForcedNegotiationMixin


def labels_csv_response(*, campaign_id: int, title: str) -> StreamingHttpResponse:
    """The campaign's labels CSV as a download, built row by row while it is sent."""
    response = StreamingHttpResponse(labels_csv_chunks(campaign_id=campaign_id), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{title}_labels.csv"'
    return response


class CampaignLabelsCsvApi(ForcedNegotiationMixin, APIView):
    """The same CSV the export job writes, built row by row while it is sent (any campaign status)."""

    permission_classes = [IsImageAdmin]

    @openapi.CAMPAIGNS_LABELS_CSV
    def get(self, request, campaign_id: int):
        campaign = Campaign.objects.filter(pk=campaign_id).values("pk", "title").first()
        if campaign is None:
            raise NotFound(f"Campaign {campaign_id} not found")
        return labels_csv_response(campaign_id=campaign["pk"], title=campaign["title"])


class CampaignExportApi(APIView):
    """The files of the campaign's export as its job lists them, each with a read URL made for this answer."""

    permission_classes = [IsImageAdmin]

    @openapi.CAMPAIGNS_EXPORT
    def get(self, request, campaign_id: int):
        campaign = selectors.campaign_get(campaign_id=campaign_id)
        job = getattr(campaign, "job", None)
        if job is None:
            raise Conflict(f"Campaign {campaign.pk} has no export: it is {campaign.status}; finish it to export it")
        files = [
            {**file, "url": request.build_absolute_uri(file["url"]) if file["url"] else None}
            for file in export_files(job)
        ]
        return Response(CampaignExportOutputSerializer({"campaign": campaign, "files": files}).data)
