"""Reads of the switching rules (campaigns/switching.py): a campaign's decided lots, its next lot's inspection."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from campaigns.models import Campaign, ReviewSample
from campaigns.sampling import NORMAL, tighter_acceptance_number
from campaigns.switching import Inspection, Lot, next_inspection
from core.exceptions import NotFound
from core.validators import is_valid_id

LotChoice = ReviewSample.LotDecision
Verdict = ReviewSample.Verdict


def campaign_lots(*, campaign_id: int) -> list[Lot]:
    """The campaign's decided lots (samples whose lot was accepted or rejected), in the order drawn. One query."""
    rows = (
        ReviewSample.objects.filter(campaign_id=campaign_id, lot_decision__in=(LotChoice.ACCEPT, LotChoice.REJECT))
        .order_by("pk")
        .values_list(
            "pk",
            "severity",
            "verdict",
            "lot_decision",
            "acceptance_number",
            "code_letter",
            "sample_size",
            "aql",
            "defects",
            "date_resumed",
            "resumed_by__email",
        )
    )
    lots = []
    for pk, severity, verdict, decision, acceptance, letter, size, aql, defects, resumed, resumed_by in rows:
        tighter = None
        if severity == NORMAL and acceptance >= 2:
            tighter = tighter_acceptance_number(code_letter=letter, sample_size=size, aql=aql)
        lots.append(
            Lot(
                sample_id=pk,
                severity=severity,
                accepted=verdict == Verdict.ACCEPT and decision == LotChoice.ACCEPT,
                acceptance_number=acceptance,
                tighter_acceptance_number=tighter,
                defects=defects or 0,
                resumed=f"by {resumed_by or 'the system'} on {timezone.localtime(resumed):%Y-%m-%d}" if resumed else "",
            )
        )
    return lots


def campaign_next_inspection(*, campaign: Campaign) -> Inspection:
    """The inspection the campaign's next sample is drawn under, and why. One query."""
    return next_inspection(campaign_lots(campaign_id=campaign.pk), reduced_allowed=campaign.reduced_inspection)


@dataclass(frozen=True)
class CampaignInspection:
    """``GET /campaigns/{id}/inspection``: the next lot's inspection, the lots decided so far and the setting."""

    campaign_id: int
    inspection: Inspection
    lots: int
    reduced_inspection: bool


def campaign_inspection(*, campaign_id: int) -> CampaignInspection:
    """The next lot's inspection with the campaign's lots and setting (two queries); 404 if the campaign is unknown."""
    campaign = (
        Campaign.objects.filter(pk=campaign_id).only("pk", "reduced_inspection").first()
        if is_valid_id(campaign_id)
        else None
    )
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} not found")
    lots = campaign_lots(campaign_id=campaign.pk)
    return CampaignInspection(
        campaign_id=campaign.pk,
        inspection=next_inspection(lots, reduced_allowed=campaign.reduced_inspection),
        lots=len(lots),
        reduced_inspection=campaign.reduced_inspection,
    )
