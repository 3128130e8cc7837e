"""Role checks: image-admins may do everything, labelers only their campaigns."""

from functools import cache

from django.db import connections
from rest_framework.permissions import BasePermission

from labelhub.validators import is_valid_id


class IsImageAdmin(BasePermission):
    """Staff (image-admin) users only. The default for every API view."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class ImageAdminOrLabeler(BasePermission):
    """Image-admins, or an active labeler for whom ``labeler_allowed`` holds."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return user.is_staff or self.labeler_allowed(user, view)

    def labeler_allowed(self, user, view) -> bool:
        """What a labeler must hold to pass; subclasses say. Denied by default."""
        return False


class IsImageAdminOrCampaignLabeler(ImageAdminOrLabeler):
    """Image-admins, or a labeler of the campaign named by the URL.

    The view names the URL keyword holding the campaign id in
    ``campaign_url_kwarg`` (default ``"pk"``). A labeler's campaigns are the
    ``labeled_campaigns`` relation the campaigns app declares on the user.
    """

    def labeler_allowed(self, user, view) -> bool:
        campaign_id = view.kwargs.get(getattr(view, "campaign_url_kwarg", "pk"))
        allowed = is_valid_id(campaign_id) and _is_bound(user.labeled_campaigns.through, user.pk, campaign_id)
        # The campaign exists (the labeler is bound to it): the view need not look again.
        view.campaign_exists = allowed
        return allowed


@cache
def _binding_sql(through, alias: str) -> str:
    """ "Is this user bound to this campaign?" on the binding table alone, compiled once per process.

    Every agency request asks it; written out, it spares the ORM's query
    compilation each time (issue 10: an authenticated page within 3x of a 401).
    """
    quote = connections[alias].ops.quote_name
    user_column = through._meta.get_field("user").column
    campaign_column = through._meta.get_field("campaign").column
    return (
        f"SELECT 1 FROM {quote(through._meta.db_table)} "
        f"WHERE {quote(user_column)} = %s AND {quote(campaign_column)} = %s LIMIT 1"
    )


def _is_bound(through, user_id: int, campaign_id: int, *, using: str = "default") -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute(_binding_sql(through, using), [user_id, campaign_id])
        return cursor.fetchone() is not None
