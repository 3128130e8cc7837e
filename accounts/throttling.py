"""Failed logins are limited: API-key failures per client address and per key id, admin sign-ins by django-axes.

API keys: the first failed authentication from an address (or naming a key
id) opens a window of ``API_AUTH_FAILURES_PER_ADDRESS`` (``..._PER_KEY``)
seconds; once the window holds ``count`` failures, every request from that
address (or naming that key) is answered 429 with ``Retry-After`` until the
window ends, right credentials or not.

Two stores, each for what it does best:

- The counting is in the default cache (``CACHES`` in settings), which every
  process shares: Redis's ``SET NX`` and ``INCR`` are atomic, and so are those
  of ``core.cache.FileBasedCache``, so failures sent in parallel are all
  counted. Only failures touch it.
- The block is a row (``AuthBlock``), written once, by the failure that fills
  a window, and read by the API-key lookup itself
  (``accounts.authentication``): the block state rides on the key lookup, so
  a successful request costs no cache round trip (~150-200 µs on Redis,
  measured) and still one query. A failure whose key the lookup did not find
  (or that named none) reads the blocks with one small query of its own.

A cache that cannot be reached lets requests through uncounted, so the API
does not go down with it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.db.models import Max, Q
from django.shortcuts import render
from django.utils import timezone
from rest_framework.exceptions import Throttled

from accounts.models import AuthBlock, normalize_email
from core import metrics
from core.addresses import client_address

logger = logging.getLogger(__name__)

# Longer values name no key (``ApiKeyAuthentication`` refuses them unread): counted per address only.
KEY_MAX_LENGTH = AuthBlock._meta.get_field("value").max_length
# An IPv6 client usually holds a whole /64: one address of it is no identity.
IPV6_PREFIX = 64


class AuthenticationThrottled(Throttled):
    default_detail = "Too many failed authentication attempts."


def address_ident(request) -> str:
    """The client address failures count against: an IPv6 client as its /64."""
    address = client_address(request)
    if address is None:
        return "unknown"
    if ":" in address:  # IPv6 (client_address gives IPv4 as dotted quads, mapped ones too)
        return ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False).with_prefixlen
    return address


def key_ident(key: str | None) -> str:
    """The key id failures count against, as sent; empty for one that can name no key (too long, NUL)."""
    key = (key or "").strip()
    return key if len(key) <= KEY_MAX_LENGTH and "\x00" not in key else ""


def auth_block_check(until: datetime | None, *, now: datetime) -> None:
    """Raise ``AuthenticationThrottled`` (429, ``Retry-After``: the seconds left) while a block ``until`` holds."""
    if until is not None and until > now:
        metrics.auth_failure("throttled")
        raise AuthenticationThrottled(wait=max((until - now).total_seconds(), 1))


def auth_block_until(*, address: str, key: str) -> datetime | None:
    """When the block on ``address`` or on key id ``key`` ends (``None``: none), for a request whose key was not found.

    A found key brings this along from its lookup (``ApiKey.blocked_until``).
    """
    blocks = Q(kind=AuthBlock.Kind.ADDRESS, value=address)
    if key:
        blocks |= Q(kind=AuthBlock.Kind.KEY, value=key)
    return AuthBlock.objects.filter(blocks).aggregate(until=Max("until"))["until"]


@dataclass(frozen=True)
class _Counter:
    """The failures of one address or one key id in its current window."""

    kind: AuthBlock.Kind
    value: str
    limit: int
    window: int

    @property
    def key(self) -> str:
        """The count's cache key; ``until_key`` holds when the window ends (both expire with it)."""
        if self.kind == AuthBlock.Kind.ADDRESS:
            return f"authfail:address:{self.value}"
        # Any bytes a client sends become a short, safe cache key (and no key id sits in the cache in clear).
        return f"authfail:key:{hashlib.sha256(self.value.encode('utf-8', 'surrogateescape')).hexdigest()[:32]}"

    @property
    def until_key(self) -> str:
        return f"{self.key}:until"


def _counters(address: str, key: str) -> list[_Counter]:
    counters = []
    if settings.API_AUTH_FAILURES_PER_ADDRESS:
        limit, window = settings.API_AUTH_FAILURES_PER_ADDRESS
        counters.append(_Counter(AuthBlock.Kind.ADDRESS, address, limit, window))
    if settings.API_AUTH_FAILURES_PER_KEY and key:
        limit, window = settings.API_AUTH_FAILURES_PER_KEY
        counters.append(_Counter(AuthBlock.Kind.KEY, key, limit, window))
    return counters


def auth_failure_record(*, address: str, key: str) -> None:
    """Count one failed authentication against ``address`` and key id ``key`` (``address_ident``, ``key_ident``).

    The failure that fills a window writes the block, which holds until the
    window ends; the request that made it is still answered 401, the next 429.
    """
    for counter in _counters(address, key):
        try:
            full = _count(counter) >= counter.limit
            ends = (cache.get(counter.until_key) or time.time() + counter.window) if full else None
        except Exception:  # noqa: BLE001 - the client is refused anyway; a cache outage must not make it a 500
            logger.warning("API authentication throttle: the cache did not answer; failure not counted", exc_info=True)
            return
        if full:
            _block(counter, until=datetime.fromtimestamp(ends, tz=UTC))


def _count(counter: _Counter) -> int:
    """One more failure in ``counter``'s window; the count it reached (0: not counted)."""
    for _ in range(2):
        # The first failure opens the window; the count and the window's end expire with it.
        if cache.add(counter.key, 1, timeout=counter.window):
            cache.set(counter.until_key, time.time() + counter.window, timeout=counter.window)
            return 1
        try:
            return cache.incr(counter.key)
        except ValueError:
            continue  # the window ended between the two calls: this failure opens the next one
    return 0


def _block(counter: _Counter, *, until: datetime) -> None:
    """Block ``counter``'s address or key id until ``until`` (one upsert); ended blocks go, so the table stays tiny."""
    AuthBlock.objects.filter(until__lt=timezone.now()).delete()
    AuthBlock.objects.bulk_create(
        [AuthBlock(kind=counter.kind, value=counter.value, until=until)],
        update_conflicts=True,
        unique_fields=["kind", "value"],
        update_fields=["until"],
    )


def admin_login_username(request, credentials: dict | None) -> str:
    """The e-mail an admin sign-in names, as accounts stores it: ``Staff@X`` and ``staff@x`` share one lockout."""
    username = (credentials or {}).get("username")
    if username is None:
        username = request.POST.get("username", "")
    return normalize_email(username)


def admin_lockout_response(request, original_response, credentials: dict | None):
    """What a locked-out admin sign-in gets: a page in the admin's look saying why and for how long (429)."""
    seconds = int(get_cool_off(request).total_seconds())
    context = {
        **admin.site.each_context(request),
        "title": "Sign-in paused",
        "username": admin_login_username(request, credentials),
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": max(1, math.ceil(seconds / 60)),
    }
    response = render(request, "admin/labelhub/locked_out.html", context, status=429)
    # Every try during the lockout starts the cool-off again (django-axes), so the wait is always all of it.
    response["Retry-After"] = str(seconds)
    return response
