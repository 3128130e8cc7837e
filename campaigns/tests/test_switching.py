"""The ISO 2859-1 switching rules (campaigns.switching) over scripted histories of decided lots."""

from __future__ import annotations

import pytest

from campaigns.sampling import NORMAL, REDUCED, TIGHTENED
from campaigns.switching import Lot, next_inspection, score_after, switching_score


def lots(script: str, *, severity: str = NORMAL, start: int = 1, ac: int = 2, tighter: int | None = 1) -> list[Lot]:
    """One lot per character, sample ids from ``start``: ``A`` accepted (no defect), ``R`` not accepted."""
    return [
        Lot(
            sample_id=start + index,
            severity=severity,
            accepted=outcome == "A",
            acceptance_number=ac,
            tighter_acceptance_number=tighter,
            defects=0 if outcome == "A" else ac + 1,
        )
        for index, outcome in enumerate(script)
    ]


def after(history: list[Lot], *, reduced_allowed: bool = True):
    return next_inspection(history, reduced_allowed=reduced_allowed)


def test_inspection_starts_normal():
    first = after([])
    assert (first.severity, first.switching_score, first.discontinued) == (NORMAL, 0, False)
    assert first.reason == "Normal inspection: no lot decided yet, and inspection starts normal"


@pytest.mark.parametrize(
    "script, severity",
    [
        ("RR", TIGHTENED),  # 2 of 2
        ("RAAAR", TIGHTENED),  # 2 of the last 5
        ("ARAAAR", TIGHTENED),
        ("RAAAAR", NORMAL),  # the first rejection is 6 lots back: 1 of the last 5
        ("AAAAR", NORMAL),
        ("R", NORMAL),
    ],
)
def test_two_of_five_or_fewer_lots_not_accepted_tighten_inspection(script, severity):
    assert after(lots(script)).severity == severity


def test_the_reason_names_the_lots_not_accepted():
    inspection = after(lots("ARAAR", start=3))
    assert inspection.reason == "Tightened inspection: 2 of the last 5 lots were not accepted (samples 4 and 7)"
    assert inspection.switching_score is None
    assert after(lots("RR", start=3)).reason == (
        "Tightened inspection: 2 of the last 2 lots were not accepted (samples 3 and 4)"
    )


def test_five_consecutive_lots_accepted_on_tightened_inspection_return_to_normal():
    history = lots("RR") + lots("ARAAAA", severity=TIGHTENED, start=3)
    assert after(history).severity == TIGHTENED
    assert after(history).reason == (
        "Tightened inspection continues: 4 lots accepted in a row of the 5 that return to normal; 1 lot not "
        "accepted on tightened inspection (5 discontinue inspection)"
    )
    history += lots("A", severity=TIGHTENED, start=9)
    back = after(history)
    assert (back.severity, back.switching_score) == (NORMAL, 0)
    assert back.reason == (
        "Normal inspection: 5 consecutive lots were accepted on tightened inspection (samples 5, 6, 7, 8 and 9)"
    )


def test_the_window_of_normal_inspection_starts_again_when_normal_inspection_does():
    """Lots not accepted before tightened inspection do not count once normal inspection is back."""
    history = lots("ARR") + lots("AAAAA", severity=TIGHTENED, start=4) + lots("R", start=9)
    inspection = after(history)
    assert inspection.severity == NORMAL
    assert inspection.reason.startswith("Normal inspection continues: 1 of the last 1 lot not accepted")


def test_five_lots_not_accepted_on_one_run_of_tightened_inspection_discontinue_it():
    history = lots("RR") + lots("RARRA", severity=TIGHTENED, start=3)
    assert not after(history).discontinued  # 3 not accepted so far
    history += lots("R", severity=TIGHTENED, start=8)
    assert not after(history).discontinued
    history += lots("AR", severity=TIGHTENED, start=9)
    stopped = after(history)
    assert stopped.discontinued and stopped.severity == TIGHTENED
    assert stopped.reason == (
        "Inspection discontinued until staff resume it: 5 lots were not accepted on tightened inspection "
        "(samples 3, 5, 6, 8 and 10)"
    )


