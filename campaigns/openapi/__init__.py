"""The OpenAPI declarations of the campaign endpoints, one ``extend_schema`` decorator per operation.

Named after the operation (``CAMPAIGNS_CREATE`` is ``campaigns_create``) and applied
in ``campaigns.apis`` and ``campaigns.export.apis`` as ``@openapi.CAMPAIGNS_CREATE``, so a
view holds its HTTP code and this package its descriptions, examples and error tables.
``common``: the path parameter, shared answers and ``campaign_operation``; then one module
per ``apis`` module.
"""

from campaigns.openapi.agreement import CAMPAIGNS_AGREEMENT, CAMPAIGNS_ANNOTATORS
from campaigns.openapi.campaigns import (
    CAMPAIGNS_CREATE,
    CAMPAIGNS_LIST,
    CAMPAIGNS_RETRIEVE,
    CAMPAIGNS_SET_STATUS,
)
from campaigns.openapi.export import CAMPAIGNS_EXPORT, CAMPAIGNS_LABELS_CSV
from campaigns.openapi.gold import (
    CAMPAIGNS_GOLD_DESTROY,
    CAMPAIGNS_GOLD_FROM_CAMPAIGN,
    CAMPAIGNS_GOLD_LIST,
    CAMPAIGNS_GOLD_REPLACE,
    CAMPAIGNS_QUALITY,
)
from campaigns.openapi.images import CAMPAIGNS_IMAGES_ADD, CAMPAIGNS_IMAGES_LIST
from campaigns.openapi.inspection import (
    CAMPAIGNS_INSPECTION_RESUME,
    CAMPAIGNS_INSPECTION_RETRIEVE,
    CAMPAIGNS_INSPECTION_UPDATE,
)
from campaigns.openapi.objects import CAMPAIGNS_OBJECTS_LIST, CAMPAIGNS_OBJECTS_REPLACE, IMAGES_OBJECTS_LIST
from campaigns.openapi.predictions import CAMPAIGNS_IMAGE_OBJECTS_RETRIEVE, CAMPAIGNS_PREDICTIONS_REPLACE
from campaigns.openapi.reviews import (
    CAMPAIGNS_REVIEWS_DECIDE,
    CAMPAIGNS_REVIEWS_LIST,
    CAMPAIGNS_SAMPLES_DECIDE,
    CAMPAIGNS_SAMPLES_LIST,
    CAMPAIGNS_SAMPLES_RETRIEVE,
    CAMPAIGNS_SAMPLES_START,
    CAMPAIGNS_STATS,
)

__all__ = [
    "CAMPAIGNS_AGREEMENT",
    "CAMPAIGNS_ANNOTATORS",
    "CAMPAIGNS_CREATE",
    "CAMPAIGNS_EXPORT",
    "CAMPAIGNS_GOLD_DESTROY",
    "CAMPAIGNS_GOLD_FROM_CAMPAIGN",
    "CAMPAIGNS_GOLD_LIST",
    "CAMPAIGNS_GOLD_REPLACE",
    "CAMPAIGNS_IMAGES_ADD",
    "CAMPAIGNS_IMAGES_LIST",
    "CAMPAIGNS_IMAGE_OBJECTS_RETRIEVE",
    "CAMPAIGNS_INSPECTION_RESUME",
    "CAMPAIGNS_INSPECTION_RETRIEVE",
    "CAMPAIGNS_INSPECTION_UPDATE",
    "CAMPAIGNS_LABELS_CSV",
    "CAMPAIGNS_LIST",
    "CAMPAIGNS_OBJECTS_LIST",
    "CAMPAIGNS_OBJECTS_REPLACE",
    "CAMPAIGNS_PREDICTIONS_REPLACE",
    "CAMPAIGNS_QUALITY",
    "CAMPAIGNS_RETRIEVE",
    "CAMPAIGNS_REVIEWS_DECIDE",
    "CAMPAIGNS_REVIEWS_LIST",
    "CAMPAIGNS_SAMPLES_DECIDE",
    "CAMPAIGNS_SAMPLES_LIST",
    "CAMPAIGNS_SAMPLES_RETRIEVE",
    "CAMPAIGNS_SAMPLES_START",
    "CAMPAIGNS_SET_STATUS",
    "CAMPAIGNS_STATS",
    "IMAGES_OBJECTS_LIST",
]
