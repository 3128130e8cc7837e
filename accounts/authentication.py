"""The two-header API key authentication of the contract."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiKey
from accounts.services import apikey_touch, secret_matches
from labelhub import metrics
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
            raise _failed("missing_header")
        key = key.strip()
        if len(key) > 64:
            raise _failed("malformed_key")
        api_key = (
            ApiKey.objects.select_related("user")
            .filter(key=key, revoked_at__isnull=True)
            .first()
        )
        now = timezone.now()
        # The client hears one answer for all of these; the metric tells the operator which.
        if api_key is None:
            raise _failed("unknown_key")
        if not secret_matches(secret.strip(), api_key.secret_hash):
            raise _failed("wrong_secret")
        if api_key.is_expired(now):
            raise _failed("expired_key")
        if not api_key.user.is_active:
            raise _failed("inactive_user")
        apikey_touch(api_key=api_key, now=now)
        # For the request log line (labelhub.middleware), which sees the Django request, not DRF's.
        getattr(request, "_request", request).api_key_id = api_key.pk
        return api_key.user, api_key

    def authenticate_header(self, request):
        return f'{KEY_HEADER} realm="api"'


def _failed(reason: str) -> exceptions.AuthenticationFailed:
    metrics.auth_failure(reason)
    return exceptions.AuthenticationFailed(UNAUTHORIZED_DETAIL)
