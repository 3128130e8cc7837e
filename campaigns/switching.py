"""ISO 2859-1 switching rules (clause 9): which inspection, normal, tightened or reduced, a campaign's next lot gets.

A campaign's lots are its acceptance samples whose lot staff accepted or
rejected (a discarded sample decided nothing and is no lot), in the order
they were drawn. Each sample records the inspection it was drawn under
(``ReviewSample.severity``), so the rules read the run of lots since the
inspection last changed, as the standard does, and nothing else:

- inspection starts normal (9.1) and stays as it is until a rule below
  changes it (9.2);
- normal -> tightened (9.3.1): 2 of the last 5 lots or fewer on normal
  inspection were not accepted;
- tightened -> normal (9.3.2): 5 consecutive lots accepted on tightened
  inspection;
- normal -> reduced (9.3.3): the switching score reached 30, production is
  at a steady rate, and the responsible authority considers reduced
  inspection desirable (the campaign's ``reduced_inspection``, on by default).
  The score (9.3.3.2 a, single sampling) starts at 0 when normal inspection
  begins; after each lot on normal inspection, a lot whose plan's Ac is 2 or
  more adds 3 if it would have been accepted one AQL step tighter (Table
  2-A's Ac one column left, same sample), a lot whose Ac is 0 or 1 adds 2 if
  accepted; anything else sets it back to 0;
- reduced -> normal (9.3.4): a lot is not accepted, production becomes
  irregular or delayed, or other conditions warrant it (here: staff turned
  reduced inspection off for the campaign);
- discontinuation (9.4): once 5 lots are not accepted during one run of
  tightened inspection, acceptance sampling stops: no sample is drawn until
  staff resume it (the agency having improved), which starts tightened
  inspection afresh.

A lot is accepted on original inspection when its sample's verdict was
accept and staff accepted it: a lot accepted although its sample rejected it
(a concession) still counts as not accepted.

Simplifications, for want of data (docs/quality.md says the same):

- production is taken as steady: labelhub knows when lots are delivered,
  not how the agency's production runs. Staff who know it became irregular
  turn reduced inspection off for the campaign, which reinstates normal
  inspection at the next lot (9.3.4 b and c);
- every lot counts as original inspection: a rejected lot's images come
  back, reworked, mixed with new ones in a later lot, never as a
  resubmitted lot of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from campaigns.sampling import NORMAL, REDUCED, TIGHTENED

# 9.3.1: normal -> tightened when this many of the last ``WINDOW`` lots (or fewer) were not accepted.
TIGHTEN_AFTER = 2
WINDOW = 5
# 9.3.2: tightened -> normal after this many consecutive accepted lots.
RELAX_AFTER = 5
# 9.4: inspection is discontinued when this many lots are not accepted in one run of tightened inspection.
DISCONTINUE_AFTER = 5
# 9.3.3: normal -> reduced once the switching score reaches this.
REDUCED_SCORE = 30


@dataclass(frozen=True)
class Lot:
    """A decided lot as the switching rules read it."""

    sample_id: int
    severity: str  # the inspection its sample was drawn under
    accepted: bool  # on original inspection (module docstring)
    acceptance_number: int
    # Normal inspection: Ac one AQL step tighter for the same sample (``sampling.tighter_acceptance_number``).
    tighter_acceptance_number: int | None
    defects: int
    # The lot discontinued inspection and staff resumed it since: "by <who> on <date>"; empty otherwise.
    resumed: str = ""


@dataclass(frozen=True)
class Inspection:
    """The inspection the next lot gets and why; ``discontinued``: no lot is sampled until staff resume."""

    severity: str
    reason: str
    switching_score: int | None = None  # normal inspection: the score of its lots so far
    discontinued: bool = False


def score_after(score: int, lot: Lot) -> int:
    """The switching score after one more lot on normal inspection (9.3.3.2 a, single sampling)."""
    if not lot.accepted:
        return 0
    if lot.acceptance_number >= 2:
        tighter = lot.tighter_acceptance_number
        return score + 3 if tighter is not None and lot.defects <= tighter else 0
    return score + 2


def switching_score(lots: Sequence[Lot]) -> int:
    score = 0
    for lot in lots:
        score = score_after(score, lot)
    return score


def current_run(lots: Sequence[Lot]) -> list[Lot]:
    """The lots since the inspection last changed (or was resumed after a discontinuation), oldest first."""
    start = len(lots) - 1
    while start > 0 and lots[start - 1].severity == lots[start].severity and not lots[start - 1].resumed:
        start -= 1
    return list(lots[start:])


def next_inspection(lots: Sequence[Lot], *, reduced_allowed: bool) -> Inspection:
    """The inspection of the lot after ``lots`` (the campaign's decided lots, oldest first), and why."""
    if not lots:
        return Inspection(NORMAL, "Normal inspection: no lot decided yet, and inspection starts normal", 0)
    last = lots[-1]
    if last.resumed:
        return Inspection(
            TIGHTENED,
            f"Tightened inspection: inspection was discontinued after the lot of sample {last.sample_id} and "
            f"resumed {last.resumed}; it starts again tightened",
        )
    run = current_run(lots)
    if last.severity == TIGHTENED:
        return _after_tightened(run)
    if last.severity == REDUCED:
        return _after_reduced(run, reduced_allowed=reduced_allowed)
    return _after_normal(run, reduced_allowed=reduced_allowed)


def _after_normal(run: list[Lot], *, reduced_allowed: bool) -> Inspection:
    window = run[-WINDOW:]
    refused = [lot.sample_id for lot in window if not lot.accepted]
    if len(refused) >= TIGHTEN_AFTER:
        return Inspection(
            TIGHTENED,
            f"Tightened inspection: {len(refused)} of the last {len(window)} lots were not accepted "
            f"({samples(refused)})",
        )
    score = switching_score(run)
    if score >= REDUCED_SCORE and reduced_allowed:
        return Inspection(
            REDUCED,
            f"Reduced inspection: the switching score reached {score} (30 or more) and reduced inspection is "
            "allowed for this campaign (production is taken as steady)",
        )
    if score >= REDUCED_SCORE:
        return Inspection(
            NORMAL,
            f"Normal inspection: the switching score is {score} (30 or more), but reduced inspection is turned "
            "off for this campaign",
            score,
        )
    return Inspection(
        NORMAL,
        f"Normal inspection continues: {len(refused)} of the last {_n_lots(len(window))} not accepted; switching "
        f"score {score} of the {REDUCED_SCORE} that allow reduced inspection",
        score,
    )


def _after_tightened(run: list[Lot]) -> Inspection:
    refused = [lot.sample_id for lot in run if not lot.accepted]
    if len(refused) >= DISCONTINUE_AFTER:
        return Inspection(
            TIGHTENED,
            f"Inspection discontinued until staff resume it: {len(refused)} lots were not accepted on tightened "
            f"inspection ({samples(refused)})",
            discontinued=True,
        )
    accepted_in_a_row = 0
    for lot in reversed(run):
        if not lot.accepted:
            break
        accepted_in_a_row += 1
    if accepted_in_a_row >= RELAX_AFTER:
        return Inspection(
            NORMAL,
            f"Normal inspection: {RELAX_AFTER} consecutive lots were accepted on tightened inspection "
            f"({samples([lot.sample_id for lot in run[-RELAX_AFTER:]])})",
            0,
        )
    return Inspection(
        TIGHTENED,
        f"Tightened inspection continues: {_n_lots(accepted_in_a_row)} accepted in a row of the {RELAX_AFTER} that "
        f"return to normal; {_n_lots(len(refused))} not accepted on tightened inspection ({DISCONTINUE_AFTER} "
        "discontinue inspection)",
    )


def _after_reduced(run: list[Lot], *, reduced_allowed: bool) -> Inspection:
    last = run[-1]
    if not last.accepted:
        return Inspection(
            NORMAL, f"Normal inspection: the lot of sample {last.sample_id} was not accepted on reduced inspection", 0
        )
    if not reduced_allowed:
        return Inspection(NORMAL, "Normal inspection: reduced inspection is turned off for this campaign", 0)
    return Inspection(REDUCED, f"Reduced inspection continues: {_n_lots(len(run))} accepted since it began")


def _n_lots(n: int) -> str:
    return f"{n} lot" if n == 1 else f"{n} lots"


def samples(sample_ids: Sequence[int]) -> str:
    """ "sample 3", "samples 3 and 5", "samples 3, 5 and 8"."""
    names = [str(sample_id) for sample_id in sample_ids]
    if len(names) == 1:
        return f"sample {names[0]}"
    return f"samples {', '.join(names[:-1])} and {names[-1]}"
