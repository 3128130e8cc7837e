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

from accounts import hooks
from accounts.audit import Actor, audit_record
from accounts.models import ApiKey, User, normalize_email
from core.exceptions import BadRequest, Conflict
from webhooks.services import OWNER_DEACTIVATED, OWNER_KEY_REVOKED, webhooks_disable_for_owner


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

    ``is_staff`` applies to a user it creates: an existing agency account is
    made an image-admin only by ``user_promote_to_staff``, which takes its
    agency access away first.

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


class AgencyAccessConflict(Conflict):
    """The account holds an agency's key or campaigns: it becomes an image-admin only once they are taken away."""


def _agency_access_held(user: User) -> tuple[list[ApiKey], dict[str, list[str]]]:
    """The user's unrevoked keys and what other apps gave them (by app), all locked."""
    keys = list(ApiKey.objects.select_for_update().filter(user=user, revoked_at__isnull=True).order_by("pk"))
    held = {access.name: access.held_by(user_id=user.pk) for access in hooks.agency_access()}
    return keys, {name: items for name, items in held.items() if items}


def _refuse_agency_promotion(user: User, keys: list[ApiKey], held: dict[str, list[str]]) -> None:
    if not keys and not held:
        return
    what = [f"API key {', '.join(k.key for k in keys)}"] if keys else []
    what += [f"{name}: {', '.join(items)}" for name, items in held.items()]
    raise AgencyAccessConflict(
        f"{user.email} is an agency account ({'; '.join(what)}); as an image-admin its key would act as "
        "staff. Revoke its API key and remove it from its campaigns first (createapikey EMAIL --admin "
        "--revoke-agency-access does both). Nothing was changed."
    )


@transaction.atomic
def user_promote_staff_check(*, user: User) -> None:
    """Refuse (409) making ``user`` an image-admin while it holds agency access; the locks held for the caller."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_staff:
        _refuse_agency_promotion(locked, *_agency_access_held(locked))


@transaction.atomic
def user_promote_to_staff(
    *, email: str, revoke_agency_access: bool = False, actor: Actor | None = None
) -> tuple[User, bool]:
    """The image-admin account of ``email`` (created if new, ``True`` then), locked; the promotion audited.

    An agency account's key would act as an image-admin once it is staff,
    and its campaigns would still count it as their labeler: promoting one
    is refused (409, nothing changed) unless ``revoke_agency_access``, which
    revokes its keys (disabling its webhooks) and unbinds it from its
    campaigns first, all in the promotion's transaction.
    """
    user, created = user_get_or_create(email=email, is_staff=True)
    if created:
        audit_record(actor=actor, action="user.create", target=user, details={"is_staff": True})
        return user, True
    if user.is_staff:
        return user, False
    keys, held = _agency_access_held(user)
    if not revoke_agency_access:
        _refuse_agency_promotion(user, keys, held)
    revoked = [apikey_revoke(api_key=k, actor=actor).key for k in keys]
    removed = {
        access.name: access.revoke(user_id=user.pk, actor=actor)
        for access in hooks.agency_access()
        if access.name in held
    }
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    audit_record(
        actor=actor,
        action="user.promote",
        target=user,
        details={"is_staff": {"from": False, "to": True}, "revoked_keys": revoked, "removed_from": removed},
    )
    return user, False


USER_FLAGS = ("is_active", "is_staff", "is_superuser")


@transaction.atomic
def user_set_flags(
    *,
    user: User,
    is_active: bool | None = None,
    is_staff: bool | None = None,
    is_superuser: bool | None = None,
    actor: Actor | None = None,
) -> User:
    """Set the given flags (None: unchanged); each change audited from and to.

    Making an agency account an image-admin is refused as
    ``user_promote_to_staff`` refuses it. Deactivating the user disables
    their webhook endpoints: nothing is sent on behalf of an account that
    may no longer act.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    if is_staff and not locked.is_staff:
        user_promote_staff_check(user=locked)
    wanted = {"is_active": is_active, "is_staff": is_staff, "is_superuser": is_superuser}
    changes = {
        name: {"from": getattr(locked, name), "to": value}
        for name, value in wanted.items()
        if value is not None and value != getattr(locked, name)
    }
    if not changes:
        return locked
    for name, change in changes.items():
        setattr(locked, name, change["to"])
    locked.save(update_fields=list(changes))
    audit_record(actor=actor, action="user.flags", target=locked, details=changes)
    if changes.get("is_active", {}).get("to") is False:
        webhooks_disable_for_owner(owner_id=locked.pk, reason=OWNER_DEACTIVATED, actor=actor)
    return locked


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
    """Revoke for good: a revoked key never authenticates again.

    The user's last unrevoked key gone, their webhook endpoints are disabled:
    an agency that can no longer call the API receives nothing either.
    """
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        raise Conflict("This API key is already revoked")
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="apikey.revoke", target=api_key, details={"user": api_key.user.email})
    if not ApiKey.objects.filter(user_id=api_key.user_id, revoked_at__isnull=True).exists():
        webhooks_disable_for_owner(owner_id=api_key.user_id, reason=OWNER_KEY_REVOKED, actor=actor)
    return api_key


def apikey_touch(*, api_key: ApiKey, now: datetime | None = None) -> None:
    """Record use, at most once per ``API_KEY_LAST_USED_INTERVAL`` seconds."""
    now = now or timezone.now()
    last = api_key.last_used_at
    if last is not None and (now - last).total_seconds() < settings.API_KEY_LAST_USED_INTERVAL:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
