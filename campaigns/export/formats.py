"""The export files, each produced as a stream of text chunks.

Every generator here reads the database through an iterator and yields text
in chunks of about ``CHUNK_CHARS`` characters, so neither the job nor the
``labels.csv`` endpoint ever holds a whole file in memory.

Boxes are normalised the Azure ML way: ``topX = xmin / width``,
``topY = ymin / height``, ``bottomX = xmax / width``,
``bottomY = ymax / height``.

Images whose width or height is unknown (only possible for images that did
not come through an image-set ingest, which always measures them) cannot be
normalised. We never guess a size:

* the CSV keeps their objects in both lists (so labels and confidences stay
  aligned and nothing silently disappears) with ``null`` coordinates;
* the AutoML JSONL leaves such images out (AutoML needs real fractions) and
  the job result names them under ``unsized_images``;
* COCO keeps them: its boxes are in pixels, ``width``/``height`` are ``null``.

The AutoML JSONL and COCO are training sets: they hold the *labeled* images
only (an unlabeled image is not a negative sample). The CSV, per the
contract, has one row per campaign image; an unlabeled image and an image
labeled empty both have ``[]``.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from campaigns.export.selectors import (
    ExportImage,
    campaign_export_image_rows,
    campaign_export_images,
    campaign_export_labels,
    campaign_export_object_rows,
)

CHUNK_CHARS = 64 * 1024
CSV_HEADER = ("image_url", "label", "label_confidence")


def _buffered(pieces: Iterable[str]) -> Iterator[str]:
    """Join small strings into chunks of about ``CHUNK_CHARS`` characters."""
    size = CHUNK_CHARS
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffer)
            buffer.clear()
            length = 0
    if buffer:
        yield "".join(buffer)


@lru_cache(maxsize=4096)
def _json_string(value: str) -> str:
    """A JSON string literal; labels repeat, so their encoding is cached."""
    return json.dumps(value, ensure_ascii=False)


def _number(value: float | None) -> str:
    # json.dumps writes floats with float.__repr__ too.
    return "null" if value is None else repr(value)


def boxes_json(image: ExportImage, *, extra: str = "") -> str:
    """The JSON list of ``{label, topX, topY, bottomX, bottomY}`` (+ ``extra`` members) of the image's objects.

    Written by hand rather than through ``json.dumps`` of dicts: the same
    text (key order, ``", "``/``": "`` separators, ``repr`` floats, ``null``),
    three times faster on a million objects. A coordinate whose image side is
    unknown is ``null``.
    """
    if not image.objects:
        return "[]"
    width, height = image.width, image.height
    parts = []
    for obj in image.objects:
        if width and height:
            coordinates = (
                f'"topX": {obj.xmin / width!r}, "topY": {obj.ymin / height!r}, '
                f'"bottomX": {obj.xmax / width!r}, "bottomY": {obj.ymax / height!r}'
            )
        else:
            coordinates = (
                f'"topX": {_number(obj.xmin / width if width else None)}, '
                f'"topY": {_number(obj.ymin / height if height else None)}, '
                f'"bottomX": {_number(obj.xmax / width if width else None)}, '
                f'"bottomY": {_number(obj.ymax / height if height else None)}'
            )
        parts.append(f'{{"label": {_json_string(obj.label)}, {coordinates}{extra}}}')
    return "[" + ", ".join(parts) + "]"


def confidences_json(image: ExportImage) -> str:
    return "[" + ", ".join(_number(obj.confidence) for obj in image.objects) + "]"


def datastore_uri(path_in_container: str, datastore: str) -> str:
    """``azureml://datastores/<ds>/paths/<path>``; the bare path when no datastore is configured."""
    if not datastore:
        return path_in_container
    return f"azureml://datastores/{datastore}/paths/{path_in_container}"


# --- labels CSV ---------------------------------------------------------------


def labels_csv_row(image: ExportImage) -> tuple[str, str, str]:
    return image.path_in_container, boxes_json(image), confidences_json(image)


