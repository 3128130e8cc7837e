"""Endpoints: create (the secret made here, shown once), change, delete, disable an owner's; each audited."""

from __future__ import annotations

import base64
import secrets
import zlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from core.audit import audit_record
from core.exceptions import Conflict, NotFound
from core.validators import is_valid_id
from webhooks.models import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32

OWNER_DEACTIVATED = "owner deactivated"
OWNER_KEY_REVOKED = "owner's last API key revoked"

# Staff endpoints have no owner row to lock, so their creations queue on one PostgreSQL advisory lock.
_STAFF_ENDPOINTS_LOCK = zlib.crc32(b"webhooks.staff-endpoints")


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


class EndpointLimitReached(Conflict):
    """The owner already has as many endpoints as ``WEBHOOKS_MAX_PER_OWNER`` (staff: ``WEBHOOKS_MAX_STAFF``)."""


def _owner_label(owner) -> str | None:
    return owner.email if owner is not None else None


def _lock_owner_endpoints(owner_id: int | None) -> None:
    """Serialise everything that adds an endpoint to ``owner_id`` (None: staff), so the cap holds under races.

    SQLite needs nothing: its transactions take the write lock when they
    begin (``transaction_mode`` IMMEDIATE), one at a time.
    """
    if owner_id is not None:
        get_user_model().objects.select_for_update().filter(pk=owner_id).values_list("pk").first()
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_STAFF_ENDPOINTS_LOCK])


def webhook_owner_check_room(*, owner_id: int | None, webhook_id: int | None = None) -> None:
    """Refuse (409) a new endpoint of ``owner_id``, or moving ``webhook_id`` to it, once the owner is at the cap.

    Takes the owner's lock, held to the end of the caller's transaction: call
    it in the transaction that writes the endpoint. Every endpoint counts,
    disabled ones too: disabling some and creating more must not get an
    agency past the cap once it enables them again.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("webhook_owner_check_room holds the owner's lock only inside the caller's transaction")
    _lock_owner_endpoints(owner_id)
    rows = Webhook.objects.filter(owner_id=owner_id)
    if webhook_id is not None:
        rows = rows.exclude(pk=webhook_id)
    cap, setting, whose = (
        (settings.WEBHOOKS_MAX_STAFF, "WEBHOOKS_MAX_STAFF", "Staff already have")
        if owner_id is None
        else (settings.WEBHOOKS_MAX_PER_OWNER, "WEBHOOKS_MAX_PER_OWNER", "This owner already has")
    )
    if rows.count() >= cap:
        raise EndpointLimitReached(f"{whose} {cap} webhook endpoints, the most allowed ({setting}); delete one first")


@transaction.atomic
def webhook_create(
    *,
    url: str,
    events: list[str],
    description: str = "",
    active: bool = True,
    owner=None,
    created_by=None,
    actor=None,
) -> Webhook:
    """A new endpoint; its ``secret`` is for the caller to show once. 409 once the owner is at the cap.

    The fields are parsed (``webhooks.inputs``): the URL reaches a
    public https address, the events are known (and open to agencies when
    ``owner`` is an agency user). ``owner`` None: a staff endpoint.
    ``actor``: who asks (``core.audit.actor_of_request``; None: the system).
    """
    webhook_owner_check_room(owner_id=owner.pk if owner is not None else None)
    webhook = Webhook.objects.create(
        url=url,
        events=events,
        description=description,
        active=active,
        owner=owner,
        created_by=created_by,
        secret=new_secret(),
    )
    # The secret stays out: the audit trail is read by every image-admin and exported as CSV.
    audit_record(
        actor=actor,
        action="webhook.create",
        target=webhook,
        details={
            "url": url,
            "events": events,
            "description": description,
            "active": active,
            "owner": _owner_label(owner),
        },
    )
    return webhook


def webhook_lock(*, webhook_id: int, owner_id: int | None = None, staff: bool = True) -> Webhook:
    """The endpoint, locked; 404 if unknown or (``staff`` False) not ``owner_id``'s."""
    rows = Webhook.objects.select_for_update().filter(pk=webhook_id) if is_valid_id(webhook_id) else None
    if rows is not None and not staff:
        rows = rows.filter(owner_id=owner_id)
    webhook = rows.first() if rows is not None else None
    if webhook is None:
        raise NotFound(f"Webhook {webhook_id} not found")
    return webhook


