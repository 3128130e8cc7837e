"""A labeler's campaign bindings: what an agency account holds, and taking it away when it becomes staff."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import Actor, audit_record
from campaigns.models import CampaignLabeler


def _bindings(user_id: int):
    return (
        CampaignLabeler.objects.select_for_update(of=("self",))
        .filter(user_id=user_id)
        .select_related("campaign", "user")
    )


@transaction.atomic
def labeler_campaign_titles(*, user_id: int) -> list[str]:
    """The titles of the campaigns ``user_id`` labels; the bindings stay locked for the caller's transaction."""
    return [link.campaign.title for link in _bindings(user_id).order_by("campaign_id")]


@transaction.atomic
def labeler_remove_from_campaigns(*, user_id: int, actor: Actor | None = None) -> list[str]:
    """Unbind ``user_id`` from every campaign it labels; the titles, one audit row per campaign.

    The campaigns keep their submissions, reviews and history; staff bind
    another agency account from the campaign's admin page.
    """
    links = list(_bindings(user_id).order_by("campaign_id"))
    for link in links:
        audit_record(
            actor=actor,
            action="campaign.labeler_remove",
            target=link.campaign,
            details={"labeler": link.user.email},
        )
    CampaignLabeler.objects.filter(pk__in=[link.pk for link in links]).delete()
    return [link.campaign.title for link in links]
