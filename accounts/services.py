"""Everything that writes users and API keys."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.audit import Actor, audit_record
from accounts.models import ApiKey, User, normalize_email
from labelhub.exceptions import BadRequest, Conflict


@dataclass(frozen=True)
class IssuedKey:
    """A key as handed to its owner: ``secret`` is None when it cannot be shown."""

    api_key: ApiKey
    secret: str | None

    @property
    def apikey(self) -> str:
        return self.api_key.key

    def as_token(self) -> dict:
        return {"apikey": self.api_key.key, "apisecret": self.secret}


def secret_hash(secret: str) -> str:
    """Keyed SHA-256 of a secret: random 128-bit secrets need no slow hash."""
    return hmac.new(settings.API_KEY_PEPPER.encode(), secret.encode(), sha256).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def _new_key() -> str:
    return secrets.token_hex(16)


def _new_secret() -> str:
    return secrets.token_hex(16)


class StaffEmailConflict(Conflict):
    """The e-mail is a staff account's: it is handed no key as somebody's labeler."""


def _lock_user(email: str) -> User | None:
    """The user of a normalised e-mail, row-locked; matched as the unique index does (``lower(email)``)."""
    return User.objects.select_for_update().alias(email_ci=Lower("email")).filter(email_ci=email).first()


@transaction.atomic
def user_get_or_create(*, email: str, is_staff: bool = False) -> tuple[User, bool]:
    """Find a user by e-mail (case-insensitive) or create one without a password; the row stays locked.

    Locking a row that does not exist yet locks nothing: two requests for one
    new e-mail both get here. The insert runs in a savepoint; the later one
    waits on the unique index for the earlier one and fails once it commits,
    and then finds (and locks) the user it created.
    """
    email = normalize_email(email)
    if not email:
        raise BadRequest("An e-mail address is required")
    user = _lock_user(email)
    if user is None:
        try:
            with transaction.atomic():
                return User.objects.create_user(email=email, is_staff=is_staff), True
        except IntegrityError:
            user = _lock_user(email)
            if user is None:  # created and deleted again while this request waited
                raise Conflict(f"The account of {email} changed during this request; try again") from None
    if is_staff and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user, False


@transaction.atomic
def labeler_get_or_create(*, email: str) -> tuple[User, bool]:
    """The agency account of ``email`` (created if new), locked; never a staff or superuser account.

    Its caller hands the account a key: a staff e-mail given as an agency's
    (a typo, or an image-admin after another staff member's key) must not get
    a key issued that acts as that staff user.
    """
    user, created = user_get_or_create(email=email)
    if user.is_staff or user.is_superuser:
        raise StaffEmailConflict(
            f"{user.email} belongs to a staff account; a labeler must be an agency account "
            "(nothing was created and no key was issued)"
        )
    return user, created


@transaction.atomic
def apikey_issue(*, user: User, expires_at: datetime | None = None, actor: Actor | None = None) -> IssuedKey:
    """Give ``user`` a key: a fresh key and secret, or their existing key without its secret."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialise issuers per user
    existing = ApiKey.objects.filter(user=user, revoked_at__isnull=True).first()
    if existing is not None:
        return IssuedKey(existing, None)
    secret = _new_secret()
    api_key = ApiKey.objects.create(user=user, key=_new_key(), secret_hash=secret_hash(secret), expires_at=expires_at)
    audit_record(actor=actor, action="apikey.issue", target=api_key, details={"user": user.email})
    return IssuedKey(api_key, secret)


@transaction.atomic
def apikey_rotate(*, user: User, actor: Actor | None = None) -> IssuedKey:
    """A new secret for the user's key (or a new key if none); the old secret dies at once."""
    api_key = ApiKey.objects.select_for_update().filter(user=user, revoked_at__isnull=True).first()
    if api_key is None:
        return apikey_issue(user=user, actor=actor)
    secret = _new_secret()
    api_key.secret_hash = secret_hash(secret)
    api_key.rotated_at = timezone.now()
    api_key.save(update_fields=["secret_hash", "rotated_at"])
    audit_record(actor=actor, action="apikey.rotate", target=api_key, details={"user": user.email})
    return IssuedKey(api_key, secret)


@transaction.atomic
def apikey_revoke(*, api_key: ApiKey, actor: Actor | None = None) -> ApiKey:
    """Revoke for good: a revoked key never authenticates again."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        raise Conflict("This API key is already revoked")
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="apikey.revoke", target=api_key, details={"user": api_key.user.email})
    return api_key


def apikey_touch(*, api_key: ApiKey, now: datetime | None = None) -> None:
    """Record use, at most once per ``API_KEY_LAST_USED_INTERVAL`` seconds."""
    now = now or timezone.now()
    last = api_key.last_used_at
    if last is not None and (now - last).total_seconds() < settings.API_KEY_LAST_USED_INTERVAL:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
