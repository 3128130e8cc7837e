"""The campaign app's tables, every one importable from ``campaigns.models``: Django and the code import them here.

``campaigns``: campaigns, their labelers, their images (``ReviewState``) and the export job;
``submissions``: submissions and their bounding boxes (``LABEL_MAX_LENGTH``);
``reviews``: reviews, acceptance samples, the images drawn into each and its lot;
``gold``: gold images, their reference boxes and the scores of submissions against them.
"""

from campaigns.models.campaigns import (
    Campaign,
    CampaignImage,
    CampaignJob,
    CampaignLabeler,
    CampaignQuerySet,
    ReviewState,
)
from campaigns.models.gold import GoldBox, GoldImage, GoldScore, GoldScoreLabel
from campaigns.models.reviews import Review, ReviewLotImage, ReviewSample, ReviewSampleImage
from campaigns.models.submissions import (
    ANNOTATOR_MAX_LENGTH,
    LABEL_MAX_LENGTH,
    BoundingBox,
    BoundingBoxQuerySet,
    Submission,
)

__all__ = [
    "ANNOTATOR_MAX_LENGTH",
    "LABEL_MAX_LENGTH",
    "BoundingBox",
    "BoundingBoxQuerySet",
    "Campaign",
    "CampaignImage",
    "CampaignJob",
    "CampaignLabeler",
    "CampaignQuerySet",
    "GoldBox",
    "GoldImage",
    "GoldScore",
    "GoldScoreLabel",
    "Review",
    "ReviewLotImage",
    "ReviewSample",
    "ReviewSampleImage",
    "ReviewState",
    "Submission",
]
