"""Campaign roles: image-admins, or a labeler bound to the campaign the URL names."""

from functools import cache

from django.db import connections

from accounts.permissions import ImageAdminOrLabeler
from campaigns.models import CampaignLabeler
from core.validators import is_valid_id


class IsImageAdminOrLabeler(ImageAdminOrLabeler):
    """Image-admins, or any active labeler: for reads that a labeler's own campaigns scope (``GET /campaigns``)."""

    def labeler_allowed(self, user, view) -> bool:
        return True


class IsImageAdminOrCampaignLabeler(ImageAdminOrLabeler):
    """Image-admins, or a labeler of the campaign named by the URL.

    The view names the URL keyword holding the campaign id in
    ``campaign_url_kwarg`` (default ``"campaign_id"``).
    """

    def labeler_allowed(self, user, view) -> bool:
        campaign_id = view.kwargs.get(getattr(view, "campaign_url_kwarg", "campaign_id"))
        allowed = is_valid_id(campaign_id) and _is_bound(user.pk, campaign_id)
        # The campaign exists (the labeler is bound to it): the view need not look again.
        view.campaign_exists = allowed
        return allowed


@cache
def _binding_sql(alias: str) -> str:
    """ "Is this user bound to this campaign?" on the binding table alone, compiled once per process.

    Every agency request asks it; written out, it spares the ORM's query
    compilation each time (the goal: an authenticated page within 3x of a 401).
    """
    quote = connections[alias].ops.quote_name
    meta = CampaignLabeler._meta
    user_column = meta.get_field("user").column
    campaign_column = meta.get_field("campaign").column
    return (
        f"SELECT 1 FROM {quote(meta.db_table)} "
        f"WHERE {quote(user_column)} = %s AND {quote(campaign_column)} = %s LIMIT 1"
    )


def _is_bound(user_id: int, campaign_id: int, *, using: str = "default") -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute(_binding_sql(using), [user_id, campaign_id])
        return cursor.fetchone() is not None
