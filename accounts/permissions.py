"""Role checks: image-admins may do everything, labelers only their campaigns."""

from rest_framework.permissions import BasePermission


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
        # On the through table alone (no join with the campaigns): this runs on every agency request.
        bindings = user.labeled_campaigns.through.objects
        allowed = campaign_id is not None and bindings.filter(user_id=user.pk, campaign_id=campaign_id).exists()
        # The campaign exists (the labeler is bound to it): the view need not look again.
        view.campaign_exists = allowed
        return allowed
