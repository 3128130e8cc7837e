"""The sampling plan tables against the standard's published values, and the Wilson interval."""

from __future__ import annotations

from decimal import Decimal

import pytest

from campaigns.sampling import (
    AQLS,
    MASTER_TABLE,
    SAMPLE_SIZES,
    aql_label,
    code_letter,
    plan_by_hand,
    plan_for,
    wilson_interval,
)

# ISO 2859-1 Table 1, general inspection level II, as published: lot size range -> code letter.
PUBLISHED_CODE_LETTERS = [
    (2, 8, "A"),
    (9, 15, "B"),
    (16, 25, "C"),
    (26, 50, "D"),
    (51, 90, "E"),
    (91, 150, "F"),
    (151, 280, "G"),
    (281, 500, "H"),
    (501, 1200, "J"),
    (1201, 3200, "K"),
    (3201, 10000, "L"),
    (10001, 35000, "M"),
    (35001, 150000, "N"),
    (150001, 500000, "P"),
    (500001, 10**7, "Q"),
]

# Table 2-A (single sampling, normal inspection) as published, AQL 0.65 ... 10, rejection numbers Re
# ("v": use the first plan below the arrow, "^": above). Ac is Re - 1 in single sampling.
PUBLISHED_COLUMNS = ("0.65", "1.0", "1.5", "2.5", "4.0", "6.5", "10")
PUBLISHED_RE = {
    "A": "v v v v v 1 ^",
    "B": "v v v v 1 ^ v",
    "C": "v v v 1 ^ v 2",
    "D": "v v 1 ^ v 2 3",
    "E": "v 1 ^ v 2 3 4",
    "F": "1 ^ v 2 3 4 6",
    "G": "^ v 2 3 4 6 8",
    "H": "v 2 3 4 6 8 11",
    "J": "2 3 4 6 8 11 15",
    "K": "3 4 6 8 11 15 22",
    "L": "4 6 8 11 15 22 ^",
    "M": "6 8 11 15 22 ^ ^",
    "N": "8 11 15 22 ^ ^ ^",
    "P": "11 15 22 ^ ^ ^ ^",
    "Q": "15 22 ^ ^ ^ ^ ^",
}
PUBLISHED_SAMPLE_SIZES = {
    "A": 2,
    "B": 3,
    "C": 5,
    "D": 8,
    "E": 13,
    "F": 20,
    "G": 32,
    "H": 50,
    "J": 80,
    "K": 125,
    "L": 200,
    "M": 315,
    "N": 500,
    "P": 800,
    "Q": 1250,
    "R": 2000,
}


@pytest.mark.parametrize("low, high, letter", PUBLISHED_CODE_LETTERS)
def test_the_code_letter_of_every_lot_size_range(low, high, letter):
    assert code_letter(low) == letter
    assert code_letter(high) == letter


def test_the_sample_sizes_are_the_published_ones():
    assert SAMPLE_SIZES == PUBLISHED_SAMPLE_SIZES


@pytest.mark.parametrize("letter", PUBLISHED_RE)
def test_the_master_table_matches_the_published_cells(letter):
    row = MASTER_TABLE[letter].split()
    for column, published in zip(PUBLISHED_COLUMNS, PUBLISHED_RE[letter].split(), strict=True):
        cell = row[AQLS.index(Decimal(column))]
        if published in ("v", "^"):
            assert cell == published, (letter, column)
        else:
            acceptance, rejection = cell.split("/")
            assert (int(acceptance), int(rejection)) == (int(published) - 1, int(published)), (letter, column)


def test_every_row_runs_the_standards_diagonals():
    """Each row reads, left to right: arrows down, 0/1, up, down, then 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22, up."""
    sequence = ["0/1", "^", "v", "1/2", "2/3", "3/4", "5/6", "7/8", "10/11", "14/15", "21/22"]
    for index, letter in enumerate(MASTER_TABLE):
        cells = MASTER_TABLE[letter].split()
        assert len(cells) == len(AQLS)
        start = 14 - index  # the 0/1 cell moves one AQL column left per code letter
        for column, cell in enumerate(cells):
            offset = column - start
            expected = "v" if offset < 0 else sequence[offset] if offset < len(sequence) else "^"
            assert cell == expected, (letter, column)


