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

``campaigns``: campaigns and objects; ``reviews``: decisions, samples, filters; ``agreement``: the
query of ``GET /campaigns/{id}/agreement``.
"""

from campaigns.inputs.agreement import (
    DISAGREEMENTS_PER_PAGE,
    DISAGREEMENTS_PER_PAGE_MAX,
    AgreementQuery,
    parse_agreement_query,
    parse_page,
)
from campaigns.inputs.campaigns import (
    ANNOTATOR_PATTERN,
    ANNOTATOR_RULE,
    BOX_COORDINATES,
    EMAIL_MAX_LENGTH,
    NewCampaign,
    NewObject,
    ObjectsByImage,
    ObjectsDelivery,
    parse_object,
    parse_object_delivery,
    parse_object_items,
    validate_annotator,
    validate_aql,
    validate_gold_min_f1,
    validate_label_translations,
    validate_labeler_email,
    validate_review_required,
)
from campaigns.inputs.gold import GoldCopy, parse_gold_items, validate_gold_image_ids, validate_source_campaign_id
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
    "DISAGREEMENTS_PER_PAGE",
    "DISAGREEMENTS_PER_PAGE_MAX",
    "AgreementQuery",
    "parse_agreement_query",
    "parse_page",
    "ANNOTATOR_PATTERN",
    "ANNOTATOR_RULE",
    "BOX_COORDINATES",
    "EMAIL_MAX_LENGTH",
    "REASON_MAX_LENGTH",
    "SAMPLE_SEED_MAX",
    "DateRange",
    "GoldCopy",
    "LotDecision",
    "NewCampaign",
    "NewObject",
    "NewReview",
    "NewSample",
    "ObjectsByImage",
    "ObjectsDelivery",
    "ReviewFilters",
    "parse_date_range",
    "parse_gold_items",
    "parse_image_state",
    "parse_object",
    "parse_object_delivery",
    "parse_object_items",
    "parse_review_filters",
    "parse_review_item",
    "parse_review_items",
    "validate_annotator",
    "validate_aql",
    "validate_gold_image_ids",
    "validate_gold_min_f1",
    "validate_label_translations",
    "validate_labeler_email",
    "validate_source_campaign_id",
    "validate_review_required",
]
