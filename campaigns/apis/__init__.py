"""The campaign endpoints of the contract: thin views that parse the input, then call services and selectors."""

from campaigns.apis.campaigns import CampaignDetailApi, CampaignListApi
from campaigns.apis.images import CampaignImagesApi
from campaigns.apis.objects import CampaignObjectsApi, ImageObjectsApi
from campaigns.apis.predictions import CampaignImagePredictionsApi, CampaignPredictionsApi
from campaigns.apis.reviews import (
    CampaignReviewsApi,
    CampaignSampleApi,
    CampaignSampleDecisionApi,
    CampaignSamplesApi,
    CampaignStatsApi,
)

__all__ = [
    "CampaignDetailApi",
    "CampaignImagePredictionsApi",
    "CampaignImagesApi",
    "CampaignListApi",
    "CampaignObjectsApi",
    "CampaignPredictionsApi",
    "CampaignReviewsApi",
    "CampaignSampleApi",
    "CampaignSampleDecisionApi",
    "CampaignSamplesApi",
    "CampaignStatsApi",
    "ImageObjectsApi",
]
