"""The two-header API key authentication of the contract."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiKey
from accounts.services import apikey_touch, secret_matches
from labelhub.exceptions import UNAUTHORIZED_DETAIL

KEY_HEADER = "Authentication-Key"
SECRET_HEADER = "Authentication-Secret"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authentication-Key`` + ``Authentication-Secret``.

    No headers at all: not authenticated (the permission answers 401). Any
    header present but wrong, an unknown, revoked or expired key, or a disabled
    user: 401. One query per request (the key joined with its user).
    """

    def authenticate(self, request):
        key = request.headers.get(KEY_HEADER)
        secret = request.headers.get(SECRET_HEADER)
        if key is None and secret is None:
            return None
        if not key or not secret:
            raise exceptions.AuthenticationFailed(UNAUTHORIZED_DETAIL)
        key = key.strip()
        if len(key) > 64:
            raise exceptions.AuthenticationFailed(UNAUTHORIZED_DETAIL)
        api_key = (
            ApiKey.objects.select_related("user")
            .filter(key=key, revoked_at__isnull=True)
            .first()
        )
        now = timezone.now()
        if (
            api_key is None
            or not secret_matches(secret.strip(), api_key.secret_hash)
            or api_key.is_expired(now)
            or not api_key.user.is_active
        ):
            raise exceptions.AuthenticationFailed(UNAUTHORIZED_DETAIL)
        apikey_touch(api_key=api_key, now=now)
        return api_key.user, api_key

    def authenticate_header(self, request):
        return f'{KEY_HEADER} realm="api"'
