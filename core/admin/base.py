"""The base every labelhub model admin builds on, for what each of them needs the same way.

* a service per selected row (a list action) or on one object (a button on its
  page), a refusal shown as an error message naming the row;
* the object an extra page names, looked up with the permission check;
* extra pages next to Django's own (``extra_views``), method-checked;
* a custom add page: a plain form, the create service, its refusals as form errors;
* labelhub's admin css and js;
* panels above the change form (``PanelsAboveForm``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.text import capfirst
from django.views.decorators.http import require_http_methods

from core.admin.ids import RowIdChecks, parse_id
from core.admin.pages import render_form_page
from core.exceptions import ApplicationError, NotFound, StorageError

ADMIN_MEDIA = forms.Media(css={"all": ["labelhub/admin.css"]}, js=["labelhub/admin.js"])


@dataclass(frozen=True)
class ExtraView:
    """A page of one model's admin besides Django's: ``route`` → the admin's method ``view``.

    Its URL is named ``<app>_<model>_<name>`` in the ``admin`` namespace;
    ``methods`` (when given) answer any other method with a 405.
    """

    route: str
    view: str
    name: str
    methods: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormPage:
    """The words of a custom add page."""

    title: str
    submit: str
    intro: str = ""


class AdminBase(RowIdChecks):
    """Mixed in before ``admin.ModelAdmin`` (or a subclass of it) by every labelhub model admin."""

    extra_views: tuple[ExtraView, ...] = ()
    # A custom add page: ``create_form`` is validated, then ``create(request, form)`` runs the service.
    create_form: type[forms.Form] | None = None
    create_page: FormPage | None = None
    # Which form field a refusal of the create service belongs to: ((error classes), field name); else the form's.
    create_error_fields: tuple[tuple[type[Exception] | tuple[type[Exception], ...], str], ...] = ()

    @property
    def media(self):
        return super().media + ADMIN_MEDIA

    # --- services ----------------------------------------------------------------

    def row_title(self, obj) -> str:
        """How messages name a row."""
        return str(obj)

    def run_service(self, request, obj, run: Callable) -> bool:
        """``run(obj)``; a refusal (an ``ApplicationError``, the API's 4xx) becomes an error message naming the row."""
        try:
            run(obj)
        except ApplicationError as exc:
            self.message_user(request, f"{self.row_title(obj)}: {exc.detail}", messages.ERROR)
            return False
        return True

    def run_per_row(self, request, rows: Iterable, run: Callable, *, done: str) -> None:
        """A list action: ``run(row)`` for each selected row, then ``done`` (with ``{count}``) if any succeeded."""
        count = sum(1 for row in rows if self.run_service(request, row, run))
        if count:
            self.message_user(request, done.format(count=count), messages.SUCCESS)

    def run_on_object(self, request, object_id: int, run: Callable, *, done: str) -> HttpResponseRedirect:
        """A button on an object's page: ``run(obj)``, ``done`` (with ``{title}``), back to the page."""
        obj = self.guarded_object(request, object_id, change=True)
        if self.run_service(request, obj, run):
            self.message_user(request, done.format(title=self.row_title(obj)), messages.SUCCESS)
        return redirect(self.admin_url("change", obj.pk))

    # --- lookups and URLs --------------------------------------------------------

    def select_object(self, object_id: int):
        """The row an id names (``NotFound`` or ``DoesNotExist`` if none); an admin loads here what its pages show."""
        return self.model._default_manager.get(pk=object_id)

    def find_object(self, object_id: int):
        """The row an id names (``select_object``), or ``None``."""
        try:
            return self.select_object(object_id)
        except (NotFound, ObjectDoesNotExist):
            return None

    def guarded_object(self, request, object_id: int, *, change: bool):
        """The object an extra page names: 404 when there is none, 403 when the user may not see (or change) it."""
        obj = self.find_object(object_id)
        if obj is None:
            raise Http404(f"{capfirst(self.opts.verbose_name)} not found")
        allowed = self.has_change_permission(request, obj) if change else self.has_view_permission(request, obj)
        if not allowed:
            raise PermissionDenied
        return obj

    def admin_url(self, name: str, *args) -> str:
        """The URL of this model's admin page ``name`` ("change", "changelist", an extra view's name)."""
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args)

    def get_urls(self):
        extra = []
        for page in self.extra_views:
            view = getattr(self, page.view)
            if page.methods:
                view = require_http_methods(list(page.methods))(view)
            name = f"{self.opts.app_label}_{self.opts.model_name}_{page.name}"
            extra.append(path(page.route, self.admin_site.admin_view(view), name=name))
        return [*extra, *super().get_urls()]

    # --- the custom add page -----------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if self.create_form is None:
            return super().add_view(request, form_url, extra_context)
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = self.create_form(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            response = self._create(request, form)
            if response is not None:
                return response
        page = self.create_page
        return render_form_page(
            request,
            self,
            form=form,
            title=page.title,
            submit=page.submit,
            intro=page.intro,
            cancel_url=self.admin_url("changelist"),
        )

    def create(self, request, form) -> tuple[object, HttpResponse]:
        """Run the create service on ``form.cleaned_data``: the new row and the page that answers.

        Every admin that sets ``create_form`` defines it; the base has no service to call.
        """
        raise NotImplementedError(f"{type(self).__name__} sets create_form, so it must define create()")

    def _create(self, request, form) -> HttpResponse | None:
        try:
            obj, response = self.create(request, form)
        except ApplicationError as exc:
            field = next((name for errors, name in self.create_error_fields if isinstance(exc, errors)), None)
            form.add_error(field, exc.detail)
        except StorageError as exc:
            form.add_error(None, f"Storage is unavailable, nothing was created: {exc}")
        else:
            self.log_addition(request, obj, [{"added": {}}])
            return response
        return None


class PanelsAboveForm(AdminBase):
    """A change page with panels above the form: ``panels(request, obj)`` is the template's ``panels``."""

    def panels(self, request, obj) -> dict:
        """What the panels above the form show; every admin built on this class defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define panels(request, obj)")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        row_id = parse_id(object_id)
        obj = self.find_object(row_id) if row_id is not None else None
        if obj is not None and self.has_view_permission(request, obj):
            extra_context = {**(extra_context or {}), "panels": self.panels(request, obj)}
        return super().change_view(request, object_id, form_url, extra_context)
