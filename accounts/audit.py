"""The audit trail: who did what to which object, written in the action's own transaction.

Services that change something staff care about (status changes, reviews,
samples, keys, export retries, image-set finishes, deletions) take an
``actor`` and call ``audit_record`` inside their transaction, so an action
and its audit row commit or roll back together. ``actor=None`` (or
``Actor.system()``) is labelhub itself: a job, the auto-complete.

Agency image fetches are too many for a row each: ``image_fetch_count`` adds
one to a per key, per day counter with a single upsert.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, models
from django.utils import timezone

from accounts.models import ApiKey, AuditEvent, ImageFetchCount, User


@dataclass(frozen=True)
class Actor:
    """The user (and the API key, over the API) behind an action; neither for the system."""

    user: User | None = None
    api_key: ApiKey | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls()

    @classmethod
    def of_request(cls, request) -> Actor:
        user = getattr(request, "user", None)
        auth = getattr(request, "auth", None)
        return cls(
            user=user if user is not None and user.is_authenticated else None,
            api_key=auth if isinstance(auth, ApiKey) else None,
        )

    @property
    def label(self) -> str:
        return self.user.email if self.user is not None else AuditEvent.SYSTEM


def _event(
    actor: Actor | None, action: str, target: models.Model | None, target_type: str, details: dict | None
) -> AuditEvent:
    actor = actor or Actor.system()
    return AuditEvent(
        date=timezone.now(),
        actor=actor.label,
        actor_user=actor.user,
        actor_key=actor.api_key,
        action=action,
        target_type=target_type or (target._meta.label_lower if target is not None else ""),
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target=str(target)[:255] if target is not None else "",
        details=details or {},
    )


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """One audit row (``actor=None``: the system). Call it inside the action's transaction."""
    event = _event(actor, action, target, target_type, details)
    event.save()
    return event


def audit_record_many(
    *, actor: Actor | None, action: str, targets: list[models.Model], details_of=None, target_type: str = ""
) -> None:
    """One audit row per target in one insert (a review of 1,000 images is one statement, not 1,000)."""
    AuditEvent.objects.bulk_create(
        [_event(actor, action, target, target_type, details_of(target) if details_of else None) for target in targets],
        batch_size=500,
    )


def image_fetch_count(*, api_key: ApiKey, day=None) -> None:
    """Count one image fetch for ``api_key`` on ``day`` (today): one upsert statement."""
    table = ImageFetchCount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (api_key_id, day, count) VALUES (%s, %s, 1) "  # noqa: S608 - table name is ours
            f"ON CONFLICT (api_key_id, day) DO UPDATE SET count = {table}.count + 1",
            [api_key.pk, day or timezone.localdate()],
        )
