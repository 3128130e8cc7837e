"""The audit trail as seen from below ``accounts``: the recorder ``accounts`` registers.

The trail (``accounts.audit``) lives above ``webhooks`` and ``core``, which
must not import it (``.importlinter``). Code there (the webhooks) records
through this module instead; the
accounts app registers its ``audit_record`` and ``Actor.of_request`` here
from its ``AppConfig.ready()``. An actor is opaque here: whatever
``actor_of_request`` made, handed back to the recorder unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditHooks:
    # ``record(*, actor, action, target, details)``: one audit row in the caller's transaction.
    record: Callable[..., object]
    # ``actor_of_request(request)``: the person (and API key) behind a request.
    actor_of_request: Callable[[object], object]


_hooks: AuditHooks | None = None


def register_audit(hooks: AuditHooks) -> None:
    global _hooks
    _hooks = hooks


def _registered() -> AuditHooks:
    # An action that cannot be audited must not happen silently: refusing beats a trail with holes.
    if _hooks is None:
        raise RuntimeError("No audit recorder is registered: the accounts app registers it in AppConfig.ready()")
    return _hooks


def audit_record(*, actor, action: str, target=None, details: dict | None = None) -> None:
    """One audit row (``actor`` None: the system); call it inside the action's transaction."""
    _registered().record(actor=actor, action=action, target=target, details=details)


def actor_of_request(request):
    """Who makes ``request``: the actor to hand to services that audit."""
    return _registered().actor_of_request(request)
