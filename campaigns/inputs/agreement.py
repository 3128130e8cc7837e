"""The queries of ``GET /campaigns/{id}/agreement`` (the campaign to compare with, the page of disagreements)
and of ``GET /campaigns/{id}/annotators`` (a page)."""

from __future__ import annotations

from dataclasses import dataclass

from core.exceptions import BadRequest, Unprocessable
from core.pagination import MAX_PER_PAGE
from core.validators import ID_MAX, query_value

DISAGREEMENTS_PER_PAGE = 100
DISAGREEMENTS_PER_PAGE_MAX = MAX_PER_PAGE


@dataclass(frozen=True, slots=True)
class AgreementQuery:
    other_id: int
    page: int = 1
    per_page: int = DISAGREEMENTS_PER_PAGE


# A page number or size past this is read as this: the lists are pages of a Python list, so any larger
# number only means "past the end" (or "all"), as the API's other lists read it; no digit count is refused.
_WHOLE_NUMBER_CAP = 10**18


def _whole_number(params, name: str, default: int) -> int:
    raw = query_value(params, name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and raw.strip("0")):
        raise BadRequest(f"'{name}' must be a whole number >= 1, got {raw[:40]!r}")
    digits = raw.lstrip("0")
    return int(digits) if len(digits) <= 18 else _WHOLE_NUMBER_CAP


def parse_agreement_query(params, *, campaign_id: int) -> AgreementQuery:
    """``?with=<campaign id>&page=&per_page=``: 400 when missing or malformed, 422 for the campaign itself.

    ``per_page`` (default 100) is capped at 1000, as the API's lists are.
    """
    raw = query_value(params, "with")
    if raw is None:
        raise BadRequest("'with' is required: the id of the campaign to compare this one with")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19 and 0 < int(raw) <= ID_MAX):
        raise BadRequest(f"'with' must be a campaign id, got {raw[:40]!r}")
    other_id = int(raw)
    if other_id == campaign_id:
        raise Unprocessable(f"'with' names campaign {campaign_id} itself: compare it with another campaign")
    page, per_page = parse_page(params, default_per_page=DISAGREEMENTS_PER_PAGE)
    return AgreementQuery(other_id=other_id, page=page, per_page=per_page)


def parse_page(params, *, default_per_page: int) -> tuple[int, int]:
    """``?page=&per_page=`` of a list computed whole, as the API's lists take them: ``per_page`` capped at 1000."""
    page = _whole_number(params, "page", 1)
    per_page = min(_whole_number(params, "per_page", default_per_page), DISAGREEMENTS_PER_PAGE_MAX)
    return page, per_page
