"""Review of deliveries: decisions, acceptance samples and vendor statistics."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view

from campaigns.openapi.common import CAMPAIGN_ID, NO_CAMPAIGN, campaign_operation
from campaigns.serializers import (
    LotDecisionInputSerializer,
    ReviewItemInputSerializer,
    ReviewOutputSerializer,
    SampleInputSerializer,
    SampleOutputSerializer,
    StatsOutputSerializer,
)
from core.openapi import DATE_OR_DATE_TIME, JSON_BODY_MALFORMED, TOO_MANY_IMAGES, errors, ok
from core.validators import ID_MAX, NO_NUL_PATTERN

SAMPLE_ID = OpenApiParameter("sample_id", int, OpenApiParameter.PATH, description="The sample's id.")
NO_SAMPLE = (404, "The campaign, or the sample of that campaign, does not exist.")
NOT_REVIEWABLE = "The campaign is not `active` or `completed`."
DATE_PARAMETERS = [
    OpenApiParameter(
        "since",
        DATE_OR_DATE_TIME,
        description="On or after this date (`YYYY-MM-DD`) or date and time (`2026-11-01T00:00:00Z`; "
        "without an offset: UTC). Anything else is a 400.",
    ),
    OpenApiParameter(
        "until",
        DATE_OR_DATE_TIME,
        description="Before this date (`YYYY-MM-DD`) or date and time (`2026-11-30T00:00:00Z`; "
        "without an offset: UTC). Anything else is a 400.",
    ),
]
REVIEW_EXAMPLE = [
    {"image_id": 17, "decision": "accepted"},
    {
        "image_id": 18,
        "decision": "rejected",
        "reason": "The second bottle on the left has no box.",
        "reason_code": "missing-object",
        "submission_id": 42,
    },
]
SAMPLE_EXAMPLE = {
    "sample_id": 3,
    "campaign_id": 7,
    "seed": 8156447353452716201,
    "aql": 2.5,
    "code_letter": "J",
    "lot_size": 1000,
    "sample_size": 80,
    "acceptance_number": 5,
    "rejection_number": 6,
    "inspection": {
        "severity": "normal",
        "table": "2-A",
        "reason": "Normal inspection continues: 1 of the last 5 lots not accepted; switching score 9 of the 30 "
        "that allow reduced inspection",
        "switching_score": 9,
    },
    "gold": {"images": 12, "f1": 0.912, "min_f1": 0.8, "passed": True},
    "decided": 80,
    "rejected": 2,
    "verdict": "accept",
    "defect_rate": 0.025,
    "defect_rate_interval": [0.0069, 0.0867],
    "lot_decision": None,
    "created_by": "staff@example.com",
    "date_created": "2026-11-29T09:12:44.120000Z",
    "image_ids": [512, 77, 940],
}
STATS_EXAMPLE = {
    "campaign_id": 7,
    "since": "2026-11-01T00:00:00Z",
    "until": None,
    "images": 1000,
    "unlabeled": 40,
    "labeled": 960,
    "pending": 120,
    "accepted": 820,
    "rejected": 25,
    "decisions": 870,
    "rejections": 25,
    "rejection_rate": 0.028736,
    "revisions": 985,
    "rework_rounds": 20,
    "boxes": 4210,
    "boxes_per_label": {"bottle": 3100, "can": 1110},
    "median_seconds_to_first_submission": 86400.0,
    "median_seconds_to_resubmission": 7200.0,
}


CAMPAIGNS_REVIEWS_LIST = extend_schema_view(
    get=campaign_operation(
        "campaigns_reviews_list",
        "List the decisions on a campaign's images",
        "Every review decision (the history: the latest per image counts), newest first, 1000 per page "
        "by default. Filters: `decision`, `image_id`, `reviewer` (e-mail), `since`, `until`. Image-admins only.",
        parameters=[
            OpenApiParameter("decision", str, enum=["accepted", "rejected"]),
            OpenApiParameter("image_id", {"type": "integer", "minimum": 1, "maximum": ID_MAX}),
            OpenApiParameter("reviewer", str, pattern=NO_NUL_PATTERN, description="The reviewer's e-mail."),
            *DATE_PARAMETERS,
        ],
        responses={200: ReviewOutputSerializer(many=True), **errors(400, 401, NO_CAMPAIGN)},
    )
)

CAMPAIGNS_REVIEWS_DECIDE = campaign_operation(
    "campaigns_reviews_decide",
    "Accept or reject images",
    "Judges each listed image's current revision (or, with `submission_id`, the revision the reviewer saw: "
    "a 409 if the agency resubmitted since). All or nothing, like `PUT .../objects`. A rejection needs a "
    "`reason` (or `reason_code`); it sends the image back to the agency: it no longer counts as labeled, "
    "a `completed` campaign becomes `active` again, and the agency sees the decision in "
    "`GET /campaigns/{id}/images`. Accepting the last unlabeled image completes the campaign. Only while "
    "the campaign is `active` or `completed`. Image-admins only.",
    request=ReviewItemInputSerializer(many=True),
    examples=[OpenApiExample("accept one, reject one", value=REVIEW_EXAMPLE, request_only=True)],
    responses={
        200: ok("Recorded."),
        **errors(
            (
                400,
                "Malformed body: not a list, a missing or mistyped field, an unknown decision, an image "
                "listed twice. " + JSON_BODY_MALFORMED,
                {"an image listed twice": "Image 18 is listed more than once"},
            ),
            401,
            (404, "The campaign does not exist, or a listed image is not part of it (`image_id`)."),
            (
                409,
                NOT_REVIEWABLE + " Or an image has not been labeled yet, or `submission_id` is not its "
                "current revision (`current_submission_id`).",
            ),
            (413, TOO_MANY_IMAGES),
            (
                422,
                "A rejection without a reason (`decision` `rejected` needs a non-blank `reason` or a "
                "`reason_code`), a reason over 2000 characters, an unknown `reason_code`.",
                {
                    "a rejection without a reason": "Image 18: a rejection needs a 'reason' (or a "
                    "'reason_code') for the agency"
                },
            ),
        ),
    },
)

CAMPAIGNS_SAMPLES_LIST = extend_schema_view(
    get=campaign_operation(
        "campaigns_samples_list",
        "List a campaign's acceptance samples",
        "Newest first, 10 per page by default. Image-admins only.",
        responses={200: SampleOutputSerializer(many=True), **errors(400, 401, NO_CAMPAIGN)},
    )
)

CAMPAIGNS_SAMPLES_START = campaign_operation(
    "campaigns_samples_start",
    "Draw an acceptance sample of the delivery",
    "The lot is every labeled image awaiting review. Without `size`, the sample follows ISO 2859-1's "
    "single sampling plan, general inspection level II, at the campaign's `aql`: the code letter for the lot "
    "size, the sample size, the acceptance number Ac and rejection number Re (a sample as large as the lot "
    "inspects it all), from the table of the inspection the switching rules give the lot: normal (Table "
    "2-A), tightened (2-B) or reduced (2-C), recorded with why in `inspection` (`GET .../inspection` tells it "
    "beforehand; a `size` given by hand takes that table's Ac for the nearest code letter not larger). "
    "`gold`: the gold images delivered in the lot and their pooled F1; below the campaign's `gold_min_f1` "
    "the verdict is `reject`. The draw is random with a recorded `seed` "
    "(give one to repeat a draw). Review the sampled images with `PUT .../reviews`; once every one is "
    "decided the sample has its `verdict`, then decide the lot. One open sample per campaign. "
    "Image-admins only.",
    request=SampleInputSerializer,
    examples=[OpenApiExample("by the standard's plan", value={}, request_only=True)],
    responses={
        200: SampleOutputSerializer,
        **errors(
            (400, "Malformed body: `size` or `seed` not integers. " + JSON_BODY_MALFORMED),
            401,
            NO_CAMPAIGN,
            (
                409,
                NOT_REVIEWABLE + " Or another sample is still open, or no image awaits review, or inspection is "
                "discontinued (5 lots not accepted on tightened inspection) until staff resume it.",
                {
                    "inspection discontinued": "Inspection discontinued until staff resume it: 5 lots were not "
                    "accepted on tightened inspection (samples 6, 7, 9, 10 and 11). Resume it (POST "
                    "/campaigns/7/inspection/resume, or the campaign's page) once the agency has improved its work"
                },
            ),
            (422, "`size` outside 1..`IMAGES_PER_REQUEST_MAX`, `seed` outside 0..2^63-1."),
        ),
    },
)

CAMPAIGNS_SAMPLES_RETRIEVE = extend_schema(
    operation_id="campaigns_samples_retrieve",
    tags=["campaigns"],
    summary="Get an acceptance sample",
    description="The sample's plan, progress, verdict (once every image is decided), observed defect rate "
    "with its 95 % Wilson interval, and the sampled `image_ids` in the order drawn. Image-admins only.",
    parameters=[CAMPAIGN_ID, SAMPLE_ID],
    examples=[OpenApiExample("a decided sample", value=SAMPLE_EXAMPLE, response_only=True)],
    responses={200: SampleOutputSerializer, **errors(401, NO_SAMPLE)},
)

CAMPAIGNS_SAMPLES_DECIDE = extend_schema(
    operation_id="campaigns_samples_decide",
    tags=["campaigns"],
    summary="Accept or reject the lot of a sample, or discard the sample",
    description="The lot is what the sample was drawn from: the images awaiting review at the draw, each "
    "with the revision it had then. Once the sample has its verdict: `accept` accepts every image of the "
    "lot whose recorded revision is still current and still awaits review, recorded as decided by this "
    "sample; `reject` rejects those with `reason` (default: the sample's figures) and sends them back to "
    "the agency (the campaign becomes `active` again). An image delivered after the draw, or a lot image "
    "labeled again since, is not decided: it belongs to the next lot. A sampled image labeled again after "
    "its review makes the verdict stale: 409 (with its `image_ids`) until its current revision is "
    "reviewed, or the sample is discarded. A lot whose gold images score below the campaign's minimum "
    "(`gold.passed` false) cannot be accepted: 409 naming the figure. Every image of a rejected lot gets the "
    "same reason, which never says which images are gold. `discard` closes the sample without deciding any "
    "image, at any time, so a new one can be drawn. Deciding the 5th lot not accepted on tightened "
    "inspection discontinues inspection (`GET .../inspection`). Image-admins only.",
    parameters=[CAMPAIGN_ID, SAMPLE_ID],
    request=LotDecisionInputSerializer,
    examples=[
        OpenApiExample("accept", value={"decision": "accept"}, request_only=True),
        OpenApiExample(
            "discard a stale sample",
            value={"decision": "discard", "reason": "image 17 was labeled again after its review"},
            request_only=True,
        ),
    ],
    responses={
        200: SampleOutputSerializer,
        **errors(
            (400, "Malformed body or unknown decision. " + JSON_BODY_MALFORMED),
            401,
            NO_SAMPLE,
            (
                409,
                "The lot is already decided, the sample has no verdict yet, a sampled image was labeled "
                "again after its review (`image_ids`), accepting a lot whose gold images score below the "
                "campaign's minimum, or " + NOT_REVIEWABLE,
                {
                    "gold below the minimum": "The lot cannot be accepted: gold F1 0.62 is below the campaign's "
                    "minimum 0.80 (12 gold images in the lot). Reject it, or discard the sample"
                },
            ),
            (422, "A reason over 2000 characters."),
        ),
    },
)

CAMPAIGNS_STATS = campaign_operation(
    "campaigns_stats",
    "Vendor statistics of a campaign",
    "What the agency delivered, computed by the database: images labeled, accepted, rejected, pending; "
    "boxes per label; revisions and rework rounds; rejection rate; median time from activation to first "
    "submission and from rejection to resubmission. `since`/`until` limit the events counted (the "
    'docs/reviewing.md, "Vendor statistics", says which date each figure is counted by). Image-admins only.',
    parameters=DATE_PARAMETERS,
    examples=[OpenApiExample("a campaign", value=STATS_EXAMPLE, response_only=True)],
    responses={
        200: StatsOutputSerializer,
        **errors(
            (400, "`since` or `until` is not a date, or is given twice."),
            401,
            NO_CAMPAIGN,
            (422, "`since` after `until`.", {"since after until": "'since' must not be after 'until'"}),
        ),
    },
)
