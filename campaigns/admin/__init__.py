"""Campaigns in the staff admin.

* ``campaign``: create one for an agency (key and secret shown once), add
  images, run every status step, follow the export, download ``labels.csv``.
* ``review``: a page per campaign image with its objects drawn over it.
* ``history``: campaign images, submissions, objects and export jobs, read-only.
"""

from campaigns.admin.campaign import CampaignAdmin
from campaigns.admin.history import BoundingBoxAdmin, CampaignImageAdmin, CampaignJobAdmin, SubmissionAdmin

__all__ = ["CampaignAdmin", "CampaignImageAdmin", "CampaignJobAdmin", "BoundingBoxAdmin", "SubmissionAdmin"]
