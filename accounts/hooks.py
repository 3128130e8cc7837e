"""What apps above accounts plug into it, so that accounts never imports them.

Dependencies run one way (campaigns -> imagesets -> accounts -> labelhub).
Promoting an agency user to image-admin must take away what the agency was
given, and only the app that gave it knows what that is: campaigns registers
its labeler bindings here from its ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AgencyAccess:
    """Access another app grants agency users besides their API keys."""

    # How messages name it, e.g. "campaigns".
    name: str
    # ``held_by(*, user_id) -> list[str]``: what the user holds (names a person recognises), locked.
    held_by: Callable[..., list[str]]
    # ``revoke(*, user_id, actor) -> list[str]``: take it all away, audited, in the caller's transaction.
    revoke: Callable[..., list[str]]


_agency_access: list[AgencyAccess] = []


def register_agency_access(access: AgencyAccess) -> None:
    if access not in _agency_access:
        _agency_access.append(access)


def agency_access() -> list[AgencyAccess]:
    return list(_agency_access)
