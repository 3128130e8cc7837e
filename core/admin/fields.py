"""Form pieces of the admin: the API's input checks as field cleaning, and a JSON object field both databases store."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.forms.fields import InvalidJSONInput

from core.exceptions import ApplicationError
from core.validators import NOT_AN_OBJECT, json_object_problem, json_problem

T = TypeVar("T")


def clean_with(check: Callable[[Any], T], value: Any, *, name: str = "", label: str = "") -> T:
    """Run one of the API's input checks in a form's ``clean_<field>``: its refusal becomes the field's error.

    The API names the field by its body key (``'labels' holds 300 labels``);
    with ``name`` and ``label`` the form says it in its own words instead
    (``The label schema holds 300 labels``).
    """
    try:
        return check(value)
    except ApplicationError as exc:
        detail = str(exc.detail)
        if name and label:
            detail = detail.replace(f"'{name}'", label)
            detail = detail[:1].upper() + detail[1:]
        raise forms.ValidationError(detail) from None


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
