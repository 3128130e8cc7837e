"""Shapes of the switching rules: the inspection a sample was drawn under, and ``/campaigns/{id}/inspection``.

The inspection (ISO 2859-1 normal, tightened or reduced, ``campaigns.switching``) is part of every sample's
answer (``SampleOutputSerializer.inspection``) and, for the campaign's next lot, of
``GET /campaigns/{id}/inspection``; ``PATCH`` takes the one setting staff decide: whether reduced inspection
is allowed.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from campaigns.models import ReviewSample
from campaigns.sampling import TABLES
from campaigns.selectors.inspection import CampaignInspection
from core.exceptions import BadRequest

REDUCED_INSPECTION_REFUSED = "'reduced_inspection' must be true or false"


class InspectionOutputSerializer(serializers.Serializer):
    """The inspection a lot is (or was) sampled under, and why."""

    severity = serializers.ChoiceField(
        choices=ReviewSample.Severity.choices,
        help_text="ISO 2859-1 inspection: `normal`, `tightened` (smaller acceptance numbers) or `reduced` "
        "(smaller samples).",
    )
    table = serializers.ChoiceField(
        choices=["2-A", "2-B", "2-C"], help_text="The standard's table of single sampling plans it uses."
    )
    reason = serializers.CharField(help_text="Why, from the campaign's decided lots (the switching rules).")
    switching_score = serializers.IntegerField(
        allow_null=True,
        help_text="Normal inspection: the switching score of its lots so far (30 allows reduced inspection); "
        "null under tightened or reduced inspection.",
    )

    class Meta:
        ref_name = "SampleInspection"


def inspection_representation(*, severity: str, reason: str, switching_score: int | None) -> dict:
    return {
        "severity": severity,
        "table": TABLES[severity].name,
        "reason": reason,
        "switching_score": switching_score,
    }


class CampaignInspectionOutputSerializer(InspectionOutputSerializer):
    """``GET /campaigns/{id}/inspection``: the inspection the campaign's next sample will be drawn under."""

    campaign_id = serializers.IntegerField()
    discontinued = serializers.BooleanField(
        help_text="5 lots were not accepted on tightened inspection: no sample is drawn (409) until staff resume "
        "inspection (`POST .../inspection/resume`)."
    )
    lots = serializers.IntegerField(help_text="Lots decided so far (samples whose lot was accepted or rejected).")
    reduced_inspection = serializers.BooleanField(
        help_text="Whether lots may go to reduced inspection once the switching score reaches 30 (default true)."
    )

    class Meta:
        ref_name = "CampaignInspection"

    def to_representation(self, state: CampaignInspection):
        inspection = state.inspection
        return {
            "campaign_id": state.campaign_id,
            **inspection_representation(
                severity=inspection.severity, reason=inspection.reason, switching_score=inspection.switching_score
            ),
            "discontinued": inspection.discontinued,
            "lots": state.lots,
            "reduced_inspection": state.reduced_inspection,
        }


@extend_schema_field({"type": "boolean"})
class _StrictBooleanField(serializers.Field):
    """A JSON ``true``/``false`` as sent; anything else (``"yes"``, 1, null) is a 400."""

    def validate_empty_values(self, data):
        if data is None:
            raise BadRequest(REDUCED_INSPECTION_REFUSED)
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise BadRequest(REDUCED_INSPECTION_REFUSED)
        return data


class InspectionSettingsInputSerializer(serializers.Serializer):
    """``PATCH /campaigns/{id}/inspection``: the fields sent change, the others stay (``{}`` changes nothing)."""

    reduced_inspection = _StrictBooleanField(
        required=False,
        help_text="The responsible authority's call (ISO 2859-1 9.3.3 c): `false` keeps lots off reduced "
        "inspection, and brings a campaign on reduced inspection back to normal at its next lot.",
    )

    class Meta:
        ref_name = "CampaignInspectionSettings"

    def run_validation(self, data=empty):
        if not isinstance(data, dict):
            raise BadRequest('Expected an object: {"reduced_inspection": true|false}')
        return super().run_validation(data)

    def validate(self, attrs) -> dict:
        return {"reduced_inspection": attrs.get("reduced_inspection")}
