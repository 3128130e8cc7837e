"""Acceptance sampling of a delivery: ISO 2859-1 single sampling plans for normal, tightened and reduced
inspection, and the defect rate.

The plan for a lot (the labeled, unreviewed images) comes from the tables of
ISO 2859-1:1999 (identical to ANSI/ASQ Z1.4 and MIL-STD-105E for normal and
tightened inspection; ISO's reduced plans have no gap between Ac and Re):

- Table 1, the sample size code letter for the lot size (general inspection
  level II);
- Table 2-A, 2-B and 2-C, the master tables of single sampling plans for
  normal, tightened and reduced inspection: for each code letter and AQL,
  the acceptance number Ac and the rejection number Re, or an arrow: use the
  first plan below (``v``) or above (``^``) it, with that plan's code letter
  and sample size. Tightened inspection keeps normal's sample sizes (one more
  code letter, S, reached only by an arrow) with smaller acceptance numbers;
  reduced inspection takes smaller samples (its own sample size per letter).

Each is kept here as data, transcribed from the standard, and checked by
``campaigns/tests/test_sampling.py`` against the published cells and the
plans they lead to; every arrow of every table leads to a plan. Only the AQLs
that express percent nonconforming (0.010 to 10) are offered: a rejected image
is a nonconforming item. Which table a lot is inspected with is the switching
rules' answer (``campaigns.switching``). A sample as large as the lot or
larger inspects the whole lot (100 %).
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

# Table 2-A and 2-B: the sample size of each code letter (S, tightened inspection's last row, only in 2-B).
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
TIGHTENED_SAMPLE_SIZES = {**SAMPLE_SIZES, "S": 3150}
# Table 2-C: reduced inspection's smaller samples, letter by letter.
REDUCED_SAMPLE_SIZES = {
    "A": 2,
    "B": 2,
    "C": 2,
    "D": 3,
    "E": 5,
    "F": 8,
    "G": 13,
    "H": 20,
    "J": 32,
    "K": 50,
    "L": 80,
    "M": 125,
    "N": 200,
    "P": 315,
    "Q": 500,
    "R": 800,
}

# The master tables' AQL columns that express percent nonconforming.
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

# One row per code letter, one cell per AQL of ``AQLS``: "Ac/Re", "v" (use the first plan below), "^" (use the
# first plan above) or "-" (blank: the standard gives no plan, and no arrow leads there).
#
# Table 2-A, normal inspection. Along each row: arrows down, 0/1, up, down, then 1/2 2/3 3/4 5/6 7/8 10/11 14/15
# 21/22, up. Two cells at the table's edges point inwards, as printed: A at 10 down (to C's 1/2; up would leave
# the table) and R at 0.015 up (to P's 0/1).
MASTER_TABLE = {
    "A": "v v v v v v v v v v v v v v 0/1 v",
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
    "R": "^ ^ 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^",
}
ROWS = tuple(MASTER_TABLE)

# Table 2-B, tightened inspection: normal's plans one AQL step to the right, two arrows down between 0/1 and 1/2,
# and smaller acceptance numbers from 8/9 on (8/9 12/13 18/19). Row S holds one plan, reached from Q and R at
# 0.025; R at 0.015 points up (to Q's 0/1).
TIGHTENED_TABLE = {
    "A": "v v v v v v v v v v v v v v v 0/1",
    "B": "v v v v v v v v v v v v v v 0/1 v",
    "C": "v v v v v v v v v v v v v 0/1 v v",
    "D": "v v v v v v v v v v v v 0/1 v v 1/2",
    "E": "v v v v v v v v v v v 0/1 v v 1/2 2/3",
    "F": "v v v v v v v v v v 0/1 v v 1/2 2/3 3/4",
    "G": "v v v v v v v v v 0/1 v v 1/2 2/3 3/4 5/6",
    "H": "v v v v v v v v 0/1 v v 1/2 2/3 3/4 5/6 8/9",
    "J": "v v v v v v v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13",
    "K": "v v v v v v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19",
    "L": "v v v v v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^",
    "M": "v v v v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^",
    "N": "v v v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^",
    "P": "v v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^",
    "Q": "v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^",
    "R": "0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^",
    "S": "- - 1/2 - - - - - - - - - - - - -",
}

# Table 2-C, reduced inspection (ISO 2859-1:1999: Re is Ac + 1): normal's diagonals with the reduced sample sizes,
# two arrows down before 1/2 and smaller acceptance numbers from 6/7 on (6/7 8/9 10/11). At the edges: A at 10
# points down (to D's 1/2), and Q at 0.025 and R at 0.010 ... 0.025 point up (to N's, P's and Q's 0/1).
REDUCED_TABLE = {
    "A": "v v v v v v v v v v v v v v 0/1 v",
    "B": "v v v v v v v v v v v v v 0/1 ^ v",
    "C": "v v v v v v v v v v v v 0/1 ^ v v",
    "D": "v v v v v v v v v v v 0/1 ^ v v 1/2",
    "E": "v v v v v v v v v v 0/1 ^ v v 1/2 2/3",
    "F": "v v v v v v v v v 0/1 ^ v v 1/2 2/3 3/4",
    "G": "v v v v v v v v 0/1 ^ v v 1/2 2/3 3/4 5/6",
    "H": "v v v v v v v 0/1 ^ v v 1/2 2/3 3/4 5/6 6/7",
    "J": "v v v v v v 0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9",
    "K": "v v v v v 0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9 10/11",
    "L": "v v v v 0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9 10/11 ^",
    "M": "v v v 0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9 10/11 ^ ^",
    "N": "v v 0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9 10/11 ^ ^ ^",
    "P": "v 0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9 10/11 ^ ^ ^ ^",
    "Q": "0/1 ^ ^ v 1/2 2/3 3/4 5/6 6/7 8/9 10/11 ^ ^ ^ ^ ^",
    "R": "^ ^ ^ 1/2 2/3 3/4 5/6 6/7 8/9 10/11 ^ ^ ^ ^ ^ ^",
}

# The inspection severities of the switching rules (``campaigns.switching``), each with its master table.
NORMAL, TIGHTENED, REDUCED = "normal", "tightened", "reduced"
SEVERITIES = (NORMAL, TIGHTENED, REDUCED)


@dataclass(frozen=True)
class MasterTable:
    """One master table of single sampling plans: its number in the standard, its rows and sample sizes."""

    name: str
    rows: dict[str, str]
    sample_sizes: dict[str, int]

    def cell(self, letter: str, column: int) -> str:
        return self.rows[letter].split()[column]


TABLES = {
    NORMAL: MasterTable("2-A", MASTER_TABLE, SAMPLE_SIZES),
    TIGHTENED: MasterTable("2-B", TIGHTENED_TABLE, TIGHTENED_SAMPLE_SIZES),
    REDUCED: MasterTable("2-C", REDUCED_TABLE, REDUCED_SAMPLE_SIZES),
}

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


_AQL_COLUMNS = {value.normalize(): column for column, value in enumerate(AQLS)}


def aql_column(aql: Decimal) -> int:
    """The column of ``aql`` in the master tables; ``ValueError`` for a value not in the standard's series."""
    column = _AQL_COLUMNS.get(Decimal(aql).normalize())
    if column is None:
        raise ValueError(f"AQL {aql} is not one of {', '.join(str(value) for value in AQLS)}")
    return column


