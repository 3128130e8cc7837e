"""Pieces the apps' admin modules share: image-admin access, form pages, the shown-once secrets page,
and the checks that keep odd ids and JSON a "not found" or a form error instead of a 500.

The Django admin is the staff application. Image-admins (active staff users)
may do in the image-set and campaign admin what they may do through the API,
without per-model Django permissions; everything else (users, API keys,
deleting rows) stays under Django's permissions, i.e. superusers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.forms.fields import InvalidJSONInput
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import register_converter

from labelhub.validators import ID_MAX, NOT_AN_OBJECT, json_object_problem, json_problem


def parse_id(raw: Any) -> int | None:
    """The row id a URL, query or form value names, or ``None`` when it can name none.

    ASCII digits only: ``str.isdigit`` also accepts '²' (which ``int()`` refuses)
    and ``int()`` reads the digits of other scripts. 1..ID_MAX only: SQLite cannot
    even compare a larger integer (OverflowError).
    """
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= len(str(ID_MAX)):
        value = int(raw)
    else:
        return None
    return value if 0 < value <= ID_MAX else None


class IdConverter:
    """``<rowid:name>`` in the admin's own URLs: a row id (1..ID_MAX), anything else is no match (404)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        row_id = parse_id(value)
        if row_id is None:
            raise ValueError(f"not a row id: {value}")
        return row_id

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "rowid")


class JsonObjectField(forms.JSONField):
    """A JSON object (or nothing) that both databases store and the page can show again.

    Django's field took any JSON: a NUL character (PostgreSQL stores none), a
    lone surrogate such as ``\\ud800`` (no UTF-8 encoder takes it) and deep
    nesting (the json module raises RecursionError, parsing and printing)
    answered 500 when saved or shown again. They are form errors here, and the
    form shows the text as it was typed.
    """

    default_error_messages = {"not_object": "Enter a JSON object (or leave it empty)."}

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(
                f"This JSON is nested deeper than {settings.JSON_MAX_DEPTH} levels.", code="too_deep"
            ) from None

    def validate(self, value):
        super().validate(value)
        problem = json_object_problem(value)
        if problem == NOT_AN_OBJECT:
            raise forms.ValidationError(self.error_messages["not_object"], code="not_object")
        if problem is not None:
            raise forms.ValidationError(f"This JSON {problem}.", code="invalid")

    def bound_data(self, data, initial):
        if self.disabled or data is None:
            return super().bound_data(data, initial)
        try:
            value = json.loads(data, cls=self.decoder)
        except (json.JSONDecodeError, RecursionError):
            return InvalidJSONInput(data)
        if json_problem(value, max_depth=settings.JSON_MAX_DEPTH) is not None:
            return InvalidJSONInput(data)  # shown as typed: printing it again could fail
        return value

    def prepare_value(self, value):
        text = super().prepare_value(value)
        if isinstance(text, str) and not isinstance(value, InvalidJSONInput) and not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # a stored lone surrogate: shown escaped, never a broken page
                return json.dumps(value, cls=self.encoder)
        return text


def is_image_admin(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)


class RowIdChecks:
    """The ids in the admin's URLs and action selections are row ids (``parse_id``), or name nothing.

    Django reads them with ``int()``: '²' in an action's selection raised
    ValueError and an id beyond 64 bits OverflowError on SQLite (a 500), and
    ``…/١/change/`` opened row 1.
    """

    def get_object(self, request, object_id, from_field=None):
        if from_field is None and parse_id(object_id) is None:
            return None  # the page answers "… doesn't exist"
        return super().get_object(request, object_id, from_field)

    def response_action(self, request, queryset):
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        if any(parse_id(value) is None for value in selected):
            self.message_user(request, "The selection holds an invalid id; nothing was done.", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)


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
