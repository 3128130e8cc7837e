"""Who may use the staff application: image-admins (active staff users) without per-model permissions."""

from __future__ import annotations

from core.admin.ids import RowIdChecks


def is_image_admin(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)


class ImageAdminAccess(RowIdChecks):
    """View, add and change for every image-admin, as the API allows them; delete stays Django's."""

    def has_module_permission(self, request):
        return is_image_admin(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_image_admin(request) or super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return is_image_admin(request) or super().has_change_permission(request, obj)

    def has_add_permission(self, request, *args):
        # ModelAdmin.has_add_permission(request); InlineModelAdmin.has_add_permission(request, obj).
        return is_image_admin(request) or super().has_add_permission(request, *args)


class ReadOnlyAdminMixin:
    """Rows nobody edits by hand: history, the audit trail (listed before ``ImageAdminAccess`` so it wins)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
