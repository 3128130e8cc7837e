"""Matching two sets of boxes of one image by overlap (IoU), to say what changed between them.

Used to compare an image's revisions on the review page (what the agency
added, removed, moved or relabeled) and a model's predictions with the
agency's boxes in the export (``campaigns.predictions.compare_boxes``).
Greedy matching: every pair of boxes whose IoU reaches ``threshold`` is a
candidate; the pairs are taken best first (on a tie, a pair with the same
label first), each box at most once. Each pair is then:

- ``kept``: same label and the same corners;
- ``moved``: same label, other corners;
- ``relabeled``: another label (whatever the corners);

a box of ``before`` left without a pair is ``removed``, one of ``after`` is
``added``. Deterministic: ties go to the earlier boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

KEPT, MOVED, RELABELED, REMOVED, ADDED = "kept", "moved", "relabeled", "removed", "added"


class BoxLike(Protocol):
    label: str
    xmin: int
    ymin: int
    xmax: int
    ymax: int


def iou(a: BoxLike, b: BoxLike) -> float:
    """Intersection over union of two boxes in pixel corners; two identical boxes 1 (even without area)."""
    if (a.xmin, a.ymin, a.xmax, a.ymax) == (b.xmin, b.ymin, b.xmax, b.ymax):
        return 1.0
    width = min(a.xmax, b.xmax) - max(a.xmin, b.xmin)
    height = min(a.ymax, b.ymax) - max(a.ymin, b.ymin)
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    area_a = (a.xmax - a.xmin) * (a.ymax - a.ymin)
    area_b = (b.xmax - b.xmin) * (b.ymax - b.ymin)
    union = area_a + area_b - overlap
    return overlap / union if union > 0 else 0.0


@dataclass(frozen=True)
class Change:
    """What became of one box: ``before``/``after`` are indexes into the two lists (None when absent)."""

    kind: str
    before: int | None
    after: int | None
    iou: float


def match_boxes(before: Sequence[BoxLike], after: Sequence[BoxLike], *, threshold: float = 0.5) -> list[Change]:
    """Every box of both lists once: each box of ``after`` in order (paired or added), then those removed."""
    candidates = sorted(
        (-overlap, old.label != new.label, i, j, overlap)
        for i, old in enumerate(before)
        for j, new in enumerate(after)
        if (overlap := iou(old, new)) >= threshold
    )
    paired_before: set[int] = set()
    paired_after: dict[int, tuple[int, float]] = {}
    for _, _, i, j, overlap in candidates:
        if i in paired_before or j in paired_after:
            continue
        paired_before.add(i)
        paired_after[j] = (i, overlap)

    changes = []
    for j, new in enumerate(after):
        if j not in paired_after:
            changes.append(Change(ADDED, None, j, 0.0))
            continue
        i, overlap = paired_after[j]
        old = before[i]
        if old.label != new.label:
            kind = RELABELED
        elif (old.xmin, old.ymin, old.xmax, old.ymax) == (new.xmin, new.ymin, new.xmax, new.ymax):
            kind = KEPT
        else:
            kind = MOVED
        changes.append(Change(kind, i, j, overlap))
    changes += [Change(REMOVED, i, None, 0.0) for i in range(len(before)) if i not in paired_before]
    return changes
