from django.urls import path

from campaigns.export.apis import CampaignLabelsCsvApi

urlpatterns = [
    path("campaigns/<int:pk>/labels.csv", CampaignLabelsCsvApi.as_view(), name="campaign-labels-csv"),
]
