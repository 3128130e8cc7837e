"""YOLO object detection labels: ``<title>_yolo.zip`` with ``data.yaml`` and one ``.txt`` per image.

``labels/<image path in its container, extension .txt>`` holds one line per
current object, ``<class> <cx> <cy> <w> <h>``: the box centre and size as
fractions of the image size (``repr`` floats, so ``round(cx * width - w *
width / 2)`` gives the stored pixel back). ``class`` is the 0-based index of
the label in ``data.yaml``'s ``names``, which lists the labels in the COCO
export's category order (COCO category id = class + 1). Where that name is
already taken (``a.jpg`` and ``a.png``), or the path without its extension
already ends in ``__<digits>``, the file is ``<path>__<image id>.txt``, so no
image's labels overwrite another's (``archive.EntryNames``).

Like the AutoML JSONL this is a training set: labeled images of known size
only. An image labeled empty gets an empty file (a background image, as YOLO
reads it); an image of unknown size cannot be normalised and is left out and
counted (``unsized_images``).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator

from campaigns.export.archive import EntryNames, zip_chunks
from campaigns.export.formats import SkippedImages
from campaigns.export.selectors import ExportImage, campaign_export_images, campaign_export_labels


def yolo_data_yaml(labels: list[str]) -> str:
    """``nc`` and ``names`` (JSON strings are valid YAML scalars, so any label stays one entry)."""
    lines = [
        "# labelhub YOLO export: labels/<image path>.txt per labeled image; class = index in names",
        f"nc: {len(labels)}",
        "names:" if labels else "names: []",
    ]
    lines += [f"  - {json.dumps(label, ensure_ascii=False)}" for label in labels]
    return "\n".join(lines) + "\n"


def yolo_lines(image: ExportImage, class_ids: dict[str, int]) -> str:
    """The label file of one image of known size."""
    width, height = image.width, image.height
    lines = []
    for obj in image.objects:
        cx = (obj.xmin + obj.xmax) / 2 / width
        cy = (obj.ymin + obj.ymax) / 2 / height
        w = (obj.xmax - obj.xmin) / width
        h = (obj.ymax - obj.ymin) / height
        lines.append(f"{class_ids[obj.label]} {cx!r} {cy!r} {w!r} {h!r}\n")
    return "".join(lines)


def yolo_zip_chunks(
    *, campaign_id: int, labels: list[str] | None = None, unsized: SkippedImages | None = None
) -> Iterator[bytes]:
    """The YOLO zip, streamed: ``data.yaml`` first, then the label files by image id."""
    if labels is None:
        labels = campaign_export_labels(campaign_id=campaign_id)
    class_ids = {label: index for index, label in enumerate(labels)}

    def entries():
        yield "data.yaml", yolo_data_yaml(labels).encode("utf-8")
        names = EntryNames()
        for image in campaign_export_images(campaign_id=campaign_id):
            if not image.labeled:
                continue
            if not image.size_known:
                if unsized is not None:
                    unsized.add(image.image_id)
                continue
            stem = posixpath.splitext(image.path_in_container)[0]
            name = names.unique(f"labels/{stem}", ".txt", image.image_id)
            yield name, yolo_lines(image, class_ids).encode("utf-8")

    return zip_chunks(entries())
