"""Endpoints: create (the secret made here, shown once), change, delete."""

from __future__ import annotations

import base64
import secrets

from django.db import transaction

from labelhub.exceptions import NotFound
from labelhub.validators import is_valid_id
from labelhub.webhooks.models import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@transaction.atomic
def webhook_create(
    *, url: str, events: list[str], description: str = "", active: bool = True, owner=None, created_by=None
) -> Webhook:
    """A new endpoint; its ``secret`` is for the caller to show once.

    The fields are parsed (``labelhub.webhooks.inputs``): the URL reaches a
    public https address, the events are known (and open to agencies when
    ``owner`` is an agency user). ``owner`` None: a staff endpoint.
    """
    return Webhook.objects.create(
        url=url,
        events=events,
        description=description,
        active=active,
        owner=owner,
        created_by=created_by,
        secret=new_secret(),
    )


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
) -> Webhook:
    """Change the given fields (parsed by ``inputs``); activating it clears its failures.

    ``staff`` False: only ``owner_id``'s endpoint (404 for any other).
    """
    webhook = webhook_lock(webhook_id=webhook_id, owner_id=owner_id, staff=staff)
    fields = []
    for name, value in (("url", url), ("events", events), ("description", description)):
        if value is not _UNSET:
            setattr(webhook, name, value)
            fields.append(name)
    if active is not _UNSET and active != webhook.active:
        webhook.active = active
        fields.append("active")
        if active:
            webhook.consecutive_failures = 0
            webhook.disabled_reason = ""
            webhook.date_disabled = None
            fields += ["consecutive_failures", "disabled_reason", "date_disabled"]
    if fields:
        webhook.save(update_fields=fields)
    return webhook


@transaction.atomic
def webhook_delete(*, webhook_id: int, owner_id: int | None = None, staff: bool = True) -> None:
    """Delete an endpoint with its deliveries and their attempts (the events stay); 404 as ``webhook_update``."""
    webhook_lock(webhook_id=webhook_id, owner_id=owner_id, staff=staff).delete()
