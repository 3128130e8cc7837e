"""CSV cells that a spreadsheet shows as text: a value starting like a formula gets a leading ``'``.

For the CSV downloads whose cells hold what others typed (agency labels,
e-mails, object names): opened in a spreadsheet, ``=HYPERLINK(...)`` must
stay text. The labels CSV of the contract is left as it is: its format is
fixed and it is read by programs, not spreadsheets.
"""

from __future__ import annotations

# The ASCII signs, and their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20), which
# spreadsheets in East Asian locales convert to ASCII on entry and then run.
FORMULA_SIGNS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# A cell starting with a tab or CR is refused as OWASP advises, whatever follows.
FORMULA_STARTS = (*FORMULA_SIGNS, "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """``text``, with a leading ``'`` if a spreadsheet could read it as a formula.

    Spreadsheets skip leading whitespace (spaces, tabs, line breaks) before they look
    for a formula sign, so " =1+1" and "\\n=1+1" are formulas too.
    """
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_SIGNS):
        return "'" + text
    return text