def labels_csv_chunks(*, campaign_id: int) -> Iterator[str]:
    """The labels CSV as text chunks: header, then one row per campaign image, by image id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for image in campaign_export_images(campaign_id=campaign_id):
        writer.writerow(labels_csv_row(image))
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


# --- AutoML object detection (JSONL + MLTable) ---------------------------------


def _image_format(image: ExportImage) -> str:
    extension = posixpath.splitext(image.blobstorage_path)[1].lstrip(".").lower()
    return extension or image.filetype.lower()


@dataclass
class SkippedImages:
    """How many images a writer left out, and the first ``limit`` of their ids."""

    limit: int = 100
    count: int = 0
    image_ids: list[int] = field(default_factory=list)

    def add(self, image_id: int) -> None:
        self.count += 1
        if len(self.image_ids) < self.limit:
            self.image_ids.append(image_id)

    def as_dict(self) -> dict:
        return {"count": self.count, "image_ids": list(self.image_ids)}


def automl_jsonl_chunks(
    *, campaign_id: int, datastore: str, unsized: SkippedImages | None = None, review_required: bool = False
) -> Iterator[str]:
    """One AutoML object-detection line per labeled image of known size.

    Labeled images left out for an unknown size are counted in ``unsized``.
    ``review_required``: each line also names the accepted submission (``accepted_submission``).
    """

    def lines() -> Iterator[str]:
        for image in campaign_export_images(campaign_id=campaign_id):
            if not image.labeled:
                continue
            if not image.size_known:
                if unsized is not None:
                    unsized.add(image.image_id)
                continue
            url = json.dumps(datastore_uri(image.path_in_container, datastore), ensure_ascii=False)
            details = (
                f'{{"format": {_json_string(_image_format(image))}, "width": {image.width}, "height": {image.height}}}'
            )
            boxes = boxes_json(image, extra=', "isCrowd": 0')
            accepted = f', "accepted_submission": {_number(image.accepted_submission)}' if review_required else ""
            yield f'{{"image_url": {url}, "image_details": {details}, "label": {boxes}{accepted}}}\n'

    return _buffered(lines())


def automl_mltable(*, jsonl_name: str) -> str:
    """The ``MLTable`` that reads the AutoML JSONL beside it, ``image_url`` as a stream."""
    return (
        "$schema: https://azuremlschemas.azureedge.net/latest/MLTable.schema.json\n"
        "type: mltable\n"
        "paths:\n"
        f"  - file: {json.dumps('./' + jsonl_name)}\n"
        "transformations:\n"
        "  - read_json_lines:\n"
        "      encoding: utf8\n"
        "      invalid_lines: error\n"
        "      include_path_column: false\n"
        "  - convert_column_types:\n"
        "      - columns: image_url\n"
        "        column_type: stream_info\n"
    )


# --- the images MLTable -------------------------------------------------------


def images_mltable_chunks(*, campaign_id: int, datastore: str) -> Iterator[str]:
    """An ``MLTable`` whose ``paths`` are exactly the campaign's image files on the datastore.

    Paths are written as JSON strings, which YAML reads as double-quoted
    scalars, so any file name stays one valid entry.
    """

    def lines() -> Iterator[str]:
        yield "$schema: https://azuremlschemas.azureedge.net/latest/MLTable.schema.json\n"
        yield "type: mltable\n"
        yield "paths:\n"
        empty = True
        for _, path, *_rest in campaign_export_image_rows(campaign_id=campaign_id):
            empty = False
            in_container = path.split("/", 1)[1] if "/" in path else path
            yield f"  - file: {json.dumps(datastore_uri(in_container, datastore), ensure_ascii=False)}\n"
        if empty:
            # ``paths:`` must stay a list even for a campaign without images.
            yield "  []\n"

    return _buffered(lines())


# --- COCO -----------------------------------------------------------------------


def coco_categories(labels: list[str]) -> list[dict]:
    """Categories with ids 1..n in sorted label order (stable across runs)."""
    return [{"id": index, "name": label, "supercategory": ""} for index, label in enumerate(labels, start=1)]


def coco_json_chunks(
    *, campaign_id: int, labels: list[str] | None = None, review_required: bool = False
) -> Iterator[str]:
    """COCO object detection JSON of the labeled images: ``images``, ``annotations``, ``categories``.

    Image ids are labelhub image ids, annotation ids labelhub object ids;
    boxes are ``[x, y, width, height]`` in pixels. ``review_required``: each
    image also names the accepted submission (``accepted_submission``).
    """
    if labels is None:
        labels = campaign_export_labels(campaign_id=campaign_id)
    categories = coco_categories(labels)
    category_ids = {category["name"]: category["id"] for category in categories}

    def pieces() -> Iterator[str]:
        yield '{"images": ['
        separator = ""
        rows = campaign_export_image_rows(campaign_id=campaign_id, with_acceptance=review_required)
        for image_id, path, _filetype, width, height, labeled, *accepted in rows:
            if not labeled:
                continue
            file_name = path.split("/", 1)[1] if "/" in path else path
            image = {"id": image_id, "file_name": file_name, "width": width, "height": height}
            if review_required:
                image["accepted_submission"] = accepted[0]
            yield separator + json.dumps(image, ensure_ascii=False)
            separator = ", "
        yield '], "annotations": ['
        separator = ""
        for object_id, image_id, label, confidence, xmin, ymin, xmax, ymax in campaign_export_object_rows(
            campaign_id=campaign_id
        ):
            width, height = xmax - xmin, ymax - ymin
            annotation = {
                "id": object_id,
                "image_id": image_id,
                "category_id": category_ids[label],
                "bbox": [xmin, ymin, width, height],
                "area": width * height,
                "iscrowd": 0,
                "segmentation": [],
                "score": confidence,
            }
            yield separator + json.dumps(annotation)
            separator = ", "
        yield '], "categories": ' + json.dumps(categories, ensure_ascii=False) + "}\n"

    return _buffered(pieces())


def encoded(chunks: Iterable[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("utf-8")
