"""Labels CSVs (labelhub's own export format), read as the campaign's objects.

A row with an empty list is skipped, since the labels CSV writes ``[]`` both
for an unlabeled image and one labeled empty. A CSV is parsed row by row as
it is read, never held whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import BinaryIO

from django.conf import settings

from campaigns.imports.common import (
    CampaignImageIndex,
    ImportReport,
    add_image_objects,
    all_numbers,
    to_pixel,
    too_large_message,
)
from campaigns.inputs import ObjectsByImage
from core.exceptions import BadRequest, PayloadTooLarge


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
            if not all_numbers(sides):
                report.problem(f"line {line}: every box needs numeric topX, topY, bottomX and bottomY")
                break
            raw_objects.append(
                {
                    "label": box.get("label"),
                    "confidence": confidence,
                    "bounding_box": {
                        "xmin": to_pixel(sides[0] * image.width),
                        "ymin": to_pixel(sides[1] * image.height),
                        "xmax": to_pixel(sides[2] * image.width),
                        "ymax": to_pixel(sides[3] * image.height),
                    },
                }
            )
        else:
            add_image_objects(image, raw_objects, report, objects_by_image)
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


def parse_labels_csv_file(file: BinaryIO, *, index: CampaignImageIndex) -> tuple[ObjectsByImage, ImportReport]:
    """``file`` (UTF-8, at most ``IMPORT_MAX_BYTES``) parsed as a labels CSV as it is read."""
    lines = io.TextIOWrapper(io.BufferedReader(_Bounded(file)), encoding="utf-8-sig", newline="")
    return parse_labels_csv(lines, index=index)
