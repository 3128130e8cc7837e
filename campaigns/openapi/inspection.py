"""The switching rules of acceptance sampling: ``/campaigns/{id}/inspection`` and ``.../inspection/resume``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from campaigns.openapi.common import NO_CAMPAIGN, campaign_operation
from campaigns.serializers import CampaignInspectionOutputSerializer, InspectionSettingsInputSerializer
from core.openapi import JSON_BODY_MALFORMED, errors

SWITCHING_RULES = (
    "ISO 2859-1's switching rules choose, from the campaign's decided lots (samples whose lot staff "
    "accepted or rejected, in order), the inspection each new sample is drawn under: normal (Table 2-A) to "
    "start; tightened (2-B: the same sample sizes, smaller acceptance numbers) once 2 of the last 5 lots or "
    "fewer on normal inspection were not accepted; back to normal after 5 consecutive lots accepted on "
    "tightened; reduced (2-C: smaller samples) once the switching score reaches 30 and `reduced_inspection` is "
    "on; back to normal from reduced when a lot is not accepted or `reduced_inspection` is turned off. A lot "
    "counts as accepted when its sample's verdict was `accept` and staff accepted it. Once 5 lots are not "
    "accepted on one run of tightened inspection, inspection is discontinued: drawing a sample is a 409 until "
    'staff resume it. docs/quality.md, "Switching rules", has the details and what is simplified.'
)
INSPECTION_EXAMPLE = {
    "campaign_id": 7,
    "severity": "tightened",
    "table": "2-B",
    "reason": "Tightened inspection: 2 of the last 5 lots were not accepted (samples 3 and 5)",
    "switching_score": None,
    "discontinued": False,
    "lots": 5,
    "reduced_inspection": True,
}
DISCONTINUED_EXAMPLE = {
    **INSPECTION_EXAMPLE,
    "reason": "Inspection discontinued until staff resume it: 5 lots were not accepted on tightened inspection "
    "(samples 6, 7, 9, 10 and 11)",
    "discontinued": True,
    "lots": 11,
}
RESUMED_EXAMPLE = {
    **INSPECTION_EXAMPLE,
    "reason": "Tightened inspection: inspection was discontinued after the lot of sample 11 and resumed by "
    "staff@example.com on 2026-12-03; it starts again tightened",
    "lots": 11,
}

CAMPAIGNS_INSPECTION_RETRIEVE = campaign_operation(
    "campaigns_inspection_retrieve",
    "The inspection the next acceptance sample will be drawn under",
    SWITCHING_RULES + " Image-admins only.",
    examples=[
        OpenApiExample("tightened", value=INSPECTION_EXAMPLE, response_only=True),
        OpenApiExample("discontinued", value=DISCONTINUED_EXAMPLE, response_only=True),
    ],
    responses={200: CampaignInspectionOutputSerializer, **errors(401, NO_CAMPAIGN)},
)

CAMPAIGNS_INSPECTION_UPDATE = campaign_operation(
    "campaigns_inspection_update",
    "Allow or refuse reduced inspection",
    "`reduced_inspection` is the responsible authority's call the standard leaves to staff (ISO 2859-1 "
    "9.3.3 c; default true): `false` keeps the campaign's lots off reduced inspection, and a campaign on "
    "reduced inspection returns to normal at its next lot (9.3.4 c). Only the fields sent change; `{}` "
    "changes nothing. Answers the next lot's inspection, as `GET`. Recorded in the audit trail. "
    "Image-admins only.",
    request=InspectionSettingsInputSerializer,
    examples=[
        OpenApiExample("no reduced inspection", value={"reduced_inspection": False}, request_only=True),
        OpenApiExample(
            "a campaign on normal inspection",
            value={
                **INSPECTION_EXAMPLE,
                "severity": "normal",
                "table": "2-A",
                "reason": "Normal inspection: the switching score is 34 (30 or more), but reduced inspection is "
                "turned off for this campaign",
                "switching_score": 34,
                "lots": 17,
                "reduced_inspection": False,
            },
            response_only=True,
        ),
    ],
    responses={
        200: CampaignInspectionOutputSerializer,
        **errors(
            (
                400,
                "Malformed body: not an object, or `reduced_inspection` not `true` or `false`. " + JSON_BODY_MALFORMED,
                {"not a boolean": "'reduced_inspection' must be true or false"},
            ),
            401,
            NO_CAMPAIGN,
        ),
    },
)

CAMPAIGNS_INSPECTION_RESUME = campaign_operation(
    "campaigns_inspection_resume",
    "Resume inspection after it was discontinued",
    "ISO 2859-1 9.4: once 5 lots are not accepted on tightened inspection, acceptance sampling stops until "
    "the agency has improved its work. This records that staff resume it (who and when, on the lot that "
    "discontinued it, and in the audit trail): the next sample is drawn under tightened inspection, its "
    "counts started afresh. Answers the next lot's inspection, as `GET .../inspection`. Image-admins only.",
    request=None,
    examples=[OpenApiExample("resumed", value=RESUMED_EXAMPLE, response_only=True)],
    responses={
        200: CampaignInspectionOutputSerializer,
        **errors(
            401,
            NO_CAMPAIGN,
            (
                409,
                "Inspection is not discontinued: there is nothing to resume.",
                {
                    "not discontinued": "Inspection of this campaign is not discontinued, there is nothing to "
                    "resume: Normal inspection continues: 0 of the last 3 lots not accepted; switching score 6 "
                    "of the 30 that allow reduced inspection"
                },
            ),
        ),
    },
)
