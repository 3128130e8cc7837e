"""COCO files, read as the campaign's objects.

Every listed image is labeled, with its annotations or none (labelhub's COCO
lists the labeled images only); the ``score`` of an annotation becomes its
confidence. Every ``id``, ``image_id`` and ``category_id`` must be an integer
(as COCO writes them): a list or an object could not be matched at all, and a
string, ``true`` or ``1.0`` would match ``1`` by accident or not at all. A
COCO file is one JSON document, so its text is held once while it is parsed,
never its bytes too.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from django.conf import settings

from campaigns.imports.common import (
    CampaignImageIndex,
    ImportReport,
    IndexedImage,
    add_image_objects,
    all_numbers,
    to_pixel,
    too_large_message,
)
from campaigns.inputs import ObjectsByImage
from core.exceptions import BadRequest, PayloadTooLarge


def _coco_lists(data: Any) -> tuple[list, list, list]:
    if not isinstance(data, dict):
        raise BadRequest("A COCO file is a JSON object with 'images', 'annotations' and 'categories'")
    lists = []
    for key in ("images", "annotations", "categories"):
        value = data.get(key, [] if key == "annotations" else None)
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise BadRequest(f"The COCO file's '{key}' must be a list of objects")
        lists.append(value)
    return lists[0], lists[1], lists[2]


def _is_id(value: Any) -> bool:
    """A COCO id: a JSON integer (``true`` is an int to Python, and not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _with_unique_ids(items: list[dict], what: str, report: ImportReport, *, seen: set[int]):
    """Each item with its ``id``, added to ``seen``; an id that is no integer, or a repeat, is reported and skipped."""
    for position, item in enumerate(items):
        item_id = item.get("id")
        if not _is_id(item_id):
            report.problem(f"{what} #{position}: 'id' must be an integer")
            continue
        if item_id in seen:
            report.problem(f"{what} {item_id} is listed more than once")
            continue
        seen.add(item_id)
        yield item_id, item


def parse_coco(data: Any, *, index: CampaignImageIndex) -> tuple[ObjectsByImage, ImportReport]:
    """A parsed COCO JSON document as the campaign's objects, with the report of what matched.

    An item is named by its ``id`` once that is known to be an integer, else by its
    position (``#0`` first), so a report never repeats a value of any size.
    """
    images, annotations, categories = _coco_lists(data)
    report = ImportReport()
    names: dict[int, str | None] = {}
    for category_id, category in _with_unique_ids(categories, "category", report, seen=set()):
        name = category.get("name")
        if not isinstance(name, str):
            report.problem(f"category {category_id} has no name")
        names[category_id] = name
    coco_ids: set[int] = set()
    by_coco_id: dict[int, tuple[IndexedImage, list[dict]]] = {}
    for coco_id, coco_image in _with_unique_ids(images, "COCO image", report, seen=coco_ids):
        file_name = coco_image.get("file_name")
        if not isinstance(file_name, str):
            report.problem(f"COCO image {coco_id} has no file_name")
            continue
        image = index.find(file_name)
        if image is None:
            report.unmatched(file_name)
            continue
        by_coco_id[coco_id] = (image, [])
    for position, annotation in enumerate(annotations):
        annotation_id, image_id, category_id = (annotation.get(k) for k in ("id", "image_id", "category_id"))
        if not _is_id(annotation_id):
            report.problem(f"annotation #{position}: 'id' must be an integer")
            continue
        where = f"annotation {annotation_id}"
        if not (_is_id(image_id) and _is_id(category_id)):
            report.problem(f"{where}: 'image_id' and 'category_id' must be integers")
            continue
        target = by_coco_id.get(image_id)
        if target is None:
            if image_id not in coco_ids:
                report.problem(f"{where} names an image not in the file")
            continue  # otherwise its image did not match, and is reported already
        label = names.get(category_id)
        if label is None:
            report.problem(f"{where} has an unknown category {category_id}")
            continue
        bbox = annotation.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all_numbers(bbox)):
            report.problem(f"{where}: 'bbox' must be [x, y, width, height]")
            continue
        x, y, w, h = bbox
        box = {"xmin": to_pixel(x), "ymin": to_pixel(y), "xmax": to_pixel(x + w), "ymax": to_pixel(y + h)}
        target[1].append({"label": label, "confidence": annotation.get("score"), "bounding_box": box})
    objects_by_image: dict[int, list] = {}
    for image, raw_objects in by_coco_id.values():
        add_image_objects(image, raw_objects, report, objects_by_image)
    return list(objects_by_image.items()), report


def _coco_document(file: BinaryIO) -> Any:
    """The JSON document of ``file``, its bytes let go once decoded, before the JSON is parsed."""
    content = file.read(settings.IMPORT_MAX_BYTES + 1)
    if len(content) > settings.IMPORT_MAX_BYTES:
        raise PayloadTooLarge(too_large_message())
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("The file is not UTF-8 text") from None
    del content
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, too deep, an integer of over 4,300 digits
        raise BadRequest("The COCO file is not valid JSON") from None


def parse_coco_file(file: BinaryIO, *, index: CampaignImageIndex) -> tuple[ObjectsByImage, ImportReport]:
    """``file`` (UTF-8, at most ``IMPORT_MAX_BYTES``) parsed as a COCO document."""
    return parse_coco(_coco_document(file), index=index)
