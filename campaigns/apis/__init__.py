"""The campaign endpoints of the contract: thin views that parse the input, then call services and selectors."""

from campaigns.apis.agreement import CampaignAgreementApi, CampaignAnnotatorsApi
from campaigns.apis.campaigns import CampaignDetailApi, CampaignListApi
from campaigns.apis.gold import CampaignGoldApi, CampaignGoldCopyApi, CampaignGoldImageApi, CampaignQualityApi
from campaigns.apis.images import CampaignImagesApi
from campaigns.apis.inspection import CampaignInspectionApi, CampaignInspectionResumeApi
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
    "CampaignAgreementApi",
    "CampaignAnnotatorsApi",
    "CampaignDetailApi",
    "CampaignGoldApi",
    "CampaignGoldCopyApi",
    "CampaignGoldImageApi",
    "CampaignImagePredictionsApi",
    "CampaignImagesApi",
    "CampaignInspectionApi",
    "CampaignInspectionResumeApi",
    "CampaignListApi",
    "CampaignObjectsApi",
    "CampaignPredictionsApi",
    "CampaignQualityApi",
    "CampaignReviewsApi",
    "CampaignSampleApi",
    "CampaignSampleDecisionApi",
    "CampaignSamplesApi",
    "CampaignStatsApi",
    "ImageObjectsApi",
]