def test_resumed_inspection_starts_tightened_with_its_counts_afresh():
    history = lots("RR") + lots("RRRRR", severity=TIGHTENED, start=3)
    resumed = Lot(**{**history[-1].__dict__, "resumed": "by staff@example.com on 2026-12-03"})
    history[-1] = resumed
    again = after(history)
    assert (again.severity, again.discontinued) == (TIGHTENED, False)
    assert again.reason == (
        "Tightened inspection: inspection was discontinued after the lot of sample 7 and resumed by "
        "staff@example.com on 2026-12-03; it starts again tightened"
    )
    history += lots("R", severity=TIGHTENED, start=8)
    assert not after(history).discontinued  # 1 not accepted since the resumption, not 6
    assert "1 lot not accepted on tightened inspection" in after(history).reason


@pytest.mark.parametrize(
    "ac, tighter, defects, accepted, expected",
    [
        (2, 1, 0, True, 13),  # Ac >= 2, accepted one AQL step tighter: +3
        (2, 1, 1, True, 13),
        (2, 1, 2, True, 0),  # accepted, but not one step tighter: back to 0
        (5, None, 0, True, 0),  # no tighter plan to compare with: back to 0
        (1, None, 1, True, 12),  # Ac 0 or 1, accepted: +2
        (0, None, 0, True, 12),
        (2, 1, 3, False, 0),  # not accepted: back to 0
        (0, None, 0, False, 0),  # a concession (accepted although the sample rejected it) is not accepted
    ],
)
def test_the_switching_score_of_single_sampling(ac, tighter, defects, accepted, expected):
    lot = Lot(
        sample_id=1,
        severity=NORMAL,
        accepted=accepted,
        acceptance_number=ac,
        tighter_acceptance_number=tighter,
        defects=defects,
    )
    assert score_after(10, lot) == expected


def test_a_switching_score_of_30_goes_to_reduced_inspection_when_allowed():
    history = lots("A" * 9)  # Ac 2: +3 each
    assert switching_score(history) == 27
    assert after(history).reason == (
        "Normal inspection continues: 0 of the last 5 lots not accepted; switching score 27 of the 30 that allow "
        "reduced inspection"
    )
    assert after(history).switching_score == 27
    history += lots("A", start=10)
    assert after(history).severity == REDUCED
    assert after(history).reason == (
        "Reduced inspection: the switching score reached 30 (30 or more) and reduced inspection is allowed for "
        "this campaign (production is taken as steady)"
    )
    refused = after(history, reduced_allowed=False)
    assert (refused.severity, refused.switching_score) == (NORMAL, 30)
    assert refused.reason == (
        "Normal inspection: the switching score is 30 (30 or more), but reduced inspection is turned off for this "
        "campaign"
    )
    # Turned on later: the score kept growing meanwhile, and the next lot goes to reduced inspection.
    history += lots("A", start=11)
    assert after(history).severity == REDUCED


def test_acceptance_numbers_0_and_1_score_2_a_lot():
    history = lots("A" * 14, ac=1, tighter=None)
    assert (after(history).severity, after(history).switching_score) == (NORMAL, 28)
    assert after(history + lots("A", ac=1, tighter=None, start=15)).severity == REDUCED


def test_a_lot_not_accepted_sets_the_score_back_to_0():
    history = lots("AAAAAAAR" + "AAA")
    assert after(history).switching_score == 9


def test_reduced_inspection_returns_to_normal_when_a_lot_is_not_accepted_or_it_is_turned_off():
    history = lots("A" * 10) + lots("AA", severity=REDUCED, start=11)
    assert after(history).severity == REDUCED
    assert after(history).reason == "Reduced inspection continues: 2 lots accepted since it began"
    off = after(history, reduced_allowed=False)
    assert (off.severity, off.switching_score) == (NORMAL, 0)
    assert off.reason == "Normal inspection: reduced inspection is turned off for this campaign"
    history += lots("R", severity=REDUCED, start=13)
    back = after(history)
    assert (back.severity, back.switching_score) == (NORMAL, 0)
    assert back.reason == "Normal inspection: the lot of sample 13 was not accepted on reduced inspection"


def test_a_fresh_run_of_normal_inspection_scores_from_0():
    history = lots("A" * 9) + lots("AR", severity=REDUCED, start=10) + lots("A", start=12)
    assert after(history).switching_score == 3
