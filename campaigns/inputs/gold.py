"""The input of the gold endpoints: ``PUT /campaigns/{id}/gold`` (references, parsed as ``PUT .../objects``)
and the copy from an earlier campaign (``POST /campaigns/{id}/gold/from_campaign``, its input serializer
``campaigns.serializers.GoldCopyInputSerializer`` checks its values with these)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from campaigns.inputs.campaigns import ObjectsByImage, parse_object_items
from core.exceptions import BadRequest, Unprocessable
from core.validators import check_images_per_request, is_json_int, is_valid_id


@dataclass(frozen=True, slots=True)
class GoldCopy:
    """Copy the references from ``campaign_id``'s accepted submissions: of ``image_ids``, or of every shared image."""

    campaign_id: int
    image_ids: list[int] | None


def parse_gold_items(body: Any) -> ObjectsByImage:
    """``{"items": [{"image_id", "objects": [...]}]}``: the items checked exactly as ``PUT .../objects`` checks them."""
    if not isinstance(body, dict) or "items" not in body:
        raise BadRequest('Expected an object: {"items": [{"image_id": <id>, "objects": [...]}, ...]}')
    return parse_object_items(body["items"])


def validate_source_campaign_id(value: Any) -> int:
    if not is_json_int(value):
        raise BadRequest("'campaign_id' is required and must be an integer: the campaign to copy from")
    if not is_valid_id(value):
        raise Unprocessable(f"'campaign_id' must be a campaign id, got {value}")
    return value


def validate_gold_image_ids(value: Any) -> list[int] | None:
    """``null`` (every shared image) or a list of image ids, each once, at most ``IMAGES_PER_REQUEST_MAX``."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(is_json_int(item) for item in value):
        raise BadRequest("'image_ids' must be a list of image ids, or null")
    check_images_per_request(value)
    seen: set[int] = set()
    for image_id in value:
        if image_id in seen:
            raise BadRequest(f"Image {image_id} is listed more than once", extra={"image_id": image_id})
        seen.add(image_id)
    return value
