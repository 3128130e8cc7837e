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

A file is read from its stream, at most ``IMPORT_MAX_BYTES`` of it (413
beyond).

Here: the entry points (``parse_labels_file``, ``guess_format``, ``FORMATS``)
and what their callers handle; ``common``: the report, the refusal, the
campaign's image index and the object parse both formats share; ``coco``
and ``csv``: one format each.
"""

from __future__ import annotations

from typing import BinaryIO

from campaigns.imports.coco import parse_coco_file
from campaigns.imports.common import CampaignImageIndex, ImportRefused, ImportReport, too_large_message
from campaigns.imports.csv import parse_labels_csv_file
from core.exceptions import BadRequest

FORMATS = ("coco", "csv")

__all__ = [
    "FORMATS",
    "CampaignImageIndex",
    "ImportRefused",
    "ImportReport",
    "guess_format",
    "parse_labels_file",
    "too_large_message",
]


def parse_labels_file(file: BinaryIO, *, file_format: str, index: CampaignImageIndex):
    """``file`` (UTF-8, at most ``IMPORT_MAX_BYTES``) read as ``file_format`` (``coco`` or ``csv``)."""
    if file_format == "coco":
        return parse_coco_file(file, index=index)
    if file_format == "csv":
        return parse_labels_csv_file(file, index=index)
    raise BadRequest(f"Unknown format {file_format!r}: one of {', '.join(FORMATS)}")


def guess_format(file_name: str) -> str:
    return "csv" if file_name.lower().endswith(".csv") else "coco"
