"""What the apps' admin modules share: image-admin access, one base for service actions, guarded lookups, extra
pages, media and job displays, form pages, the shown-once secrets page, and the checks that keep odd ids and JSON
a "not found" or a form error instead of a 500.

The Django admin is the staff application. Image-admins (active staff users)
may do in the image-set and campaign admin what they may do through the API,
without per-model Django permissions; everything else (users, API keys,
deleting rows) stays under Django's permissions, i.e. superusers.
"""

from core.admin.access import ImageAdminAccess, ReadOnlyAdminMixin, is_image_admin
from core.admin.base import ADMIN_MEDIA, AdminBase, ExtraView, FormPage, PanelsAboveForm
from core.admin.display import duration_text, fit_size, job_duration, job_of, progress_bar
from core.admin.fields import JsonObjectField, clean_with
from core.admin.ids import IdConverter, RowIdChecks, parse_id
from core.admin.pages import ShownSecret, admin_page_context, render_form_page, render_secrets_page

__all__ = [
    "ADMIN_MEDIA",
    "AdminBase",
    "ExtraView",
    "FormPage",
    "IdConverter",
    "ImageAdminAccess",
    "ReadOnlyAdminMixin",
    "JsonObjectField",
    "PanelsAboveForm",
    "RowIdChecks",
    "ShownSecret",
    "admin_page_context",
    "clean_with",
    "duration_text",
    "fit_size",
    "is_image_admin",
    "job_duration",
    "job_of",
    "parse_id",
    "progress_bar",
    "render_form_page",
    "render_secrets_page",
]
