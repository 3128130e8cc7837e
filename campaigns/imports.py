"""Existing labels brought into a campaign: a COCO file or a labels CSV in labelhub's own export format.

Both are read into the ``ObjectsByImage`` that ``PUT /campaigns/{id}/objects``
parses into (every object through ``campaigns.inputs.parse_object``, so the
same checks apply), then stored by ``objects_replace`` as one submission by a
named user: all or nothing. Anything that does not match the campaign (a
file name that is none of its images, an annotation of an unknown category
or image) refuses the whole import with a report listing it.

Images are matched by their path inside the container (what labelhub's
exports write), else by their file name alone when exactly one campaign
image has it. Pixel boxes (COCO's ``[x, y, w, h]``, the CSV's fractions times
the image size) are rounded to whole pixels, so labelhub's own exports come
back exactly.

COCO: every listed image is labeled, with its annotations or none (labelhub's
COCO lists the labeled images only); the ``score`` of an annotation becomes
its confidence. Every ``id``, ``image_id`` and ``category_id`` must be an
integer (as COCO writes them): a list or an object could not be matched at
all, and a string, ``true`` or ``1.0`` would match ``1`` by accident or not
at all. CSV: a row with an empty list is skipped, since the labels CSV writes
``[]`` both for an unlabeled image and one labeled empty.

A file is read from its stream, at most ``IMPORT_MAX_BYTES`` of it (413
beyond). A CSV is parsed row by row as it is read; a COCO file is one JSON
document, so its text is held once while it is parsed, never its bytes too.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings

from campaigns.inputs import ObjectsByImage, parse_object
from campaigns.models import CampaignImage
from core.exceptions import ApplicationError, BadRequest, PayloadTooLarge, Unprocessable
from integrations.storage.base import split_path

LISTED = 50
FORMATS = ("coco", "csv")


@dataclass
class ImportReport:
    """What an import matched, and what it could not (the first ``LISTED`` of each, and how many)."""

    images: int = 0
    objects: int = 0
    unmatched_files: list[str] = field(default_factory=list)
    unmatched_count: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def unmatched(self, name: str) -> None:
        self.unmatched_count += 1
        if len(self.unmatched_files) < LISTED:
            self.unmatched_files.append(name)

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < LISTED:
            self.problems.append(text)

    @property
    def ok(self) -> bool:
        return not self.unmatched_count and not self.problem_count

    def as_dict(self) -> dict:
        return {
            "images": self.images,
            "objects": self.objects,
            "unmatched_files": self.unmatched_files,
            "unmatched_count": self.unmatched_count,
            "problems": self.problems,
            "problem_count": self.problem_count,
        }

    def summary(self) -> str:
        parts = [f"{self.images} image(s), {self.objects} object(s) matched"]
        if self.unmatched_count:
            parts.append(f"{self.unmatched_count} file name(s) not in the campaign: {', '.join(self.unmatched_files)}")
        if self.problem_count:
            parts.append(f"{self.problem_count} problem(s): {'; '.join(self.problems)}")
        return "; ".join(parts)


class ImportRefused(Unprocessable):
    """The file does not fit the campaign; ``report`` says where. Nothing was stored."""

    def __init__(self, report: ImportReport):
        super().__init__(f"Nothing imported: {report.summary()}", extra={"report": report.as_dict()})
        self.report = report


@dataclass(frozen=True, slots=True)
class _Image:
    image_id: int
    width: int | None
    height: int | None


class CampaignImageIndex:
    """A campaign's images by path in container and by bare file name (``None`` when two share a name)."""

    def __init__(self, campaign_id: int):
        self.by_path: dict[str, _Image] = {}
        self.by_name: dict[str, _Image | None] = {}
        rows = (
            CampaignImage.objects.filter(campaign_id=campaign_id)
            .order_by("image_id")
            .values_list("image_id", "image__blobstorage_path", "image__width", "image__height")
        )
        for image_id, path, width, height in rows.iterator(chunk_size=5000):
            image = _Image(image_id, width, height)
            in_container = split_path(path)[1]
            self.by_path[in_container] = image
            name = posixpath.basename(in_container)
            self.by_name[name] = None if name in self.by_name else image

    def find(self, file_name: str) -> _Image | None:
        image = self.by_path.get(file_name.lstrip("/"))
        if image is None:
            image = self.by_name.get(posixpath.basename(file_name))
        return image


def _pixel(value: Any) -> int | Any:
    """A coordinate rounded to a whole pixel; anything else is left for ``parse_object`` to refuse."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) < 2**53:
        return round(value)
    return value


def _objects(image: _Image, raw_objects: list[dict], report: ImportReport, objects_by_image: dict) -> None:
    """Parse one image's objects as ``PUT .../objects`` does; a refusal becomes a problem of the report."""
    if len(raw_objects) > settings.OBJECTS_PER_IMAGE_MAX:
        report.problem(
            f"image {image.image_id}: {len(raw_objects)} objects, at most {settings.OBJECTS_PER_IMAGE_MAX} per image"
        )
        return
    parsed = []
    for index, raw in enumerate(raw_objects):
        try:
            parsed.append(parse_object(image.image_id, index, raw))
        except ApplicationError as exc:
            report.problem(exc.detail)
            return
    if image.image_id in objects_by_image:
        report.problem(f"image {image.image_id} is listed more than once")
        return
    objects_by_image[image.image_id] = parsed
    report.images += 1
    report.objects += len(parsed)


