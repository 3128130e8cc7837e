"""Row ids in the admin's URLs, queries and action selections: a row id, or nothing (a 404), never a 500."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpResponseRedirect
from django.urls import register_converter

from core.validators import ID_MAX


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
