"""Scoring one list of boxes against another: true and false positives, misses, precision, recall, F1, IoU.

Used to score an agency's submission of a gold image against the staff's
reference (``campaigns.gold``) and to measure the agreement of two agencies
on the same images (one campaign's boxes as the reference, the other's as
the submission).

Per image (``score_boxes``): the boxes are matched one to one by IoU with
the existing matcher (``campaigns.matching.match_boxes``: best overlap
first, each box at most once), label by label, so that a pair counts only
with the same label and IoU >= ``threshold`` (``GOLD_IOU_THRESHOLD``,
0.5 by default). A matched pair is a true positive (TP), a submitted box
left without a pair a false positive (FP), a reference box left without a
pair a false negative (FN). Matching within a label, rather than across
labels and then discarding the pairs whose labels differ, means a box of
another label overlapping more never takes a same-label box's match away.

The figures (``figures``, ``pooled``):

- precision = TP / (TP + FP), recall = TP / (TP + FN),
  F1 = 2 TP / (2 TP + FP + FN) (their harmonic mean);
- mean IoU = the mean IoU of the matched pairs;
- an image (or pool) with no box on either side scores 1 on all four: the
  agency found nothing where there was nothing to find; otherwise a zero
  denominator gives 0 (nothing submitted where boxes were expected:
  precision 0; boxes submitted where none were expected: recall 0), and
  mean IoU is None without a matched pair.

Pooling sums TP, FP, FN, the IoU sum and the matched pairs over the images
before dividing (micro averaging): an image with many boxes weighs more
than one with few, as the issue asks (the figure a vendor is paid on).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from campaigns.matching import BoxLike, iou, match_boxes

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class LabelCounts:
    """One label's true positives, false positives and false negatives on an image (or pooled)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0


@dataclass(frozen=True, slots=True)
class ImageScore:
    """One image's counts: ``matched`` is the number of pairs ``iou_sum`` adds up (equal to ``tp``).

    ``by_label``: the same counts per label (the reference's and the
    submission's labels, each at least once).
    """

    tp: int
    fp: int
    fn: int
    iou_sum: float
    matched: int
    by_label: dict[str, LabelCounts] = field(default_factory=dict)

    def figures(self) -> dict[str, float | None]:
        """``{"precision", "recall", "f1", "mean_iou"}`` of this image."""
        return figures(tp=self.tp, fp=self.fp, fn=self.fn, iou_sum=self.iou_sum, matched=self.matched)


def score_boxes(
    reference: Sequence[BoxLike], submitted: Sequence[BoxLike], *, threshold: float = DEFAULT_THRESHOLD
) -> ImageScore:
    """Score ``submitted`` against ``reference`` (boxes with ``label`` and pixel corners)."""
    reference_by_label: dict[str, list[BoxLike]] = defaultdict(list)
    submitted_by_label: dict[str, list[BoxLike]] = defaultdict(list)
    for box in reference:
        reference_by_label[box.label].append(box)
    for box in submitted:
        submitted_by_label[box.label].append(box)

    tp = fp = fn = 0
    iou_sum = 0.0
    by_label: dict[str, LabelCounts] = {}
    for label in sorted(reference_by_label.keys() | submitted_by_label.keys()):
        expected, given = reference_by_label.get(label, []), submitted_by_label.get(label, [])
        label_tp, label_iou = _matched(expected, given, threshold)
        counts = LabelCounts(tp=label_tp, fp=len(given) - label_tp, fn=len(expected) - label_tp)
        by_label[label] = counts
        tp, fp, fn = tp + counts.tp, fp + counts.fp, fn + counts.fn
        iou_sum += label_iou
    return ImageScore(tp=tp, fp=fp, fn=fn, iou_sum=iou_sum, matched=tp, by_label=by_label)


def _matched(expected: Sequence[BoxLike], given: Sequence[BoxLike], threshold: float) -> tuple[int, float]:
    """The pairs ``match_boxes`` makes of one label's boxes: their number and IoU sum.

    A label drawn on one side only, or once on each (most labels of most
    images), is answered without the matcher: the same pairs, at a fraction
    of the cost (agreement scores every image two campaigns share).
    """
    if not expected or not given:
        return 0, 0.0
    if len(expected) == 1 and len(given) == 1:
        overlap = iou(expected[0], given[0])
        return (1, overlap) if overlap >= threshold else (0, 0.0)
    pairs = [
        change.iou
        for change in match_boxes(expected, given, threshold=threshold)
        if change.before is not None and change.after is not None
    ]
    return len(pairs), sum(pairs)


def _ratio(numerator: float, denominator: float, *, empty: bool) -> float:
    if denominator:
        return numerator / denominator
    return 1.0 if empty else 0.0


def figures(*, tp: int, fp: int, fn: int, iou_sum: float = 0.0, matched: int = 0) -> dict[str, float | None]:
    """Precision, recall, F1 and mean IoU of counts (an image's or pooled ones); see the module's rules."""
    empty = tp == fp == fn == 0
    if matched:
        mean_iou: float | None = iou_sum / matched
    else:
        mean_iou = 1.0 if empty else None
    return {
        "precision": _ratio(tp, tp + fp, empty=empty),
        "recall": _ratio(tp, tp + fn, empty=empty),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn, empty=empty),
        "mean_iou": mean_iou,
    }


def label_figures(counts: LabelCounts) -> dict[str, float]:
    """``{"precision", "recall", "f1"}`` of one label's counts."""
    result = figures(tp=counts.tp, fp=counts.fp, fn=counts.fn)
    return {"precision": result["precision"], "recall": result["recall"], "f1": result["f1"]}


def pooled(scores: Iterable[ImageScore]) -> dict[str, float | None]:
    """The figures of the images' summed counts; every figure None for no image at all."""
    tp = fp = fn = matched = images = 0
    iou_sum = 0.0
    for score in scores:
        images += 1
        tp, fp, fn = tp + score.tp, fp + score.fp, fn + score.fn
        iou_sum += score.iou_sum
        matched += score.matched
    if not images:
        return {"precision": None, "recall": None, "f1": None, "mean_iou": None}
    return figures(tp=tp, fp=fp, fn=fn, iou_sum=iou_sum, matched=matched)


def pooled_by_label(scores: Iterable[ImageScore]) -> dict[str, LabelCounts]:
    """Each label's counts summed over the images, labels in order."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for score in scores:
        for label, counts in score.by_label.items():
            total = totals[label]
            total[0] += counts.tp
            total[1] += counts.fp
            total[2] += counts.fn
    return {label: LabelCounts(*totals[label]) for label in sorted(totals)}