def aql_label(aql: Decimal) -> str:
    """The AQL as the standard writes it ("2.5", "10", "0.010"), not as stored ("2.500")."""
    column = _AQL_COLUMNS.get(Decimal(aql).normalize())
    return str(AQLS[column]) if column is not None else str(Decimal(aql).normalize())


def _numbers(cell: str) -> tuple[int, int]:
    acceptance, rejection = cell.split("/")
    return int(acceptance), int(rejection)


def resolve(table: MasterTable, letter: str, column: int) -> str:
    """The code letter whose plan the cell (``letter``, ``column``) leads to, following its arrows."""
    letters = tuple(table.rows)
    row = letters.index(letter)
    while "/" not in (cell := table.cell(letters[row], column)):
        if cell not in ("v", "^"):
            raise AssertionError(f"Table {table.name}: an arrow leads to the blank cell {letters[row]} {AQLS[column]}")
        row += 1 if cell == "v" else -1
        if not 0 <= row < len(letters):
            raise AssertionError(f"Table {table.name}: the arrow at {letter} {AQLS[column]} leaves the table")
    return letters[row]


def plan_for(*, lot_size: int, aql: Decimal, severity: str = NORMAL) -> SamplingPlan:
    """The single sampling plan (level II) of a lot under ``severity``'s table; the sample is at most the lot."""
    table = TABLES[severity]
    column = aql_column(aql)
    letter = resolve(table, code_letter(lot_size), column)
    acceptance, rejection = _numbers(table.cell(letter, column))
    return SamplingPlan(
        code_letter=letter,
        sample_size=min(table.sample_sizes[letter], lot_size),
        acceptance_number=acceptance,
        rejection_number=rejection,
    )


def plan_by_hand(*, lot_size: int, sample_size: int, aql: Decimal, severity: str = NORMAL) -> SamplingPlan:
    """A size given by hand: Ac is ``severity``'s table's for the nearest code letter whose sample is not larger."""
    table = TABLES[severity]
    size = min(sample_size, lot_size)
    column = aql_column(aql)
    acceptance = 0
    for letter, letter_size in table.sample_sizes.items():
        if letter_size > size:
            break
        cell = table.cell(letter, column)
        if "/" in cell:
            acceptance = _numbers(cell)[0]
    return SamplingPlan(code_letter="", sample_size=size, acceptance_number=acceptance, rejection_number=acceptance + 1)


def tighter_acceptance_number(*, code_letter: str, sample_size: int, aql: Decimal) -> int | None:
    """The acceptance number one AQL step tighter, same sample, normal inspection (the switching score's test).

    Table 2-A's cell left of the plan on the plan's own row (its code letter:
    the same sample size), or for a size given by hand the by-hand rule one
    column left. ``None`` where there is none: at the tightest AQL (0.010,
    whose plans all have Ac 0 or 1) or when that cell is an arrow (only left
    of a 1/2 plan: the score's test is for Ac 2 or more).
    """
    column = aql_column(aql)
    if column == 0:
        return None
    if not code_letter:
        return plan_by_hand(lot_size=sample_size, sample_size=sample_size, aql=AQLS[column - 1]).acceptance_number
    cell = TABLES[NORMAL].cell(code_letter, column - 1)
    return _numbers(cell)[0] if "/" in cell else None


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
