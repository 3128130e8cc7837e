"""``<title>_predictions.jsonl``: for each labeled image that had predictions, what the agency did with them.

One line per such image, by image id::

    {"image_id": 1, "image_url": "uploads/set/a.png", "model": {"name": "m", "version": "1"},
     "boxes": [{"outcome": "moved", "label": "Plastic", "bbox": [12, 5, 50, 41],
                "predicted_label": "Plastic", "predicted_bbox": [10, 5, 50, 40], "iou": 0.91}, ...]}

``bbox`` is ``[xmin, ymin, xmax, ymax]`` in pixels; a ``removed`` box has
only the predicted side, an ``added`` one only the agency's. The outcomes
(``campaigns.predictions.compare_boxes``) are counted into ``summary``, which
the export job stores in its result. Both readers walk their rows in image id
order, so the file is written in constant memory.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

from django.conf import settings

from campaigns.export.formats import _buffered
from campaigns.export.selectors import campaign_export_images
from campaigns.predictions import OUTCOMES, Box, compare_boxes, model_box_rows


def _predicted_by_image(campaign_id: int) -> Iterator[tuple[int, dict, list[Box]]]:
    current_id, model, boxes = None, None, []
    for image_id, label, xmin, ymin, xmax, ymax, name, version in model_box_rows(campaign_id=campaign_id):
        if image_id != current_id:
            if current_id is not None:
                yield current_id, model, boxes
            current_id, model, boxes = image_id, {"name": name, "version": version or None}, []
        boxes.append(Box(label, xmin, ymin, xmax, ymax))
    if current_id is not None:
        yield current_id, model, boxes


def _bbox(box: Box | None) -> list[int] | None:
    return None if box is None else [box.xmin, box.ymin, box.xmax, box.ymax]


def predictions_jsonl_chunks(*, campaign_id: int, summary: Counter | None = None) -> Iterator[str]:
    """The comparison file as text chunks; ``summary`` counts images and outcomes."""
    threshold = settings.PREDICTIONS_IOU_THRESHOLD
    summary = Counter() if summary is None else summary
    for outcome in OUTCOMES:
        summary[outcome] += 0

    def lines() -> Iterator[str]:
        predicted = _predicted_by_image(campaign_id)
        pending = next(predicted, None)
        for image in campaign_export_images(campaign_id=campaign_id):
            while pending is not None and pending[0] < image.image_id:
                pending = next(predicted, None)
            if pending is None:
                return
            if pending[0] != image.image_id:
                continue
            _, model, predicted_boxes = pending
            if not image.labeled:
                summary["images_not_labeled"] += 1
                continue
            submitted = [Box(o.label, o.xmin, o.ymin, o.xmax, o.ymax) for o in image.objects]
            outcomes = compare_boxes(predicted_boxes, submitted, threshold=threshold)
            summary["images"] += 1
            boxes = []
            for outcome in outcomes:
                summary[outcome.outcome] += 1
                boxes.append(
                    {
                        "outcome": outcome.outcome,
                        "label": outcome.box.label if outcome.box else None,
                        "bbox": _bbox(outcome.box),
                        "predicted_label": outcome.prediction.label if outcome.prediction else None,
                        "predicted_bbox": _bbox(outcome.prediction),
                        "iou": outcome.iou,
                    }
                )
            line = {"image_id": image.image_id, "image_url": image.path_in_container, "model": model, "boxes": boxes}
            yield json.dumps(line, ensure_ascii=False) + "\n"

    return _buffered(lines())