_UNSET = object()


@transaction.atomic
def webhook_update(
    *,
    webhook_id: int,
    owner_id: int | None = None,
    staff: bool = True,
    url: str | object = _UNSET,
    events: list[str] | object = _UNSET,
    description: str | object = _UNSET,
    active: bool | object = _UNSET,
    owner: object = _UNSET,
    actor=None,
) -> Webhook:
    """Change the given fields (parsed by ``inputs``); activating it clears its failures.

    ``staff`` False: only ``owner_id``'s endpoint (404 for any other).
    ``owner`` (staff only, the admin): hand the endpoint to another agency
    user, or to staff (None); 409 when the new owner is at the cap. What
    changed is audited, each field from and to.
    """
    webhook = webhook_lock(webhook_id=webhook_id, owner_id=owner_id, staff=staff)
    changes = {}
    for name, value in (("url", url), ("events", events), ("description", description)):
        if value is not _UNSET and value != getattr(webhook, name):
            changes[name] = {"from": getattr(webhook, name), "to": value}
            setattr(webhook, name, value)
    fields = list(changes)
    if owner is not _UNSET and (owner.pk if owner is not None else None) != webhook.owner_id:
        webhook_owner_check_room(owner_id=owner.pk if owner is not None else None, webhook_id=webhook.pk)
        changes["owner"] = {"from": _owner_label(webhook.owner), "to": _owner_label(owner)}
        webhook.owner = owner
        fields.append("owner")
    if active is not _UNSET and active != webhook.active:
        changes["active"] = {"from": webhook.active, "to": active}
        webhook.active = active
        fields.append("active")
        if active:
            webhook.consecutive_failures = 0
            webhook.disabled_reason = ""
            webhook.date_disabled = None
            fields += ["consecutive_failures", "disabled_reason", "date_disabled"]
    if fields:
        webhook.save(update_fields=fields)
        audit_record(actor=actor, action="webhook.update", target=webhook, details=changes)
    return webhook


@transaction.atomic
def webhook_delete(*, webhook_id: int, owner_id: int | None = None, staff: bool = True, actor=None) -> None:
    """Delete an endpoint with its deliveries and their attempts (the events stay); 404 as ``webhook_update``."""
    webhook = webhook_lock(webhook_id=webhook_id, owner_id=owner_id, staff=staff)
    # Recorded before the delete: the row's id and name are gone after it.
    audit_record(
        actor=actor,
        action="webhook.delete",
        target=webhook,
        details={"url": webhook.url, "events": webhook.events, "owner": _owner_label(webhook.owner)},
    )
    webhook.delete()


@transaction.atomic
def webhooks_disable_for_owner(*, owner_id: int, reason: str, actor=None) -> int:
    """Disable every active endpoint of ``owner_id``, saying why; how many were disabled.

    For an owner who may no longer receive anything (deactivated, or without
    a usable key). Their pending deliveries are then given up as for any
    disabled endpoint; the owner (with a key again) or staff enable them.
    """
    webhooks = list(Webhook.objects.select_for_update().filter(owner_id=owner_id, active=True).order_by("pk"))
    if not webhooks:
        return 0
    now = timezone.now()
    Webhook.objects.filter(pk__in=[w.pk for w in webhooks]).update(
        active=False, date_disabled=now, disabled_reason=reason
    )
    for webhook in webhooks:
        audit_record(actor=actor, action="webhook.disable", target=webhook, details={"reason": reason})
    return len(webhooks)
