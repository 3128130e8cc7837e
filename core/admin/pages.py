"""Admin pages of labelhub's own: one form (custom add views, an action's intermediate page) and the secrets page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib import admin
from django.template.response import TemplateResponse


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
        request,
        model_admin,
        title=title,
        form=form,
        submit=submit,
        intro=intro,
        hidden=list(hidden),
        cancel_url=cancel_url,
        media=model_admin.media + form.media,
        **extra,
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
        request,
        model_admin,
        title=title,
        rows=rows,
        intro=intro,
        links=list(links),
        media=model_admin.media,
    )
    response = TemplateResponse(request, "admin/labelhub/secrets_once.html", context)
    response["Cache-Control"] = "no-store"
    return response
