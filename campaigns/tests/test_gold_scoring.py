"""The scoring maths against hand-computed cases: true and false positives, misses, precision, recall, F1, IoU."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from campaigns.scoring import ImageScore, LabelCounts, figures, label_figures, pooled, pooled_by_label, score_boxes


class Box(NamedTuple):
    label: str
    xmin: int
    ymin: int
    xmax: int
    ymax: int


def test_a_mixed_image_counts_each_match_once_and_pools_its_ious():
    reference = [Box("car", 0, 0, 10, 10), Box("car", 20, 20, 30, 30), Box("person", 0, 0, 10, 20)]
    submitted = [
        Box("car", 0, 0, 10, 10),  # IoU 1
        Box("car", 20, 20, 30, 35),  # overlap 100, union 150: IoU 2/3
        Box("person", 0, 0, 10, 10),  # overlap 100, union 200: IoU 0.5, exactly the threshold
        Box("dog", 50, 50, 60, 60),  # nothing to match: a false positive
    ]

    score = score_boxes(reference, submitted, threshold=0.5)

    assert (score.tp, score.fp, score.fn, score.matched) == (3, 1, 0, 3)
    assert score.iou_sum == pytest.approx(1 + 2 / 3 + 0.5)
    assert score.figures() == pytest.approx({"precision": 0.75, "recall": 1.0, "f1": 6 / 7, "mean_iou": 13 / 18})
    assert score.by_label == {
        "car": LabelCounts(tp=2, fp=0, fn=0),
        "dog": LabelCounts(tp=0, fp=1, fn=0),
        "person": LabelCounts(tp=1, fp=0, fn=0),
    }


def test_a_box_of_another_label_is_a_false_positive_and_a_miss_however_well_it_overlaps():
    score = score_boxes([Box("car", 0, 0, 10, 10)], [Box("truck", 0, 0, 10, 10)], threshold=0.5)

    assert (score.tp, score.fp, score.fn, score.iou_sum) == (0, 1, 1, 0.0)
    assert score.figures() == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "mean_iou": None}
    assert score.by_label == {"car": LabelCounts(0, 0, 1), "truck": LabelCounts(0, 1, 0)}


def test_an_overlap_below_the_threshold_is_no_match_and_a_lower_threshold_makes_it_one():
    reference, submitted = [Box("car", 0, 0, 10, 10)], [Box("car", 5, 0, 15, 10)]  # overlap 50, union 150: 1/3

    strict = score_boxes(reference, submitted, threshold=0.5)
    assert (strict.tp, strict.fp, strict.fn) == (0, 1, 1)
    lower = score_boxes(reference, submitted, threshold=0.3)
    assert (lower.tp, lower.fp, lower.fn) == (1, 0, 0)
    assert lower.figures()["mean_iou"] == pytest.approx(1 / 3)


def test_a_better_overlapping_box_of_another_label_does_not_take_the_same_label_match_away():
    reference = [Box("car", 0, 0, 10, 10)]
    submitted = [Box("truck", 0, 0, 10, 10), Box("car", 0, 0, 10, 8)]  # the car: IoU 0.8

    score = score_boxes(reference, submitted, threshold=0.5)

    assert (score.tp, score.fp, score.fn) == (1, 1, 0)
    assert score.figures() == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "mean_iou": 0.8})


def test_a_reference_box_matches_one_submitted_box_only():
    score = score_boxes([Box("car", 0, 0, 10, 10)], [Box("car", 0, 0, 10, 10)] * 2, threshold=0.5)

    assert (score.tp, score.fp, score.fn) == (1, 1, 0)
    assert score.figures() == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "mean_iou": 1.0})


def test_matching_pairs_the_best_overlaps_first():
    # a-first IoU 1, b-second 80/100 = 0.8, a-second 60/120 = 0.5, b-first 60/140 < 0.5: best first pairs
    # a-first and b-second; a taking the second box (an IoU at the threshold too) would leave b unmatched.
    reference = [Box("car", 0, 0, 10, 10), Box("car", 4, 0, 14, 10)]
    submitted = [Box("car", 0, 0, 10, 10), Box("car", 4, 0, 12, 10)]  # second vs b: 80 / 100

    score = score_boxes(reference, submitted, threshold=0.5)

    assert (score.tp, score.fp, score.fn) == (2, 0, 0)
    assert score.iou_sum == pytest.approx(1.8)


def test_an_empty_reference_with_an_empty_submission_scores_one():
    score = score_boxes([], [], threshold=0.5)

    assert (score.tp, score.fp, score.fn, score.by_label) == (0, 0, 0, {})
    assert score.figures() == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "mean_iou": 1.0}


def test_boxes_where_none_were_expected_and_none_where_some_were_both_score_zero():
    drawn = score_boxes([], [Box("car", 0, 0, 10, 10)], threshold=0.5)
    missed = score_boxes([Box("car", 0, 0, 10, 10)], [], threshold=0.5)

    assert drawn.figures() == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "mean_iou": None}
    assert missed.figures() == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "mean_iou": None}
    assert (drawn.fp, missed.fn) == (1, 1)


def test_pooling_sums_the_counts_before_dividing():
    first = ImageScore(tp=3, fp=1, fn=0, iou_sum=13 / 6, matched=3, by_label={"car": LabelCounts(2, 0, 0)})
    second = ImageScore(tp=0, fp=1, fn=1, iou_sum=0.0, matched=0, by_label={"car": LabelCounts(0, 1, 1)})
    empty = ImageScore(tp=0, fp=0, fn=0, iou_sum=0.0, matched=0)

    assert pooled([first, second, empty]) == pytest.approx(
        {"precision": 3 / 5, "recall": 3 / 4, "f1": 2 / 3, "mean_iou": 13 / 18}
    )
    # Not the mean of the images' F1 (6/7, 0 and 1).
    assert pooled([first, second, empty])["f1"] != pytest.approx((6 / 7 + 0 + 1) / 3)
    assert pooled_by_label([first, second]) == {"car": LabelCounts(2, 1, 1)}
    assert label_figures(LabelCounts(2, 1, 1)) == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})


def test_pooling_no_image_gives_no_figure_and_empty_images_only_give_one():
    assert pooled([]) == {"precision": None, "recall": None, "f1": None, "mean_iou": None}
    assert pooled([score_boxes([], [])] * 2) == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "mean_iou": 1.0}


def test_figures_of_counts_are_the_textbook_ratios():
    assert figures(tp=6, fp=2, fn=4, iou_sum=4.5, matched=6) == pytest.approx(
        {"precision": 0.75, "recall": 0.6, "f1": 2 / 3, "mean_iou": 0.75}
    )
