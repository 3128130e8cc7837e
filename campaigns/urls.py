"""Campaign routes of ``/api/v1`` (no trailing slashes, as the contract writes them)."""

from django.urls import path

from campaigns import apis

urlpatterns = [
    path("campaigns", apis.CampaignListApi.as_view(), name="campaign-list"),
    path("campaigns/<int:campaign_id>", apis.CampaignDetailApi.as_view(), name="campaign-detail"),
    path("campaigns/<int:campaign_id>/images", apis.CampaignImagesApi.as_view(), name="campaign-images"),
    path("campaigns/<int:campaign_id>/objects", apis.CampaignObjectsApi.as_view(), name="campaign-objects"),
    path("campaigns/<int:campaign_id>/reviews", apis.CampaignReviewsApi.as_view(), name="campaign-reviews"),
    path("campaigns/<int:campaign_id>/samples", apis.CampaignSamplesApi.as_view(), name="campaign-samples"),
    path(
        "campaigns/<int:campaign_id>/samples/<int:sample_id>", apis.CampaignSampleApi.as_view(), name="campaign-sample"
    ),
    path(
        "campaigns/<int:campaign_id>/samples/<int:sample_id>/decision",
        apis.CampaignSampleDecisionApi.as_view(),
        name="campaign-sample-decision",
    ),
    path("campaigns/<int:campaign_id>/stats", apis.CampaignStatsApi.as_view(), name="campaign-stats"),
    path("campaigns/<int:campaign_id>/inspection", apis.CampaignInspectionApi.as_view(), name="campaign-inspection"),
    path(
        "campaigns/<int:campaign_id>/inspection/resume",
        apis.CampaignInspectionResumeApi.as_view(),
        name="campaign-inspection-resume",
    ),
    path("campaigns/<int:campaign_id>/agreement", apis.CampaignAgreementApi.as_view(), name="campaign-agreement"),
    path("campaigns/<int:campaign_id>/annotators", apis.CampaignAnnotatorsApi.as_view(), name="campaign-annotators"),
    path("campaigns/<int:campaign_id>/gold", apis.CampaignGoldApi.as_view(), name="campaign-gold"),
    path(
        "campaigns/<int:campaign_id>/gold/from_campaign",
        apis.CampaignGoldCopyApi.as_view(),
        name="campaign-gold-from-campaign",
    ),
    path(
        "campaigns/<int:campaign_id>/gold/<int:image_id>",
        apis.CampaignGoldImageApi.as_view(),
        name="campaign-gold-image",
    ),
    path("campaigns/<int:campaign_id>/quality", apis.CampaignQualityApi.as_view(), name="campaign-quality"),
    path("images/<int:image_id>/objects", apis.ImageObjectsApi.as_view(), name="image-objects"),
    path("campaigns/<int:campaign_id>/predictions", apis.CampaignPredictionsApi.as_view(), name="campaign-predictions"),
    path(
        "campaigns/<int:campaign_id>/images/<int:image_id>/objects",
        apis.CampaignImagePredictionsApi.as_view(),
        name="campaign-image-objects",
    ),
]