# --- COCO ------------------------------------------------------------------------------------


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
    by_coco_id: dict[int, tuple[_Image, list[dict]]] = {}
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
        if not (isinstance(bbox, list) and len(bbox) == 4 and _numbers(bbox)):
            report.problem(f"{where}: 'bbox' must be [x, y, width, height]")
            continue
        x, y, w, h = bbox
        box = {"xmin": _pixel(x), "ymin": _pixel(y), "xmax": _pixel(x + w), "ymax": _pixel(y + h)}
        target[1].append({"label": label, "confidence": annotation.get("score"), "bounding_box": box})
    objects_by_image: dict[int, list] = {}
    for image, raw_objects in by_coco_id.values():
        _objects(image, raw_objects, report, objects_by_image)
    return list(objects_by_image.items()), report


def _numbers(values: Iterable) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


# --- labels CSV --------------------------------------------------------------------------------


def parse_labels_csv(text: Iterable[str], *, index: CampaignImageIndex) -> tuple[ObjectsByImage, ImportReport]:
    """A labels CSV (``image_url,label,label_confidence``) as the campaign's objects; empty rows are skipped.

    ``text``: the lines (a text stream opened with ``newline=""``, or a list of lines).
    """
    reader = csv.DictReader(text)
    try:
        return _labels_csv_rows(reader, index=index)
    except csv.Error as exc:  # a field over csv.field_size_limit(), a NUL byte
        raise BadRequest(f"The labels CSV cannot be read: {exc}") from None
    except UnicodeDecodeError:
        raise BadRequest("The file is not UTF-8 text") from None


def _labels_csv_rows(reader: csv.DictReader, *, index: CampaignImageIndex) -> tuple[ObjectsByImage, ImportReport]:
    if reader.fieldnames is None or not {"image_url", "label"} <= set(reader.fieldnames):
        raise BadRequest("A labels CSV has the header image_url,label,label_confidence")
    report = ImportReport()
    objects_by_image: dict[int, list] = {}
    for line, row in enumerate(reader, start=2):
        try:
            boxes = json.loads(row["label"] or "[]")
            confidences = json.loads(row.get("label_confidence") or "null")
        except (ValueError, RecursionError):  # not JSON, too deep, an integer of over 4,300 digits
            report.problem(f"line {line}: 'label' and 'label_confidence' must be JSON lists")
            continue
        if not isinstance(boxes, list) or not all(isinstance(b, dict) for b in boxes):
            report.problem(f"line {line}: 'label' must be a JSON list of objects")
            continue
        if not boxes:
            continue
        image = index.find(row["image_url"] or "")
        if image is None:
            report.unmatched(row["image_url"] or "")
            continue
        if not (image.width and image.height):
            report.problem(f"line {line}: image {image.image_id} has no known size to turn fractions into pixels")
            continue
        if not isinstance(confidences, list) or len(confidences) != len(boxes):
            confidences = [None] * len(boxes)
        raw_objects = []
        for box, confidence in zip(boxes, confidences, strict=True):
            sides = [box.get(k) for k in ("topX", "topY", "bottomX", "bottomY")]
            if not _numbers(sides):
                report.problem(f"line {line}: every box needs numeric topX, topY, bottomX and bottomY")
                break
            raw_objects.append(
                {
                    "label": box.get("label"),
                    "confidence": confidence,
                    "bounding_box": {
                        "xmin": _pixel(sides[0] * image.width),
                        "ymin": _pixel(sides[1] * image.height),
                        "xmax": _pixel(sides[2] * image.width),
                        "ymax": _pixel(sides[3] * image.height),
                    },
                }
            )
        else:
            _objects(image, raw_objects, report, objects_by_image)
    return list(objects_by_image.items()), report


class _Bounded(io.RawIOBase):
    """``file`` as a readable stream that refuses (413) to give more than ``IMPORT_MAX_BYTES``.

    The CSV is parsed as it is read, so a file too large is found out at the read
    that crosses the bound, with no more than a buffer of it in memory.
    """

    def __init__(self, file: BinaryIO):
        self._file = file
        self._left = settings.IMPORT_MAX_BYTES

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._file.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise PayloadTooLarge(too_large_message())
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def too_large_message() -> str:
    return f"The file is larger than the {settings.IMPORT_MAX_BYTES:,} bytes an import may have (IMPORT_MAX_BYTES)"


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


def parse_labels_file(file: BinaryIO, *, file_format: str, index: CampaignImageIndex):
    """``file`` (UTF-8, at most ``IMPORT_MAX_BYTES``) read as ``file_format`` (``coco`` or ``csv``)."""
    if file_format == "coco":
        return parse_coco(_coco_document(file), index=index)
    if file_format == "csv":
        lines = io.TextIOWrapper(io.BufferedReader(_Bounded(file)), encoding="utf-8-sig", newline="")
        return parse_labels_csv(lines, index=index)
    raise BadRequest(f"Unknown format {file_format!r}: one of {', '.join(FORMATS)}")


def guess_format(file_name: str) -> str:
    return "csv" if file_name.lower().endswith(".csv") else "coco"
