"""Staff's part in the switching rules (campaigns/switching.py): allowing reduced inspection, resuming inspection.

The rules themselves run when a sample is drawn (``campaigns.services.samples``);
these two services record the responsible authority's decisions the standard
leaves to it: whether reduced inspection is desirable (9.3.3 c), and that the
agency improved enough for inspection to resume after it was discontinued (9.4).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.audit import Actor, audit_record
from campaigns.models import Campaign, ReviewSample
from campaigns.selectors.inspection import campaign_next_inspection
from campaigns.services.campaigns import campaign_lock
from core.exceptions import Conflict

LotChoice = ReviewSample.LotDecision


@transaction.atomic
def campaign_set_reduced_inspection(*, campaign_id: int, allowed: bool, actor: Actor | None) -> Campaign:
    """Allow (or not) the campaign's lots to go to reduced inspection; recorded in the audit trail when it changes."""
    campaign = campaign_lock(campaign_id)
    if campaign.reduced_inspection != allowed:
        campaign.reduced_inspection = allowed
        campaign.save(update_fields=["reduced_inspection"])
        audit_record(
            actor=actor or Actor.system(),
            action="campaign.reduced_inspection",
            target=campaign,
            details={"reduced_inspection": allowed},
        )
    return campaign


@transaction.atomic
def inspection_resume(*, campaign_id: int, actor: Actor | None) -> Campaign:
    """Resume inspection after it was discontinued (ISO 2859-1 9.4): the next lot starts tightened inspection afresh.

    409 unless inspection is discontinued. The lot that discontinued it records who resumed it and when.
    """
    campaign = campaign_lock(campaign_id)
    inspection = campaign_next_inspection(campaign=campaign)
    if not inspection.discontinued:
        raise Conflict(
            f"Inspection of this campaign is not discontinued, there is nothing to resume: {inspection.reason}"
        )
    actor = actor or Actor.system()
    last = (
        ReviewSample.objects.select_for_update()
        .filter(campaign=campaign, lot_decision__in=(LotChoice.ACCEPT, LotChoice.REJECT))
        .order_by("-pk")
        .first()
    )
    last.discontinued, last.date_resumed, last.resumed_by = True, timezone.now(), actor.user
    last.save(update_fields=["discontinued", "date_resumed", "resumed_by"])
    audit_record(
        actor=actor,
        action="campaign.inspection_resume",
        target=campaign,
        details={"sample_id": last.pk, "discontinued": inspection.reason[:500]},
    )
    return campaign
