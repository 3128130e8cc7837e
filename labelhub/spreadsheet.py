"""CSV cells that a spreadsheet shows as text: a value starting like a formula gets a leading ``'``.

For the CSV downloads whose cells hold what others typed (agency labels,
e-mails, object names): opened in a spreadsheet, ``=HYPERLINK(...)`` must
stay text. The labels CSV of the contract is left as it is: its format is
fixed and it is read by programs, not spreadsheets.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text
