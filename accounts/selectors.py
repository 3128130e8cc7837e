"""Reads of users and API keys."""

from __future__ import annotations

from accounts.models import ApiKey, User, normalize_email


def user_find(*, email: str) -> User | None:
    """The user with this e-mail (normalised as stored), or ``None``."""
    return User.objects.filter(email=normalize_email(email)).first()


def user_has_unrevoked_key(*, user: User) -> bool:
    """Whether the user holds a key not revoked (expired or not): ``apikey_issue`` would hand that one back."""
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).exists()
