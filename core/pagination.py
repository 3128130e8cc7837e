"""The contract's pagination object, one class for every list endpoint."""

from __future__ import annotations

import math

from django.db.models import Count, Window
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from core.exceptions import BadRequest
from core.validators import ID_MAX, query_value

MAX_PER_PAGE = 1000


def _positive_int(request, name: str, default: int) -> int:
    raw = query_value(request.query_params, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadRequest(f"'{name}' must be a whole number >= 1, got {raw!r}") from None
    if value < 1:
        raise BadRequest(f"'{name}' must be a whole number >= 1, got {raw!r}")
    return value


class ContractPagination(BasePagination):
    """``?page=&per_page=`` with ``{"pagination": {...}, "<items_key>": [...]}``.

    Views set ``items_key`` (e.g. ``"images"``) and may set
    ``default_per_page``; ``per_page`` is capped at 1000 and a page past the
    end is an empty list, not an error.
    """

    default_per_page = 10

    def paginate_queryset(self, queryset, request, view=None):
        self.items_key = getattr(view, "items_key", "items")
        default = getattr(view, "default_per_page", self.default_per_page)
        self.page = _positive_int(request, "page", 1)
        self.per_page = min(_positive_int(request, "per_page", default), MAX_PER_PAGE)
        start = (self.page - 1) * self.per_page
        if start > ID_MAX - MAX_PER_PAGE:
            # Past any table's end, and an OFFSET SQLite cannot hold (a 500 found by the fuzz).
            self.total = queryset.count()
            rows = []
        elif queryset.query.distinct or queryset.query.combinator:
            # A window counts rows before DISTINCT / UNION: count apart.
            self.total = queryset.count()
            rows = list(queryset[start : start + self.per_page]) if start < self.total else []
        else:
            # One query for the page and the total (COUNT(*) OVER ()); only a page past
            # the end, which has no row to carry the total, needs a count of its own.
            rows = list(queryset.annotate(_pagination_total=Window(Count("*")))[start : start + self.per_page])
            self.total = rows[0]._pagination_total if rows else queryset.count()
        self.pages = max(1, math.ceil(self.total / self.per_page))
        return rows

    def get_pagination(self) -> dict:
        return {
            "page": self.page,
            "pages": self.pages,
            "total": self.total,
            "per_page": self.per_page,
            "next": self.page + 1 if self.page < self.pages else None,
            "prev": min(self.page - 1, self.pages) if self.page > 1 else None,
        }

    def get_paginated_response(self, data):
        return Response({"pagination": self.get_pagination(), self.items_key: data})

    def get_paginated_response_schema(self, schema):
        # labelhub.schema.AutoSchema (the project's) sets items_key from the view, as paginate_queryset does.
        items_key = getattr(self, "items_key", "items")
        return {
            "type": "object",
            "required": ["pagination", items_key],
            "properties": {
                "pagination": {
                    "type": "object",
                    "required": ["page", "pages", "total", "per_page", "next", "prev"],
                    "properties": {
                        # The examples make a list operation's examples whole answers (drf-spectacular
                        # wraps an example item in them).
                        "page": {"type": "integer", "minimum": 1, "example": 1},
                        "pages": {"type": "integer", "minimum": 1, "example": 1},
                        "total": {"type": "integer", "minimum": 0, "example": 1},
                        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "example": 10},
                        "next": {"type": "integer", "nullable": True, "example": None},
                        "prev": {"type": "integer", "nullable": True, "example": None},
                    },
                },
                items_key: schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": "Page number, 1 or more.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "per_page",
                "in": "query",
                "required": False,
                # No "maximum": the contract caps a larger value rather than refusing it (a
                # client's ?per_page=5000 must keep working); pagination.per_page says what was used.
                "description": f"Items per page, 1 or more; more than {MAX_PER_PAGE} is answered with "
                f"{MAX_PER_PAGE} per page.",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
