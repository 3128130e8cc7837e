"""The sampling plan tables (ISO 2859-1 Tables 1, 2-A, 2-B, 2-C) against the standard's published values, and the
Wilson interval."""

from __future__ import annotations

from decimal import Decimal

import pytest

from campaigns.sampling import (
    AQLS,
    MASTER_TABLE,
    NORMAL,
    REDUCED,
    REDUCED_SAMPLE_SIZES,
    REDUCED_TABLE,
    SAMPLE_SIZES,
    TABLES,
    TIGHTENED,
    TIGHTENED_SAMPLE_SIZES,
    TIGHTENED_TABLE,
    aql_label,
    code_letter,
    plan_by_hand,
    plan_for,
    resolve,
    tighter_acceptance_number,
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
    "A": "v v v v v 1 v",
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


# Each table's rows read along the same diagonal, one AQL column left per code letter: arrows down before it, its
# sequence, then arrows up; a few cells at the table's edges point inwards instead (an arrow never leaves the table).
DIAGONALS = {
    NORMAL: (
        14,
        "0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22",
        {("A", "10"): "v", ("R", "0.015"): "^"},
    ),
    TIGHTENED: (
        15,
        "0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19",
        {("R", "0.015"): "^"},
    ),
    REDUCED: (
        14,
        "0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9 10/11",
        {("A", "10"): "v", ("Q", "0.025"): "^", ("R", "0.015"): "^", ("R", "0.025"): "^"},
    ),
}


@pytest.mark.parametrize("severity", DIAGONALS)
def test_every_row_runs_the_standards_diagonals(severity):
    """Row A starts its sequence at a fixed AQL column, each next code letter one column to the left."""
    first, sequence, edges = DIAGONALS[severity]
    rows = {letter: row for letter, row in TABLES[severity].rows.items() if letter != "S"}
    for index, letter in enumerate(rows):
        cells = rows[letter].split()
        assert len(cells) == len(AQLS)
        for column, cell in enumerate(cells):
            offset = column - (first - index)
            expected = "v" if offset < 0 else sequence.split()[offset] if offset < len(sequence.split()) else "^"
            expected = edges.get((letter, str(AQLS[column])), expected)
            assert cell == expected, (severity, letter, str(AQLS[column]))


@pytest.mark.parametrize("severity", [NORMAL, TIGHTENED, REDUCED])
def test_every_arrow_of_every_table_leads_to_a_plan(severity):
    table = TABLES[severity]
    for letter in table.rows:
        for column in range(len(AQLS)):
            if table.cell(letter, column) == "-":
                continue  # 2-B's row S: blank but for the one plan arrows lead to
            found = resolve(table, letter, column)
            assert "/" in table.cell(found, column), (severity, letter, column)


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


def test_code_letter_a_at_aql_10_follows_its_arrow_down_to_c():
    plan = plan_for(lot_size=5, aql=Decimal("10"))  # A at 10 is "v": C's 1/2, n=5, the whole lot of 5
    assert (plan.code_letter, plan.sample_size, plan.acceptance_number, plan.rejection_number) == ("C", 5, 1, 2)
    assert plan_for(lot_size=3, aql=Decimal("10")).sample_size == 3


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


# --- tightened (Table 2-B) and reduced (Table 2-C) inspection ----------------------------------------------------

# Table 2-B (single sampling, tightened inspection) as published, AQL 0.65 ... 10, rejection numbers Re; row S
# (n=3150) is blank in these columns. Ac is Re - 1.
PUBLISHED_RE_TIGHTENED = {
    "A": "v v v v v v 1",
    "B": "v v v v v 1 v",
    "C": "v v v v 1 v v",
    "D": "v v v 1 v v 2",
    "E": "v v 1 v v 2 3",
    "F": "v 1 v v 2 3 4",
    "G": "1 v v 2 3 4 6",
    "H": "v v 2 3 4 6 9",
    "J": "v 2 3 4 6 9 13",
    "K": "2 3 4 6 9 13 19",
    "L": "3 4 6 9 13 19 ^",
    "M": "4 6 9 13 19 ^ ^",
    "N": "6 9 13 19 ^ ^ ^",
    "P": "9 13 19 ^ ^ ^ ^",
    "Q": "13 19 ^ ^ ^ ^ ^",
    "R": "19 ^ ^ ^ ^ ^ ^",
    "S": "- - - - - - -",
}
# Table 2-C (single sampling, reduced inspection, ISO 2859-1:1999: no gap between Ac and Re), the same columns.
PUBLISHED_RE_REDUCED = {
    "A": "v v v v v 1 v",
    "B": "v v v v 1 ^ v",
    "C": "v v v 1 ^ v v",
    "D": "v v 1 ^ v v 2",
    "E": "v 1 ^ v v 2 3",
    "F": "1 ^ v v 2 3 4",
    "G": "^ v v 2 3 4 6",
    "H": "v v 2 3 4 6 7",
    "J": "v 2 3 4 6 7 9",
    "K": "2 3 4 6 7 9 11",
    "L": "3 4 6 7 9 11 ^",
    "M": "4 6 7 9 11 ^ ^",
    "N": "6 7 9 11 ^ ^ ^",
    "P": "7 9 11 ^ ^ ^ ^",
    "Q": "9 11 ^ ^ ^ ^ ^",
    "R": "11 ^ ^ ^ ^ ^ ^",
}
PUBLISHED_TIGHTENED_SAMPLE_SIZES = {**PUBLISHED_SAMPLE_SIZES, "S": 3150}
PUBLISHED_REDUCED_SAMPLE_SIZES = {
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

# The plan each table gives each code letter of Table 1 (level II) at AQL 0.65 ... 10, arrows followed:
# "code letter n Ac" (Re = Ac + 1), as ISO 2859-1's tables read.
PUBLISHED_PLANS = {
    NORMAL: {
        "A": "F 20 0 | E 13 0 | D 8 0 | C 5 0 | B 3 0 | A 2 0 | C 5 1",
        "B": "F 20 0 | E 13 0 | D 8 0 | C 5 0 | B 3 0 | A 2 0 | C 5 1",
        "C": "F 20 0 | E 13 0 | D 8 0 | C 5 0 | B 3 0 | D 8 1 | C 5 1",
        "D": "F 20 0 | E 13 0 | D 8 0 | C 5 0 | E 13 1 | D 8 1 | D 8 2",
        "E": "F 20 0 | E 13 0 | D 8 0 | F 20 1 | E 13 1 | E 13 2 | E 13 3",
        "F": "F 20 0 | E 13 0 | G 32 1 | F 20 1 | F 20 2 | F 20 3 | F 20 5",
        "G": "F 20 0 | H 50 1 | G 32 1 | G 32 2 | G 32 3 | G 32 5 | G 32 7",
        "H": "J 80 1 | H 50 1 | H 50 2 | H 50 3 | H 50 5 | H 50 7 | H 50 10",
        "J": "J 80 1 | J 80 2 | J 80 3 | J 80 5 | J 80 7 | J 80 10 | J 80 14",
        "K": "K 125 2 | K 125 3 | K 125 5 | K 125 7 | K 125 10 | K 125 14 | K 125 21",
        "L": "L 200 3 | L 200 5 | L 200 7 | L 200 10 | L 200 14 | L 200 21 | K 125 21",
        "M": "M 315 5 | M 315 7 | M 315 10 | M 315 14 | M 315 21 | L 200 21 | K 125 21",
        "N": "N 500 7 | N 500 10 | N 500 14 | N 500 21 | M 315 21 | L 200 21 | K 125 21",
        "P": "P 800 10 | P 800 14 | P 800 21 | N 500 21 | M 315 21 | L 200 21 | K 125 21",
        "Q": "Q 1250 14 | Q 1250 21 | P 800 21 | N 500 21 | M 315 21 | L 200 21 | K 125 21",
    },
    TIGHTENED: {
        "A": "G 32 0 | F 20 0 | E 13 0 | D 8 0 | C 5 0 | B 3 0 | A 2 0",
        "B": "G 32 0 | F 20 0 | E 13 0 | D 8 0 | C 5 0 | B 3 0 | D 8 1",
        "C": "G 32 0 | F 20 0 | E 13 0 | D 8 0 | C 5 0 | E 13 1 | D 8 1",
        "D": "G 32 0 | F 20 0 | E 13 0 | D 8 0 | F 20 1 | E 13 1 | D 8 1",
        "E": "G 32 0 | F 20 0 | E 13 0 | G 32 1 | F 20 1 | E 13 1 | E 13 2",
        "F": "G 32 0 | F 20 0 | H 50 1 | G 32 1 | F 20 1 | F 20 2 | F 20 3",
        "G": "G 32 0 | J 80 1 | H 50 1 | G 32 1 | G 32 2 | G 32 3 | G 32 5",
        "H": "K 125 1 | J 80 1 | H 50 1 | H 50 2 | H 50 3 | H 50 5 | H 50 8",
        "J": "K 125 1 | J 80 1 | J 80 2 | J 80 3 | J 80 5 | J 80 8 | J 80 12",
        "K": "K 125 1 | K 125 2 | K 125 3 | K 125 5 | K 125 8 | K 125 12 | K 125 18",
        "L": "L 200 2 | L 200 3 | L 200 5 | L 200 8 | L 200 12 | L 200 18 | K 125 18",
        "M": "M 315 3 | M 315 5 | M 315 8 | M 315 12 | M 315 18 | L 200 18 | K 125 18",
        "N": "N 500 5 | N 500 8 | N 500 12 | N 500 18 | M 315 18 | L 200 18 | K 125 18",
        "P": "P 800 8 | P 800 12 | P 800 18 | N 500 18 | M 315 18 | L 200 18 | K 125 18",
        "Q": "Q 1250 12 | Q 1250 18 | P 800 18 | N 500 18 | M 315 18 | L 200 18 | K 125 18",
    },
    REDUCED: {
        "A": "F 8 0 | E 5 0 | D 3 0 | C 2 0 | B 2 0 | A 2 0 | D 3 1",
        "B": "F 8 0 | E 5 0 | D 3 0 | C 2 0 | B 2 0 | A 2 0 | D 3 1",
        "C": "F 8 0 | E 5 0 | D 3 0 | C 2 0 | B 2 0 | E 5 1 | D 3 1",
        "D": "F 8 0 | E 5 0 | D 3 0 | C 2 0 | F 8 1 | E 5 1 | D 3 1",
        "E": "F 8 0 | E 5 0 | D 3 0 | G 13 1 | F 8 1 | E 5 1 | E 5 2",
        "F": "F 8 0 | E 5 0 | H 20 1 | G 13 1 | F 8 1 | F 8 2 | F 8 3",
        "G": "F 8 0 | J 32 1 | H 20 1 | G 13 1 | G 13 2 | G 13 3 | G 13 5",
        "H": "K 50 1 | J 32 1 | H 20 1 | H 20 2 | H 20 3 | H 20 5 | H 20 6",
        "J": "K 50 1 | J 32 1 | J 32 2 | J 32 3 | J 32 5 | J 32 6 | J 32 8",
        "K": "K 50 1 | K 50 2 | K 50 3 | K 50 5 | K 50 6 | K 50 8 | K 50 10",
        "L": "L 80 2 | L 80 3 | L 80 5 | L 80 6 | L 80 8 | L 80 10 | K 50 10",
        "M": "M 125 3 | M 125 5 | M 125 6 | M 125 8 | M 125 10 | L 80 10 | K 50 10",
        "N": "N 200 5 | N 200 6 | N 200 8 | N 200 10 | M 125 10 | L 80 10 | K 50 10",
        "P": "P 315 6 | P 315 8 | P 315 10 | N 200 10 | M 125 10 | L 80 10 | K 50 10",
        "Q": "Q 500 8 | Q 500 10 | P 315 10 | N 200 10 | M 125 10 | L 80 10 | K 50 10",
    },
}


def test_tightened_and_reduced_sample_sizes_are_the_published_ones():
    assert TIGHTENED_SAMPLE_SIZES == PUBLISHED_TIGHTENED_SAMPLE_SIZES
    assert REDUCED_SAMPLE_SIZES == PUBLISHED_REDUCED_SAMPLE_SIZES
    assert list(TIGHTENED_TABLE) == list(PUBLISHED_TIGHTENED_SAMPLE_SIZES)
    assert list(REDUCED_TABLE) == list(PUBLISHED_REDUCED_SAMPLE_SIZES)


@pytest.mark.parametrize(
    "table, published",
    [(TIGHTENED_TABLE, PUBLISHED_RE_TIGHTENED), (REDUCED_TABLE, PUBLISHED_RE_REDUCED)],
    ids=["2-B", "2-C"],
)
def test_the_tightened_and_reduced_tables_match_the_published_cells(table, published):
    for letter, cells in published.items():
        row = table[letter].split()
        for column, cell in zip(PUBLISHED_COLUMNS, cells.split(), strict=True):
            stored = row[AQLS.index(Decimal(column))]
            if cell in ("v", "^", "-"):
                assert stored == cell, (letter, column)
            else:
                assert stored == f"{int(cell) - 1}/{cell}", (letter, column)


def test_row_s_of_the_tightened_table_holds_one_plan_reached_from_q_and_r_at_aql_0_025():
    assert TIGHTENED_TABLE["S"].split() == ["-", "-", "1/2"] + ["-"] * 13
    plan = plan_for(lot_size=600_000, aql=Decimal("0.025"), severity=TIGHTENED)  # Q at 0.025: down, down
    assert (plan.code_letter, plan.sample_size, plan.acceptance_number, plan.rejection_number) == ("S", 3150, 1, 2)


@pytest.mark.parametrize("severity", [NORMAL, TIGHTENED, REDUCED])
def test_each_code_letter_gets_the_published_plan_of_each_table(severity):
    table = TABLES[severity]
    for letter, row in PUBLISHED_PLANS[severity].items():
        for column, expected in zip(PUBLISHED_COLUMNS, row.split(" | "), strict=True):
            found = resolve(table, letter, AQLS.index(Decimal(column)))
            acceptance, rejection = table.cell(found, AQLS.index(Decimal(column))).split("/")
            got = f"{found} {table.sample_sizes[found]} {acceptance}"
            assert got == expected, (severity, letter, column)
            assert int(rejection) == int(acceptance) + 1


@pytest.mark.parametrize(
    "lot, aql, severity, expected",
    [
        # Montgomery's example (lots of 2000, AQL 0.65, code letter K): normal n=125 Ac 2, tightened Ac 1.
        (2000, "0.65", NORMAL, ("K", 125, 2, 3)),
        (2000, "0.65", TIGHTENED, ("K", 125, 1, 2)),
        (2000, "0.65", REDUCED, ("K", 50, 1, 2)),
        (1000, "2.5", TIGHTENED, ("J", 80, 3, 4)),
        (1000, "2.5", REDUCED, ("J", 32, 3, 4)),
        (2000, "1.0", REDUCED, ("K", 50, 2, 3)),
        (20000, "6.5", REDUCED, ("L", 80, 10, 11)),  # M at 6.5 is "^": L's 10/11 with n=80
        (500, "1.0", TIGHTENED, ("J", 80, 1, 2)),  # H at 1.0 is "v": J's 1/2 with n=80
        (26, "10", REDUCED, ("D", 3, 1, 2)),
        (5, "10", REDUCED, ("D", 3, 1, 2)),  # A at 10 is "v" down to D
    ],
)
def test_tightened_and_reduced_plans_read_like_the_standard(lot, aql, severity, expected):
    plan = plan_for(lot_size=lot, aql=Decimal(aql), severity=severity)
    assert (plan.code_letter, plan.sample_size, plan.acceptance_number, plan.rejection_number) == expected


def test_a_size_by_hand_takes_the_acceptance_number_of_its_inspections_table():
    by_hand = {
        severity: plan_by_hand(lot_size=1000, sample_size=100, aql=Decimal("2.5"), severity=severity)
        for severity in (NORMAL, TIGHTENED, REDUCED)
    }
    # normal and tightened: J (80) is the largest sample not over 100; reduced: L (80).
    assert [by_hand[s].acceptance_number for s in (NORMAL, TIGHTENED, REDUCED)] == [5, 3, 6]
    assert {plan.sample_size for plan in by_hand.values()} == {100}


@pytest.mark.parametrize(
    "code_letter, sample_size, aql, expected",
    [
        ("J", 80, "2.5", 3),  # J at 1.5 is 3/4
        ("K", 125, "0.65", 1),  # K at 0.40 is 1/2
        ("K", 125, "10", 14),  # K at 6.5 is 14/15
        ("D", 8, "10", 1),  # D at 6.5 is 1/2
        ("K", 125, "0.40", None),  # K at 0.25 is an arrow (1/2's left neighbour)
        ("Q", 1250, "0.010", None),  # no AQL tighter than 0.010
        ("", 100, "2.5", 3),  # by hand: J's 3/4 at 1.5
    ],
)
def test_the_acceptance_number_one_aql_step_tighter_is_read_on_the_plans_own_row(
    code_letter, sample_size, aql, expected
):
    assert tighter_acceptance_number(code_letter=code_letter, sample_size=sample_size, aql=Decimal(aql)) == expected


def test_no_plan_at_the_tightest_aql_has_an_acceptance_number_of_2_or_more():
    """The switching score's "one step tighter" test is for Ac >= 2: at AQL 0.010 it never applies."""
    for severity, table in TABLES.items():
        for letter in table.rows:
            cell = table.cell(letter, 0)
            assert cell in ("v", "^", "-") or int(cell.split("/")[0]) <= 1, (severity, letter)


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
