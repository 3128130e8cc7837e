"""Agreement between agencies (``/campaigns/{id}/agreement``) and figures per annotator (``.../annotators``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter

from campaigns.inputs import DISAGREEMENTS_PER_PAGE
from campaigns.openapi.common import LABELER_OF_OTHER_CAMPAIGNS, NO_CAMPAIGN, campaign_operation
from campaigns.openapi.reviews import DATE_PARAMETERS
from campaigns.serializers import AgreementOutputSerializer, AnnotatorsOutputSerializer
from core.openapi import errors
from core.pagination import MAX_PER_PAGE
from core.validators import ID_MAX


def _page_parameters(default: int) -> list[OpenApiParameter]:
    return [
        OpenApiParameter("page", {"type": "integer", "minimum": 1}, description="Page number, 1 or more."),
        OpenApiParameter(
            "per_page",
            {"type": "integer", "minimum": 1},
            description=f"Items per page (default {default}); more than {MAX_PER_PAGE} is answered with "
            f"{MAX_PER_PAGE} per page.",
        ),
    ]


AGREEMENT_EXAMPLE = {
    "campaign_id": 7,
    "with_campaign_id": 8,
    "iou_threshold": 0.5,
    "images": 1000,
    "f1": 0.912,
    "mean_iou": 0.874,
    "by_label": {"bottle": {"f1": 0.931}, "can": {"f1": 0.866}},
    "pagination": {"page": 1, "pages": 2, "total": 143, "per_page": 100, "next": 2, "prev": None},
    "disagreements": [{"image_id": 512, "f1": 0.0}, {"image_id": 77, "f1": 0.4}, {"image_id": 940, "f1": 0.8}],
}
ANNOTATORS_EXAMPLE = {
    "campaign_id": 7,
    "since": None,
    "until": None,
    "pagination": {"page": 1, "pages": 1, "total": 2, "per_page": 1000, "next": None, "prev": None},
    "annotators": [
        {
            "annotator": "team-b.worker-0042",
            "images": 480,
            "pending": 60,
            "delivered": 495,
            "accepted": 410,
            "rejected": 15,
            "decisions": 425,
            "rejections": 15,
            "rejection_rate": 0.035294,
        },
        {
            "annotator": None,
            "images": 20,
            "pending": 20,
            "delivered": 20,
            "accepted": 0,
            "rejected": 0,
            "decisions": 0,
            "rejections": 0,
            "rejection_rate": None,
        },
    ],
}

CAMPAIGNS_AGREEMENT = campaign_operation(
    "campaigns_agreement",
    "Agreement with another campaign on the same images",
    "How two agencies labeling the same images agree: this campaign's current boxes and those of the campaign "
    "named by `with` on every image both hold and count as labeled (pending review or accepted). Boxes are "
    "matched one to one by IoU, a pair counting only with the same label at IoU >= `GOLD_IOU_THRESHOLD`, as "
    "gold images are scored; `f1` pools the counts over the images (true positives, and the boxes only one "
    "campaign drew, summed), `by_label` per label. `disagreements`: the images whose own F1 is below 1, lowest "
    f"first (ties by image id), {DISAGREEMENTS_PER_PAGE} a page by default (`page`, `per_page`; `pagination` "
    "counts them); the admin's review page walks them in that order. Image-admins only.",
    parameters=[
        OpenApiParameter(
            "with",
            {"type": "integer", "minimum": 1, "maximum": ID_MAX},
            required=True,
            description="The other campaign's id (another campaign than this one).",
        ),
        *_page_parameters(DISAGREEMENTS_PER_PAGE),
    ],
    examples=[OpenApiExample("two agencies", value=AGREEMENT_EXAMPLE, response_only=True)],
    responses={
        200: AgreementOutputSerializer,
        **errors(
            (
                400,
                "`with` missing, not a campaign id or given twice; `page` or `per_page` not a whole number >= 1.",
                {"no with": "'with' is required: the id of the campaign to compare this one with"},
            ),
            401,
            (
                404,
                "The campaign, or the one named by `with`, does not exist.",
                {"unknown with": "Campaign 8 (named by 'with') not found"},
            ),
            (
                422,
                "`with` names this campaign.",
                {"the campaign itself": "'with' names campaign 7 itself: compare it with another campaign"},
            ),
        ),
    },
)

CAMPAIGNS_ANNOTATORS = campaign_operation(
    "campaigns_annotators",
    "Review figures per annotator",
    "For an agency that names its workers (`annotator` in `PUT /campaigns/{id}/objects`): each annotator's "
    "images now (`images`: current revisions, `pending`: of them awaiting review) and, in the period "
    "(`since`, `until`), the image revisions delivered and the decisions on them (`accepted`/`rejected`: "
    "images, each once per decision, as the vendor statistics count them; `decisions`/`rejections`: every "
    "decision). `annotator` null: the images delivered without one. By annotator id, the unnamed last, "
    f"{MAX_PER_PAGE} a page by default. Image-admins and the campaign's labeler.",
    parameters=[*DATE_PARAMETERS, *_page_parameters(MAX_PER_PAGE)],
    examples=[OpenApiExample("two rows", value=ANNOTATORS_EXAMPLE, response_only=True)],
    responses={
        200: AnnotatorsOutputSerializer,
        **errors(
            (400, "`since` or `until` is not a date; `page` or `per_page` not a whole number >= 1."),
            LABELER_OF_OTHER_CAMPAIGNS,
            NO_CAMPAIGN,
            (422, "`since` after `until`.", {"since after until": "'since' must not be after 'until'"}),
        ),
    },
)
