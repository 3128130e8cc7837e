"""Role checks: image-admins may do everything, labelers what the view's app lets them (``labeler_allowed``)."""

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
