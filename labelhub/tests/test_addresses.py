"""The client address the API throttle and the admin lockout count against (core.addresses)."""

import pytest
from django.test import RequestFactory

from core.addresses import client_address


def request_from(remote: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        pytest.param(0, "192.0.2.1", None, "192.0.2.1", id="direct"),
        pytest.param(0, "192.0.2.1", "198.51.100.7", "192.0.2.1", id="header-ignored-without-proxies"),
        pytest.param(1, "10.0.0.2", "198.51.100.7", "198.51.100.7", id="one-proxy"),
        pytest.param(1, "10.0.0.2", "203.0.113.5, 198.51.100.7", "198.51.100.7", id="client-prefix-not-believed"),
        pytest.param(2, "10.0.0.3", "203.0.113.5, 198.51.100.7, 10.0.0.2", "198.51.100.7", id="two-proxies"),
        pytest.param(2, "10.0.0.3", "198.51.100.7", "10.0.0.3", id="chain-shorter-than-the-proxies"),
        pytest.param(1, "10.0.0.2", None, "10.0.0.2", id="proxy-sent-no-header"),
        pytest.param(1, "10.0.0.2", "not-an-address", "10.0.0.2", id="garbage-entry"),
        pytest.param(1, "10.0.0.2", "198.51.100.7:4711", "198.51.100.7", id="ipv4-with-port"),
        pytest.param(1, "10.0.0.2", "[2001:DB8::7]:4711", "2001:db8::7", id="ipv6-with-port"),
        pytest.param(0, "::ffff:192.0.2.1", None, "192.0.2.1", id="ipv4-mapped"),
        pytest.param(0, "", None, None, id="no-address"),
    ],
)
def test_the_client_address_is_remote_addr_unless_trusted_proxies_say_otherwise(
    settings, proxies, remote, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(request_from(remote, forwarded)) == expected
