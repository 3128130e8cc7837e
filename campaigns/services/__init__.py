"""Everything that writes campaigns, their images, labelers and objects (labeled boxes).

Every service is keyword-only, takes parsed, typed input (``campaigns.inputs``
parses the API's bodies) and is atomic; a status change locks the campaign
row (``select_for_update``) and checks ``Campaign.TRANSITIONS`` under that
lock, so two concurrent requests can never both make the same transition.
"""

from campaigns.services.boxes import objects_replace, objects_replace_by_annotator
from campaigns.services.campaigns import (
    campaign_create,
    campaign_export_queue,
    campaign_export_retry,
    campaign_lock,
    campaign_set_status,
)
from campaigns.services.gold import gold_copy_from_campaign, gold_delete, gold_import, gold_replace
from campaigns.services.images import AddedImages, campaign_add_images
from campaigns.services.inspection import campaign_set_reduced_inspection, inspection_resume
from campaigns.services.predictions import predictions_replace
from campaigns.services.reviews import review_withdraw, reviews_decide
from campaigns.services.samples import sample_decide_lot, sample_start

__all__ = [
    "AddedImages",
    "campaign_add_images",
    "campaign_create",
    "campaign_export_queue",
    "campaign_export_retry",
    "campaign_lock",
    "campaign_set_reduced_inspection",
    "campaign_set_status",
    "gold_copy_from_campaign",
    "gold_delete",
    "gold_import",
    "gold_replace",
    "inspection_resume",
    "objects_replace",
    "objects_replace_by_annotator",
    "review_withdraw",
    "reviews_decide",
    "sample_decide_lot",
    "sample_start",
    "predictions_replace",
]
