"""The campaign endpoints' input, parsed at the edge into the types the services take.

The bulk bodies in plain Python, not DRF serializers: a ``PUT /campaigns/{id}/objects``
body may list 10,000 images with up to 1,000 objects each, a decision body 10,000
images. (``POST /campaigns/{id}/images`` takes the same image references as image
sets: ``imagesets.inputs.parse_image_refs``.) The small bodies (a campaign, a status,
a sample, a lot decision) are parsed by their input serializers in
``campaigns.serializers``, with the value checks they share with the admin kept here
(``validate_aql``, ``validate_labeler_email``, ...). What is malformed is a 400
(``BadRequest``), what is out of range a 422 (``Unprocessable``), a request
listing too many images a 413; nothing here reads the database, so every
check that needs a row (an unknown image, a box outside its image, the
campaign's status) is the services'.

``campaigns``: campaigns and objects; ``reviews``: decisions, samples, filters.
"""

from campaigns.inputs.campaigns import (
    BOX_COORDINATES,
    EMAIL_MAX_LENGTH,
    NewCampaign,
    NewObject,
    ObjectsByImage,
    parse_object,
    parse_object_items,
    validate_aql,
    validate_label_translations,
    validate_labeler_email,
    validate_review_required,
)
from campaigns.inputs.reviews import (
    AGENCY_STATES,
    REASON_MAX_LENGTH,
    SAMPLE_SEED_MAX,
    DateRange,
    LotDecision,
    NewReview,
    NewSample,
    ReviewFilters,
    parse_date_range,
    parse_image_state,
    parse_review_filters,
    parse_review_item,
    parse_review_items,
)

__all__ = [
    "AGENCY_STATES",
    "BOX_COORDINATES",
    "EMAIL_MAX_LENGTH",
    "REASON_MAX_LENGTH",
    "SAMPLE_SEED_MAX",
    "DateRange",
    "LotDecision",
    "NewCampaign",
    "NewObject",
    "NewReview",
    "NewSample",
    "ObjectsByImage",
    "ReviewFilters",
    "parse_date_range",
    "parse_image_state",
    "parse_object",
    "parse_object_items",
    "parse_review_filters",
    "parse_review_item",
    "parse_review_items",
    "validate_aql",
    "validate_label_translations",
    "validate_labeler_email",
    "validate_review_required",
]
