"""Pieces the apps' admin modules share: image-admin access, form pages, the shown-once secrets page.

The Django admin is the staff application. Image-admins (active staff users)
may do in the image-set and campaign admin what they may do through the API,
without per-model Django permissions; everything else (users, API keys,
deleting rows) stays under Django's permissions, i.e. superusers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib import admin
from django.template.response import TemplateResponse


def is_image_admin(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)


class ImageAdminAccess:
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


def admin_page_context(request, model_admin: admin.ModelAdmin, **extra) -> dict:
    """What every admin template expects (site header, nav sidebar, ``opts`` for breadcrumbs)."""
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "app_label": model_admin.opts.app_label,
        "has_view_permission": model_admin.has_view_permission(request),
        **extra,
    }


def render_form_page(
    request,
    model_admin: admin.ModelAdmin,
    *,
    form,
    title: str,
    submit: str,
    intro: str = "",
    hidden: Iterable[tuple[str, str]] = (),
    cancel_url: str | None = None,
    template: str = "admin/labelhub/form_page.html",
    **extra,
) -> TemplateResponse:
    """A one-form admin page (the custom add views and the intermediate action pages)."""
    context = admin_page_context(
        request, model_admin,
        title=title, form=form, submit=submit, intro=intro, hidden=list(hidden), cancel_url=cancel_url,
        media=model_admin.media + form.media, **extra,
    )
    return TemplateResponse(request, template, context)


@dataclass(frozen=True)
class ShownSecret:
    """One row of the secrets page: whose key, the key, and its secret (None when it cannot be shown)."""

    owner: str
    apikey: str
    secret: str | None
    note: str = ""


def render_secrets_page(
    request,
    model_admin: admin.ModelAdmin,
    *,
    title: str,
    rows: list[ShownSecret],
    intro: str = "",
    links: Iterable[tuple[str, str]] = (),
) -> TemplateResponse:
    """Key and secret shown this once, rendered in the answer to the POST itself.

    Nothing is stored in the session or a message cookie, and ``no-store``
    keeps the page out of the browser cache: reloading or going back never
    shows the secret again.
    """
    context = admin_page_context(
        request, model_admin, title=title, rows=rows, intro=intro, links=list(links), media=model_admin.media,
    )
    response = TemplateResponse(request, "admin/labelhub/secrets_once.html", context)
    response["Cache-Control"] = "no-store"
    return response
