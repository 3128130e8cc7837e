"""The consensus of two agencies as COCO: the boxes both drew on the same images, their corners averaged.

Written by the export of a campaign that names another (``consensus_with``,
"compare with campaign"): on each image both campaigns hold and count as
labeled, the two current box lists are matched label by label, one to one by
IoU (``campaigns.matching.match_boxes``, pairs at IoU >= ``GOLD_IOU_THRESHOLD``:
the pairs ``campaigns.agreement`` counts as true positives), and each pair
becomes one box whose corners are the means of the two (pixels, halves
kept). A box only one agency drew is left out.

The file is COCO object detection JSON: ``images`` (each shared image, with
``agreement_f1``, its own F1, so a consumer can keep only images both agree
on entirely: 1.0), ``annotations`` (the averaged boxes, ``iou``: the pair's
overlap), ``categories`` (the campaign's labels on those images, sorted, ids
1..n as in ``_coco.json``) and ``info`` naming both campaigns.
The images are streamed in one pass by image id: the annotations are held
in a spooled temporary file until the ``images`` list is written, so memory
stays flat.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence

from django.db.models import F

from campaigns.agreement import Box, iou_threshold, paired_boxes, shared_images
from campaigns.export.formats import _buffered, coco_categories
from campaigns.matching import match_boxes
from campaigns.models import BoundingBox
from campaigns.scoring import figures, score_boxes

# Annotations are kept in memory up to this many characters, then spill to a temporary file.
SPOOL_CHARS = 8 * 1024 * 1024


def consensus_boxes(ours: Sequence[Box], theirs: Sequence[Box], *, threshold: float) -> list[tuple[Box, float]]:
    """The pairs of same-label boxes matched at IoU >= ``threshold``, each as ``(averaged box, IoU)``.

    Corners are floats (the mean of two pixel coordinates). In the order of ``ours`` within each label,
    labels sorted, as ``campaigns.scoring.score_boxes`` pairs them.
    """
    ours_by_label: dict[str, list[Box]] = defaultdict(list)
    theirs_by_label: dict[str, list[Box]] = defaultdict(list)
    for box in ours:
        ours_by_label[box.label].append(box)
    for box in theirs:
        theirs_by_label[box.label].append(box)
    agreed = []
    for label in sorted(ours_by_label.keys() & theirs_by_label.keys()):
        mine, yours = ours_by_label[label], theirs_by_label[label]
        pairs = [
            (change.before, change.after, change.iou)
            for change in match_boxes(mine, yours, threshold=threshold)
            if change.before is not None and change.after is not None
        ]
        for before, after, overlap in sorted(pairs):
            a, b = mine[before], yours[after]
            averaged = Box(
                label, (a.xmin + b.xmin) / 2, (a.ymin + b.ymin) / 2, (a.xmax + b.xmax) / 2, (a.ymax + b.ymax) / 2
            )
            agreed.append((averaged, overlap))
    return agreed


def _consensus_labels(campaign_id: int, other_id: int) -> list[str]:
    """The labels of the campaign's current boxes on the shared images, sorted (the only ones a pair can have)."""
    shared = shared_images(campaign_id=campaign_id, other_id=other_id)
    return list(
        BoundingBox.objects.filter(campaign_image__in=shared.values("pk"))
        .filter(submission_id=F("campaign_image__current_submission_id"))
        .order_by("label")
        .values_list("label", flat=True)
        .distinct()
    )


def consensus_coco_chunks(
    *, campaign_id: int, other_id: int, summary: Counter | None = None, threshold: float | None = None
) -> Iterator[str]:
    """The consensus COCO JSON as text chunks; ``summary`` counts ``images``, ``boxes`` and the pooled
    ``tp``/``fp``/``fn`` (its F1 is the agreement's)."""
    threshold = iou_threshold() if threshold is None else threshold
    summary = Counter() if summary is None else summary
    categories = coco_categories(_consensus_labels(campaign_id, other_id))
    category_ids = {category["name"]: category["id"] for category in categories}

    def pieces() -> Iterator[str]:
        info = {
            "description": f"Boxes both agencies drew: campaigns {campaign_id} and {other_id} (labelhub)",
            "labelhub_campaign_ids": [campaign_id, other_id],
            "iou_threshold": threshold,
        }
        yield '{"info": ' + json.dumps(info) + ', "images": ['
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_CHARS, mode="w+", encoding="utf-8") as annotations:
            image_separator = annotation_separator = ""
            for (image_id, path, width, height), ours, theirs in paired_boxes(
                campaign_id=campaign_id,
                other_id=other_id,
                image_fields=("image__blobstorage_path", "image__width", "image__height"),
            ):
                score = score_boxes(ours, theirs, threshold=threshold)
                summary.update(images=1, tp=score.tp, fp=score.fp, fn=score.fn)
                image = {
                    "id": image_id,
                    "file_name": path.split("/", 1)[1] if "/" in path else path,
                    "width": width,
                    "height": height,
                    "agreement_f1": round(figures(tp=score.tp, fp=score.fp, fn=score.fn)["f1"], 6),
                }
                yield image_separator + json.dumps(image, ensure_ascii=False)
                image_separator = ", "
                for box, overlap in consensus_boxes(ours, theirs, threshold=threshold):
                    summary["boxes"] += 1
                    box_width, box_height = box.xmax - box.xmin, box.ymax - box.ymin
                    annotation = {
                        "id": summary["boxes"],
                        "image_id": image_id,
                        "category_id": category_ids[box.label],
                        "bbox": [box.xmin, box.ymin, box_width, box_height],
                        "area": box_width * box_height,
                        "iscrowd": 0,
                        "segmentation": [],
                        "iou": round(overlap, 6),
                    }
                    annotations.write(annotation_separator + json.dumps(annotation))
                    annotation_separator = ", "
            yield '], "annotations": ['
            annotations.seek(0)
            while chunk := annotations.read(64 * 1024):
                yield chunk
        yield '], "categories": ' + json.dumps(categories, ensure_ascii=False) + "}\n"

    return _buffered(pieces())
