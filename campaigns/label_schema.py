"""A campaign's label schema: the labels its objects may carry, parsed and enforced.

A schema is ``null`` (any label, as before schemas existed) or a list of
``{"name", "colour", "description"}``: ``name`` 1-128 characters and unique,
``colour`` ``#rrggbb`` or null, ``description`` up to
``LABEL_DESCRIPTION_MAX_LENGTH`` characters or null. It is stored as given,
in that order, with colours lower-cased.

The schema limits the label *stored* (after ``label_translated`` or the
campaign's ``label_translations``), so an agency may keep sending its own
names when the campaign translates them into the schema's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings

from campaigns.models import LABEL_MAX_LENGTH, Campaign
from core.exceptions import BadRequest, Unprocessable
from core.validators import json_problem

if TYPE_CHECKING:  # campaigns.inputs parses the schema with this module
    from campaigns.inputs import NewObject, ObjectsByImage

LABEL_DESCRIPTION_MAX_LENGTH = 1000
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
LABEL_FIELDS = ("name", "colour", "description")


def _optional_string(item: dict, key: str, index: int) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"'labels' item {index}: '{key}' must be a string or null", extra={"label_index": index})
    return value


def parse_label_schema(raw: Any) -> list[dict] | None:
    """``null`` or the list of labels: 400 when malformed, 422 when a value is refused."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise BadRequest('\'labels\' must be a list of {"name", "colour", "description"}, or null')
    problem = json_problem(raw, nul=True, max_depth=settings.JSON_MAX_DEPTH)
    if problem:
        raise BadRequest(f"'labels' must not contain NUL characters or invalid Unicode: it {problem}")
    limit = settings.LABEL_SCHEMA_MAX
    if len(raw) > limit:
        raise Unprocessable(f"'labels' holds {len(raw)} labels, at most {limit}", extra={"limit": limit})
    parsed: list[dict] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise BadRequest(f"'labels' item {index}: expected an object with 'name'", extra={"label_index": index})
        unknown = sorted(set(item) - set(LABEL_FIELDS))
        if unknown:
            raise BadRequest(
                f"'labels' item {index}: unknown field(s) {', '.join(map(repr, unknown))}",
                extra={"label_index": index},
            )
        name = item.get("name")
        if not isinstance(name, str):
            raise BadRequest(
                f"'labels' item {index}: 'name' is required and must be a string", extra={"label_index": index}
            )
        if not 1 <= len(name) <= LABEL_MAX_LENGTH or "\x00" in name or not name.strip():
            raise Unprocessable(
                f"'labels' item {index}: 'name' must be 1-{LABEL_MAX_LENGTH} characters, not blank",
                extra={"label_index": index},
            )
        if name in seen:
            raise Unprocessable(
                f"'labels' item {index}: {name!r} is listed more than once", extra={"label_index": index}
            )
        seen.add(name)
        colour = _optional_string(item, "colour", index)
        if colour is not None and not COLOUR.fullmatch(colour):
            raise Unprocessable(
                f"'labels' item {index}: 'colour' must be #rrggbb, got {colour[:20]!r}", extra={"label_index": index}
            )
        description = _optional_string(item, "description", index)
        if description is not None and (len(description) > LABEL_DESCRIPTION_MAX_LENGTH or "\x00" in description):
            raise Unprocessable(
                f"'labels' item {index}: 'description' must be at most {LABEL_DESCRIPTION_MAX_LENGTH} characters",
                extra={"label_index": index},
            )
        parsed.append({"name": name, "colour": colour.lower() if colour else None, "description": description})
    return parsed


def schema_names(labels: Any) -> list[str] | None:
    """The allowed label names of a stored schema, in its order; ``None`` when any label goes."""
    if not isinstance(labels, list):
        return None
    return [item["name"] for item in labels if isinstance(item, dict) and isinstance(item.get("name"), str)]


def check_labels_allowed(
    objects_by_image: ObjectsByImage,
    *,
    campaign: Campaign,
    stored_labels: Callable[[NewObject, dict], tuple[str, str]],
) -> None:
    """422 naming the image, the object and the allowed labels when an object's stored label is not in the schema.

    ``stored_labels(new, translations)`` gives ``(label, label_original)`` as
    ``objects_replace`` stores them. Nothing is checked when the campaign has
    no schema.
    """
    allowed = schema_names(campaign.labels)
    if allowed is None:
        return
    translations = campaign.label_translations if isinstance(campaign.label_translations, dict) else {}
    allowed_set = set(allowed)
    for image_id, new_objects in objects_by_image:
        for index, new in enumerate(new_objects):
            label = stored_labels(new, translations)[0]
            if label not in allowed_set:
                raise Unprocessable(
                    f"Image {image_id}, object {index}: label {label!r} is not one of the campaign's labels "
                    f"({', '.join(allowed)})",
                    extra={"image_id": image_id, "object_index": index, "allowed_labels": allowed},
                )
