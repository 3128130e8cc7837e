"""The client's address: what the API-key throttle and the admin lockout count failures against."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The address the request came from: ``REMOTE_ADDR``, or the proxies' word for it.

    With ``TRUSTED_PROXY_COUNT`` = n, n proxies stand in front of labelhub and
    each appends the address it was connected from to ``X-Forwarded-For``, so
    the n-th entry from the right is the client as the outermost proxy saw it.
    Entries further left were written by the client itself and could name
    anyone: they are never read. A header with fewer entries than that, or an
    entry that is not an address, gives ``REMOTE_ADDR`` (the nearest proxy), so
    a broken chain shares one counter instead of trusting a forged one.
    Without trusted proxies the header is ignored altogether.
    """
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < proxies:
        return remote
    return _address(forwarded[-proxies]) or remote


def _address(value: str) -> str | None:
    """``value`` as an IP address in its canonical form (an IPv4-mapped IPv6 address as IPv4), or ``None``.

    Some proxies (Azure Application Gateway among them) append the client's
    port: ``192.0.2.1:4711`` and ``[2001:db8::1]:4711`` are read as the address.
    """
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)
