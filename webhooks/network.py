"""Where a webhook may go, and the one HTTP request of an attempt.

The guard: an endpoint may not reach loopback, private, link-local,
multicast, reserved, shared or unspecified addresses (IPv4 and IPv6,
IPv4-mapped, 6to4 and Teredo included, site-local ``fec0::/10`` and the 6to4
relay anycast ``192.88.99.0/24`` too) unless
``WEBHOOKS_ALLOW_PRIVATE_NETWORKS``, nor a port other than 80, 443 and
``WEBHOOKS_ALLOWED_PORTS``. It is checked when an endpoint is
saved and again at every attempt against the addresses the name resolves to
then; the request connects to the address that was checked (the URL's name
goes in the Host header and the TLS SNI), so a name that changes its answer
between the check and the connection (DNS rebinding) cannot get past it.
Redirects are never followed.

A refusal never names the address a host resolved to: the message goes back
to whoever registered the URL (an agency), and telling them what an internal
name resolves to would make the guard a DNS oracle. The server log has it.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

EXCERPT_CHARS = 1000
_READ_AT_MOST = 16 * 1024
DEFAULT_PORTS = {"https": 443, "http": 80}

logger = logging.getLogger(__name__)

# Not global, but this Python's ipaddress tables call them global: site-local IPv6
# (deprecated by RFC 3879, still routed inside some networks), the 6to4 relay anycast
# prefix (RFC 7526: it reaches whichever relay is nearest, often an internal one) and
# the IPv6 documentation prefix of RFC 9637.
_ALSO_REFUSED = (
    ipaddress.ip_network("fec0::/10"),
    ipaddress.ip_network("192.88.99.0/24"),
    ipaddress.ip_network("3fff::/20"),
)


class DestinationRefused(Exception):
    """The URL may not be called (its form, scheme or port, or an address it resolves to).

    The message is shown to whoever registered the URL and stored with the attempt.
    """


def address_is_public(address: str) -> bool:
    """Whether ``address`` is a globally routable unicast address (what a webhook may reach)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d on the wire
            return address_is_public(str(ip.ipv4_mapped))
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not address_is_public(str(embedded)):
            return False
        if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64: the IPv4 address in its last 32 bits
            return address_is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    if any(ip in network for network in _ALSO_REFUSED if network.version == ip.version):
        return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (a literal address is its own answer)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query


def allowed_ports() -> set[int]:
    """80 and 443, and the extra ports ``WEBHOOKS_ALLOWED_PORTS`` names."""
    return {*DEFAULT_PORTS.values(), *settings.WEBHOOKS_ALLOWED_PORTS}