@pytest.mark.parametrize(
    "lot, aql, expected",
    [
        # (lot size, AQL) -> (code letter, n, Ac, Re): cells that hold a plan.
        (1000, "2.5", ("J", 80, 5, 6)),
        (1000, "1.0", ("J", 80, 2, 3)),
        (1000, "4.0", ("J", 80, 7, 8)),
        (500, "2.5", ("H", 50, 3, 4)),
        (3000, "2.5", ("K", 125, 7, 8)),
        (3000, "10", ("K", 125, 21, 22)),
        (10000, "2.5", ("L", 200, 10, 11)),
        (10000, "0.65", ("L", 200, 3, 4)),
        (10000, "4.0", ("L", 200, 14, 15)),
        (100000, "2.5", ("N", 500, 21, 22)),
        (100, "0.65", ("F", 20, 0, 1)),
    ],
)
def test_plans_read_like_the_standard(lot, aql, expected):
    plan = plan_for(lot_size=lot, aql=Decimal(aql))
    assert (plan.code_letter, plan.sample_size, plan.acceptance_number, plan.rejection_number) == expected


@pytest.mark.parametrize(
    "lot, aql, expected",
    [
        (8, "2.5", ("C", 5, 0, 1)),  # A and B at 2.5 are "v": C's 0/1 with n=5
        (5000, "10", ("K", 125, 21, 22)),  # L at 10 is "^": K's 21/22 with n=125
        (200000, "2.5", ("N", 500, 21, 22)),  # P at 2.5 is "^": N's 21/22 with n=500
        (1000, "0.25", ("H", 50, 0, 1)),  # J at 0.25 is "^": H's 0/1 with n=50
        (1000, "0.40", ("K", 125, 1, 2)),  # J at 0.40 is "v": K's 1/2 with n=125
    ],
)
def test_arrows_lead_to_the_first_plan_with_its_sample_size(lot, aql, expected):
    plan = plan_for(lot_size=lot, aql=Decimal(aql))
    assert (plan.code_letter, plan.sample_size, plan.acceptance_number, plan.rejection_number) == expected


def test_a_sample_as_large_as_the_lot_inspects_it_all():
    plan = plan_for(lot_size=30, aql=Decimal("0.10"))  # D at 0.10 is "v" down to K: n=125 > 30
    assert plan.sample_size == 30
    assert (plan.acceptance_number, plan.rejection_number) == (0, 1)


def test_the_arrow_off_the_top_of_the_table_uses_the_rows_own_plan():
    plan = plan_for(lot_size=5, aql=Decimal("10"))  # A at 10 is "^" with no row above
    assert (plan.code_letter, plan.sample_size, plan.acceptance_number) == ("A", 2, 0)


@pytest.mark.parametrize("aql", ["3", "0.5", "15", "0"])
def test_an_aql_outside_the_series_is_refused(aql):
    with pytest.raises(ValueError):
        plan_for(lot_size=100, aql=Decimal(aql))


def test_the_aql_is_matched_whatever_its_written_precision():
    assert plan_for(lot_size=1000, aql=Decimal("2.500")) == plan_for(lot_size=1000, aql=Decimal("2.5"))
    assert plan_for(lot_size=1000, aql=Decimal("10.000")) == plan_for(lot_size=1000, aql=Decimal("10"))


def test_a_size_by_hand_takes_the_acceptance_number_of_the_largest_plan_not_larger():
    plan = plan_by_hand(lot_size=1000, sample_size=100, aql=Decimal("2.5"))  # J (80) has 5/6 at 2.5
    assert (plan.code_letter, plan.sample_size, plan.acceptance_number, plan.rejection_number) == ("", 100, 5, 6)
    assert plan_by_hand(lot_size=10, sample_size=100, aql=Decimal("2.5")).sample_size == 10
    assert plan_by_hand(lot_size=1000, sample_size=1, aql=Decimal("2.5")).acceptance_number == 0


@pytest.mark.parametrize(
    "defects, n, low, high",
    [
        # Reference values of the Wilson score interval, z = 1.96 (Newcombe 1998, Table I; Agresti & Coull 1998).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
    ],
)
def test_the_wilson_interval_matches_published_values(defects, n, low, high):
    lower, upper = wilson_interval(defects, n)
    assert lower == pytest.approx(low, abs=1e-4)
    assert upper == pytest.approx(high, abs=1e-4)


def test_the_wilson_interval_of_no_sample_is_everything():
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize("stored, label", [("2.500", "2.5"), ("10.000", "10"), ("0.010", "0.010"), ("1.000", "1.0")])
def test_an_aql_is_shown_as_the_standard_writes_it(stored, label):
    assert aql_label(Decimal(stored)) == label
