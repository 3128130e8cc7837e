"""Failed logins are limited: API-key failures per client address and per key id, admin sign-ins by django-axes.

API keys: the first failed authentication from an address (or naming a key
id) opens a window of ``API_AUTH_FAILURES_PER_ADDRESS`` (``..._PER_KEY``)
seconds; once the window holds ``count`` failures, every request from that
address (or naming that key) is answered 429 with ``Retry-After`` until the
window ends, right credentials or not. A request naming a key costs one cache
read before its key is looked up; only failures write. The counters are in
the default cache (``CACHES`` in settings), which every process shares:
Redis's ``SET NX`` and ``INCR`` are atomic, and so are those of
``labelhub.cache.FileBasedCache``, so failures sent in parallel are all counted.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.shortcuts import render
from rest_framework.exceptions import Throttled

from accounts.models import normalize_email
from labelhub import metrics
from labelhub.addresses import client_address

logger = logging.getLogger(__name__)

# Longer values name no key (``ApiKeyAuthentication`` refuses them unread): counted per address only.
KEY_MAX_LENGTH = 64
# An IPv6 client usually holds a whole /64: one address of it is no identity.
IPV6_PREFIX = 64


class AuthenticationThrottled(Throttled):
    default_detail = "Too many failed authentication attempts."


@dataclass(frozen=True)
class _Counter:
    """The failures of one address or one key id in its current window."""

    key: str  # the count; ``until_key`` holds when the window ends (both expire with it)
    limit: int
    window: int

    @property
    def until_key(self) -> str:
        return f"{self.key}:until"


def _counters(request, key: str | None) -> list[_Counter]:
    counters = []
    if settings.API_AUTH_FAILURES_PER_ADDRESS:
        limit, window = settings.API_AUTH_FAILURES_PER_ADDRESS
        counters.append(_Counter(f"authfail:address:{_address_ident(request)}", limit, window))
    key = (key or "").strip()
    if settings.API_AUTH_FAILURES_PER_KEY and key and len(key) <= KEY_MAX_LENGTH:
        limit, window = settings.API_AUTH_FAILURES_PER_KEY
        # Any bytes a client sends become a short, safe cache key (and no key id sits in the cache in clear).
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        counters.append(_Counter(f"authfail:key:{digest}", limit, window))
    return counters


def _address_ident(request) -> str:
    address = client_address(request)
    if address is None:
        return "unknown"
    if ":" in address:  # IPv6 (client_address gives IPv4 as dotted quads, mapped ones too)
        return ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False).with_prefixlen
    return address


def auth_failures_check(request, *, key: str | None) -> None:
    """Raise ``AuthenticationThrottled`` (429) while the request's address or ``key`` has used up its failures.

    One cache read (the counts of both at once), a second only for a request
    that is refused; a cache that cannot be reached lets the request through,
    so the API does not go down with it.
    """
    counters = _counters(request, key)
    if not counters:
        return
    try:
        counts = cache.get_many([counter.key for counter in counters])
        full = [counter for counter in counters if counts.get(counter.key, 0) >= counter.limit]
        if not full:
            return
        ends = cache.get_many([counter.until_key for counter in full])
    except Exception:  # noqa: BLE001 - an unreachable cache must not refuse every API request
        logger.warning("API authentication throttle: the cache did not answer; request not checked", exc_info=True)
        return
    now = time.time()
    wait = max(ends.get(counter.until_key, now + counter.window) - now for counter in full)
    metrics.auth_failure("throttled")
    raise AuthenticationThrottled(wait=max(wait, 1))


def auth_failure_record(request, *, key: str | None) -> None:
    """Count one failed authentication against the request's address and ``key``, the key id it named."""
    for counter in _counters(request, key):
        try:
            _count(counter)
        except Exception:  # noqa: BLE001 - the client is refused anyway; a cache outage must not make it a 500
            logger.warning("API authentication throttle: the cache did not answer; failure not counted", exc_info=True)
            return


def _count(counter: _Counter) -> None:
    for _ in range(2):
        # The first failure opens the window; the count and the window's end expire with it.
        if cache.add(counter.key, 1, timeout=counter.window):
            cache.set(counter.until_key, time.time() + counter.window, timeout=counter.window)
            return
        try:
            cache.incr(counter.key)
            return
        except ValueError:
            continue  # the window ended between the two calls: this failure opens the next one


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
