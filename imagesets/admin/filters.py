"""The image list's filter by when and where an image was taken: a date range and a latitude/longitude box.

The same parameters and the same parsing as ``GET /images`` (``imagesets.inputs``),
so a filtered admin URL and an API query select the same images. A value
that does not parse is never ignored, since "Add to campaign…" on "all N"
works on the filtered list: the list shows no image, the form keeps what was
typed and says, next to the field, what is wrong (Django's own answer, a
redirect to ``?e=1``, dropped the inputs and listed every image).
"""

from __future__ import annotations

from django.contrib import admin, messages

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
LABELS = {name: label for name, label, _ in FIELDS}
# parse_image_filters names the parameter first ("lat_min: expected …") or in the sentence.
DATE_HINT = "a date such as 2024-03-14, or a date and time such as 2024-03-14T08:00Z"


def staff_problem(detail: str) -> tuple[str | None, str]:
    """The field a refusal of ``parse_image_filters`` is about, and the refusal in the form's words."""
    field = next((name for name in IMAGE_FILTER_PARAMS if detail.startswith(f"{name}:")), None)
    if field is not None:
        reason = detail.split(":", 1)[1].strip()
        if field not in BOX_PARAMS:
            reason = f"expected {DATE_HINT}"
        return field, f"“{LABELS[field]}”: {reason}."
    field = next((name for name in IMAGE_FILTER_PARAMS if detail.startswith(name)), None)
    for name, label in LABELS.items():
        detail = detail.replace(name, f"“{label}”")
    return field, detail[:1].upper() + detail[1:] + "."


class TakenWhenAndWhereFilter(admin.ListFilter):
    """Six inputs in one small form; each bound optional, all of them combined; a wrong value lists nothing."""

    title = "date taken and location"
    template = "admin/imagesets/image/facts_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.errors: list[str] = []
        self.error_fields: set[str] = set()
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
            self._collect_problems(str(exc.detail))
            if request.method == "GET":  # a POSTed action lists nothing and runs on nothing, quietly
                said = " ".join(self.errors)
                messages.error(request, f"The date and location filter is not valid, so no image is listed: {said}")
            return queryset.none()
        return image_filter(queryset, filters=filters)

    def _collect_problems(self, first: str) -> None:
        """Every wrong value at once (the parser stops at the first), then what is wrong between two of them."""
        for name, value in self.used_parameters.items():
            try:
                parse_image_filters({name: value})
            except BadRequest as exc:
                field, said = staff_problem(str(exc.detail))
                self.error_fields.add(field or name)
                self.errors.append(said)
        if not self.errors:  # each value is fine alone: their combination is not
            field, said = staff_problem(first)
            self.error_fields.add(field)
            self.errors.append(said)

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
                    "invalid": name in self.error_fields,
                }
                for name, label, placeholder in FIELDS
            ],
            "errors": self.errors,
            "hidden": [(k, v) for k, v in changelist.params.items() if k not in IMAGE_FILTER_PARAMS],
            "active": any(self.used_parameters.values()),
            "clear_url": changelist.get_query_string(remove=list(IMAGE_FILTER_PARAMS)),
        }
