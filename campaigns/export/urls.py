from django.urls import path

from campaigns.export.apis import CampaignExportApi, CampaignLabelsCsvApi

urlpatterns = [
    path("campaigns/<int:campaign_id>/labels.csv", CampaignLabelsCsvApi.as_view(), name="campaign-labels-csv"),
    path("campaigns/<int:campaign_id>/export", CampaignExportApi.as_view(), name="campaign-export"),
]
