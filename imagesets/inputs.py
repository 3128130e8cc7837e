"""Request bodies that name images, parsed at the edge in plain Python (a 10,000-item body stays fast).

The API views (and campaigns' own "add images" endpoint) parse with these and
hand the services typed values; the services never see raw JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelhub.exceptions import BadRequest
from labelhub.validators import check_images_per_request, is_json_int

IMAGE_REFS_SHAPE = 'Expected a list of {"id": n} or {"filepath": "..."} objects'


@dataclass(frozen=True, slots=True)
class ImageRefs:
    """Images named by id or by ``blobstorage_path``, each once, in the order first listed.

    An id is any JSON integer: one that names no image (``0``, ``2**63``) is the
    services' 404, not a malformed body.
    """

    ids: tuple[int, ...] = ()
    paths: tuple[str, ...] = ()


def parse_image_refs(items: Any) -> ImageRefs:
    """``[{"id": n} | {"filepath": "<path>"}, ...]``; 400 for any other shape, 413 over ``IMAGES_PER_REQUEST_MAX``.

    The count is checked before any item is, so an oversized body costs no parsing.
    """
    if not isinstance(items, list):
        raise BadRequest(IMAGE_REFS_SHAPE)
    check_images_per_request(items)
    ids: dict[int, None] = {}
    paths: dict[str, None] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or len(item.keys() & {"id", "filepath"}) != 1:
            raise BadRequest(f"Item {index}: give exactly one of 'id' or 'filepath'")
        if "id" in item:
            value = item["id"]
            if not is_json_int(value):  # not "1", 1.0 or true
                raise BadRequest(f"Item {index}: 'id' must be an integer")
            ids[value] = None
        else:
            value = item["filepath"]
            if not isinstance(value, str) or not value:
                raise BadRequest(f"Item {index}: 'filepath' must be a non-empty string")
            paths[value] = None
    return ImageRefs(ids=tuple(ids), paths=tuple(paths))
