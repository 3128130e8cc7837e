from django.urls import path

from campaigns.export.apis import CampaignLabelsCsvApi

urlpatterns = [
    path("campaigns/<int:campaign_id>/labels.csv", CampaignLabelsCsvApi.as_view(), name="campaign-labels-csv"),
]