def parse_target(url: str) -> Target:
    """The URL's parts an attempt connects with; ``DestinationRefused`` for any URL not of that form.

    Both the check when an endpoint is saved and every attempt go through here, so a
    port or a form refused now is refused for an endpoint stored before.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # "http://[::1/", "http://[foo]/": unbalanced or non-address brackets
        raise DestinationRefused("The URL is not a valid URL (check the host name and any [IPv6] brackets)") from None
    if parts.scheme not in DEFAULT_PORTS or not host:
        raise DestinationRefused("The URL must be an absolute https:// URL")
    if parts.scheme == "http" and not settings.WEBHOOKS_ALLOW_HTTP:
        raise DestinationRefused("The URL must use https:// (http:// is allowed only with WEBHOOKS_ALLOW_HTTP)")
    _check_bracketed_host(parts.netloc.rpartition("@")[2])
    try:
        port = parts.port
    except ValueError:  # not digits, or beyond 65535
        raise DestinationRefused("The URL's port is not a valid port number") from None
    if port is None:
        port = DEFAULT_PORTS[parts.scheme]
    if port not in allowed_ports():
        ports = ", ".join(str(p) for p in sorted(allowed_ports()))
        raise DestinationRefused(f"The URL's port must be one of {ports} (more with WEBHOOKS_ALLOWED_PORTS)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port, path=path)


def _check_bracketed_host(netloc: str) -> None:
    """A ``[...]`` host is an IPv6 address followed by nothing or ``:port``.

    urlsplit lets "[::1]x" through as ::1 and "[v1.x]" as the name v1.x, which would
    then be looked up in DNS: neither is what the URL seems to say.
    """
    if "[" not in netloc and "]" not in netloc:
        return
    inside, closed, after = netloc.removeprefix("[").partition("]")
    try:
        ipaddress.IPv6Address(inside.split("%", 1)[0])
    except ValueError:
        closed = ""
    if not netloc.startswith("[") or not closed or (after and not after.startswith(":")) or "[" in inside:
        raise DestinationRefused("The URL is not a valid URL (check the host name and any [IPv6] brackets)")


def allowed_addresses(host: str, port: int) -> list[str]:
    """The addresses of ``host`` an attempt may connect to; refused if any of them is not public."""
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError) as exc:
        logger.info("webhook host %r does not resolve: %s", host, exc)
        addresses = []
    if settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
        if not addresses:
            raise DestinationRefused(f"The URL's host {host!r} does not resolve")
        return addresses
    refused = [address for address in addresses if not address_is_public(address)]
    if refused:
        logger.warning("webhook host %r refused: it resolves to %s", host, ", ".join(refused))
    if refused or not addresses:
        # One answer for "no such name" and "an internal name": telling them apart would
        # tell an agency which internal names exist.
        raise DestinationRefused(
            f"The URL's host {host!r} does not resolve to a public address; webhooks only reach public addresses"
        )
    return addresses


def check_url(url: str) -> None:
    """Refuse (``DestinationRefused``) a URL a delivery could not be sent to."""
    target = parse_target(url)
    allowed_addresses(target.host, target.port)


def _connect(address: str, port: int, *, connect_timeout: float, timeout: float) -> socket.socket:
    """A TCP connection within ``connect_timeout`` (a receiver that does not accept is given up early),
    then ``timeout`` for each read and write."""
    sock = socket.create_connection((address, port), connect_timeout)
    sock.settimeout(timeout)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to ``address``, whatever ``host`` resolves to now (``host`` stays the Host header)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float, connect_timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._connect_timeout = connect_timeout

    def connect(self):
        self.sock = _connect(self._address, self.port, connect_timeout=self._connect_timeout, timeout=self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to ``address``, the certificate checked against ``host`` (also sent as SNI)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float, connect_timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address
        self._connect_timeout = connect_timeout

    def connect(self):
        sock = _connect(self._address, self.port, connect_timeout=self._connect_timeout, timeout=self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Outcome:
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""
    address: str = ""
    duration_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, connect_timeout: float | None = None
) -> Outcome:
    """POST ``body`` to ``url`` once: the status and the start of the answer, or the error; never raises.

    The whole attempt (resolving, connecting, sending, reading) is cut off
    after ``timeout`` seconds, the connection alone after ``connect_timeout``.
    A redirect is an answer like any other (a failure).
    """
    started = time.monotonic()
    outcome = Outcome()
    connection = None
    watchdog = None
    try:
        target = parse_target(url)
        addresses = allowed_addresses(target.host, target.port)
        outcome.address = addresses[0]
        cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        connection = cls(
            target.host,
            target.port,
            address=addresses[0],
            timeout=timeout,
            connect_timeout=min(timeout, connect_timeout or timeout),
        )
        # The socket's timeout bounds each read; the watchdog bounds the attempt (a slow drip).
        watchdog = threading.Timer(max(0.0, timeout - (time.monotonic() - started)), _cut, args=(connection,))
        watchdog.daemon = True
        watchdog.start()
        connection.request("POST", target.path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        outcome.status_code = response.status
        data = response.read(_READ_AT_MOST)
        outcome.excerpt = data.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
        if 300 <= response.status < 400:
            outcome.error = f"Redirects are not followed (Location: {response.getheader('Location', '')[:200]})"
    except DestinationRefused as exc:
        outcome.error = str(exc)
    except TimeoutError:
        outcome.status_code = None
        outcome.error = f"No answer within {timeout:g} s"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        outcome.status_code = None
        if time.monotonic() - started >= timeout:
            outcome.error = f"No answer within {timeout:g} s"
        else:
            outcome.error = f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS]
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if connection is not None:
            connection.close()
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def _cut(connection: http.client.HTTPConnection) -> None:
    """The attempt ran out of time: shut the socket, so the blocked read returns."""
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
