"""Everything that writes campaigns, their images, labelers and objects (labeled boxes).

Every service is keyword-only, takes parsed, typed input (``campaigns.inputs``
parses the API's bodies) and is atomic; a status change locks the campaign
row (``select_for_update``) and checks ``Campaign.TRANSITIONS`` under that
lock, so two concurrent requests can never both make the same transition.
"""

from campaigns.services.boxes import objects_replace
from campaigns.services.campaigns import (
    campaign_create,
    campaign_export_queue,
    campaign_export_retry,
    campaign_lock,
    campaign_set_status,
)
from campaigns.services.images import AddedImages, campaign_add_images
from campaigns.services.predictions import predictions_replace
from campaigns.services.reviews import reviews_decide
from campaigns.services.samples import sample_decide_lot, sample_start

__all__ = [
    "AddedImages",
    "campaign_add_images",
    "campaign_create",
    "campaign_export_queue",
    "campaign_export_retry",
    "campaign_lock",
    "campaign_set_status",
    "objects_replace",
    "reviews_decide",
    "sample_decide_lot",
    "sample_start",
    "predictions_replace",
]
