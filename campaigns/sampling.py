"""Acceptance sampling of a delivery: ISO 2859-1 single sampling plans, normal inspection, and the defect rate.

The plan for a lot (the labeled, unreviewed images) comes from two tables of
ISO 2859-1 (identical to ANSI/ASQ Z1.4 and MIL-STD-105E):

- Table 1, the sample size code letter for the lot size (general inspection
  level II);
- Table 2-A, the master table of single sampling plans for normal
  inspection: for each code letter and AQL, the acceptance number Ac and the
  rejection number Re, or an arrow: use the first plan below (``v``) or
  above (``^``) it, with that plan's sample size.

Both are kept here as data, transcribed from the standard, and checked by
``campaigns/tests/test_sampling.py`` against the published values. Only
the AQLs that express percent nonconforming (0.010 to 10) are offered:
a rejected image is a nonconforming item.

One cell reachable at level II sends the reader off the table: code letter
A at AQL 10 (``^``, no row above). There the row's own plan is used (A,
0/1): the standard prints the arrow, and that is the only plan with the
row's sample size.
A sample as large as the lot or larger inspects the whole lot (100 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

# Table 1, general inspection level II: (largest lot size, code letter).
CODE_LETTERS = (
    (8, "A"),
    (15, "B"),
    (25, "C"),
    (50, "D"),
    (90, "E"),
    (150, "F"),
    (280, "G"),
    (500, "H"),
    (1200, "J"),
    (3200, "K"),
    (10000, "L"),
    (35000, "M"),
    (150000, "N"),
    (500000, "P"),
    (None, "Q"),  # 500,001 and over
)

SAMPLE_SIZES = {
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

# Table 2-A's AQL columns that express percent nonconforming.
AQLS = tuple(
    Decimal(value)
    for value in (
        "0.010",
        "0.015",
        "0.025",
        "0.040",
        "0.065",
        "0.10",
        "0.15",
        "0.25",
        "0.40",
        "0.65",
        "1.0",
        "1.5",
        "2.5",
        "4.0",
        "6.5",
        "10",
    )
)

# Table 2-A, one row per code letter, one cell per AQL of ``AQLS``: "Ac/Re", "v" (use the first plan below) or
# "^" (use the first plan above).
MASTER_TABLE = {
    "A": "v v v v v v v v v v v v v v 0/1 ^",
    "B": "v v v v v v v v v v v v v 0/1 ^ v",
    "C": "v v v v v v v v v v v v 0/1 ^ v 1/2",
    "D": "v v v v v v v v v v v 0/1 ^ v 1/2 2/3",
    "E": "v v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4",
    "F": "v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6",
    "G": "v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8",
    "H": "v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11",
    "J": "v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15",
    "K": "v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22",
    "L": "v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^",
    "M": "v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^",
    "N": "v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^",
    "P": "v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^",
    "Q": "0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^",
    "R": "^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^",
}
ROWS = tuple(MASTER_TABLE)

DEFAULT_AQL = Decimal("2.5")
# The normal quantile of a two-sided 95 % interval.
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class SamplingPlan:
    """How many images to draw and how many rejections the lot may hold (``acceptance_number``)."""

    code_letter: str  # "" for a size given by hand
    sample_size: int
    acceptance_number: int
    rejection_number: int


def code_letter(lot_size: int) -> str:
    """Table 1, general inspection level II."""
    if lot_size < 2:
        return "A"
    for largest, letter in CODE_LETTERS:
        if largest is None or lot_size <= largest:
            return letter
    raise AssertionError("unreachable")


def _cell(letter: str, column: int) -> str:
    return MASTER_TABLE[letter].split()[column]


_AQL_COLUMNS = {value.normalize(): column for column, value in enumerate(AQLS)}


def aql_column(aql: Decimal) -> int:
    """The column of ``aql`` in Table 2-A; ``ValueError`` for a value not in the standard's series."""
    column = _AQL_COLUMNS.get(Decimal(aql).normalize())
    if column is None:
        raise ValueError(f"AQL {aql} is not one of {', '.join(str(value) for value in AQLS)}")
    return column


def aql_label(aql: Decimal) -> str:
    """The AQL as the standard writes it ("2.5", "10", "0.010"), not as stored ("2.500")."""
    column = _AQL_COLUMNS.get(Decimal(aql).normalize())
    return str(AQLS[column]) if column is not None else str(Decimal(aql).normalize())


def plan_for(*, lot_size: int, aql: Decimal) -> SamplingPlan:
    """The single sampling plan (normal inspection, level II) for a lot; the sample is at most the lot."""
    column = aql_column(aql)
    start = code_letter(lot_size)
    row = ROWS.index(start)
    while True:
        cell = _cell(ROWS[row], column)
        if "/" in cell:
            break
        step = 1 if cell == "v" else -1
        if not 0 <= row + step < len(ROWS):  # an arrow off the table: the starting row's own plan
            row = ROWS.index(start)
            cell = next(c for c in MASTER_TABLE[start].split() if "/" in c)
            break
        row += step
    acceptance, rejection = (int(number) for number in cell.split("/"))
    letter = ROWS[row]
    return SamplingPlan(
        code_letter=letter,
        sample_size=min(SAMPLE_SIZES[letter], lot_size),
        acceptance_number=acceptance,
        rejection_number=rejection,
    )


def plan_by_hand(*, lot_size: int, sample_size: int, aql: Decimal) -> SamplingPlan:
    """A size given by hand: Ac is the standard's for the nearest code letter whose sample is not larger."""
    size = min(sample_size, lot_size)
    column = aql_column(aql)
    acceptance = 0
    for letter in ROWS:
        if SAMPLE_SIZES[letter] > size:
            break
        cell = _cell(letter, column)
        if "/" in cell:
            acceptance = int(cell.split("/")[0])
    return SamplingPlan(code_letter="", sample_size=size, acceptance_number=acceptance, rejection_number=acceptance + 1)


def wilson_interval(defects: int, sample_size: int, *, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % by default); ``(0, 1)`` for an empty sample."""
    if sample_size <= 0:
        return 0.0, 1.0
    p = defects / sample_size
    denominator = 1 + z * z / sample_size
    centre = (p + z * z / (2 * sample_size)) / denominator
    half = z * math.sqrt(p * (1 - p) / sample_size + z * z / (4 * sample_size * sample_size)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def defect_rate(defects: int, decided: int) -> tuple[float, tuple[float, float]] | None:
    """The observed defect rate of the decided sampled images and its 95 % Wilson interval; None before any."""
    if decided <= 0:
        return None
    return defects / decided, wilson_interval(defects, decided)
