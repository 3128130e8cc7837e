"""Campaigns in the staff admin.

* ``campaign``: create one for an agency (key and secret shown once), add
  images, run every status step, follow the export, download ``labels.csv``.
* ``steps``: the status steps, as list actions and buttons; ``forms``: the campaign's forms.
* ``review``: a page per campaign image with its boxes drawn over it.
* ``history``: campaign images, submissions, boxes and export jobs, read-only.
* ``gold``: the campaign page's gold panel, and gold images to view and remove.
* ``images``: what campaigns adds to the image admin (a filter, "Add to campaign…",
  the campaigns of an image), registered through ``imagesets.hooks`` on import.
"""

from campaigns.admin import images  # noqa: F401  (registers the image admin's campaign extension)
from campaigns.admin.campaign import CampaignAdmin
from campaigns.admin.gold import GoldImageAdmin
from campaigns.admin.history import BoundingBoxAdmin, CampaignImageAdmin, CampaignJobAdmin, SubmissionAdmin

__all__ = [
    "CampaignAdmin",
    "CampaignImageAdmin",
    "CampaignJobAdmin",
    "BoundingBoxAdmin",
    "GoldImageAdmin",
    "SubmissionAdmin",
]
