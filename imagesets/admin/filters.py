"""The image list's filter by when and where an image was taken: a date range and a latitude/longitude box.

The same parameters and the same parsing as ``GET /images`` (``imagesets.inputs``),
so a filtered admin URL and an API query select the same images; a value
that does not parse is refused (Django's "incorrect lookup" page), never
ignored, since "Add to campaign…" on "all N" works on the filtered list.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters

from core.exceptions import BadRequest
from imagesets.inputs import BOX_PARAMS, IMAGE_FILTER_PARAMS, parse_image_filters
from imagesets.selectors import image_filter

FIELDS = (
    ("date_taken_from", "taken from", "2024-03-01"),
    ("date_taken_to", "taken until", "2024-03-31"),
    ("lat_min", "latitude from", "-90..90"),
    ("lat_max", "latitude to", "-90..90"),
    ("lon_min", "longitude from", "-180..180"),
    ("lon_max", "longitude to", "-180..180"),
)


class TakenWhenAndWhereFilter(admin.ListFilter):
    """Six inputs in one small form; each bound optional, all of them combined."""

    title = "date taken and location"
    template = "admin/imagesets/image/facts_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in IMAGE_FILTER_PARAMS:
            if name in params:
                value = params.pop(name)
                self.used_parameters[name] = value[-1] if isinstance(value, list) else value

    def expected_parameters(self):
        return list(IMAGE_FILTER_PARAMS)

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        if not any(self.used_parameters.values()):
            return queryset
        try:
            filters = parse_image_filters(self.used_parameters)
        except BadRequest as exc:
            raise IncorrectLookupParameters(exc.detail) from None
        return image_filter(queryset, filters=filters)

    def choices(self, changelist):
        # One "choice": the form. It keeps the list's other parameters (search, other filters, order).
        yield {
            "fields": [
                {
                    "name": name,
                    "label": label,
                    "placeholder": placeholder,
                    "value": self.used_parameters.get(name, ""),
                    "numeric": name in BOX_PARAMS,
                }
                for name, label, placeholder in FIELDS
            ],
            "hidden": [(k, v) for k, v in changelist.params.items() if k not in IMAGE_FILTER_PARAMS],
            "active": any(self.used_parameters.values()),
            "clear_url": changelist.get_query_string(remove=list(IMAGE_FILTER_PARAMS)),
        }
