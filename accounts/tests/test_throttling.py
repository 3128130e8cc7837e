"""Failed API-key authentications are throttled per client address and per key id (accounts.throttling)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.utils import timezone
from prometheus_client import REGISTRY

from accounts.models import ApiKey, AuthBlock
from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from accounts.throttling import auth_block_until, auth_failure_record
from core.exceptions import UNAUTHORIZED_DETAIL

pytestmark = [pytest.mark.django_db, pytest.mark.urls("accounts.tests.urls")]

URL = "/api/v1/admin-only"
ROOT = Path(__file__).resolve().parents[2]
# The Redis the serve tests use (.ci/run starts it).
REDIS_URL = os.environ.get("IMAGESETS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CLIENT = "198.51.100.10"
OTHER_CLIENT = "203.0.113.20"


@pytest.fixture
def limits(settings):
    """Three failures per address and per key in a minute; each test loosens what it does not look at."""
    settings.API_AUTH_FAILURES_PER_ADDRESS = (3, 60)
    settings.API_AUTH_FAILURES_PER_KEY = (3, 60)
    settings.TRUSTED_PROXY_COUNT = 0
    return settings


@pytest.fixture
def admin_key(admin_user):
    return apikey_issue(user=admin_user)


def get(client, key, secret, address=CLIENT, **extra):
    return client.get(URL, HTTP_AUTHENTICATION_KEY=key, HTTP_AUTHENTICATION_SECRET=secret, REMOTE_ADDR=address, **extra)


def wrong_secrets(client, key, count, address=CLIENT, **extra):
    for _ in range(count):
        response = get(client, key, "0" * 32, address, **extra)
        assert response.status_code == 401
        assert response.json()["detail"] == UNAUTHORIZED_DETAIL


def throttled_count() -> float:
    return REGISTRY.get_sample_value("labelhub_api_key_auth_failures_total", {"reason": "throttled"})


@pytest.fixture
def cache_calls(monkeypatch):
    """Every call the request makes to the cache, by method name."""
    calls = []
    backend = caches["default"]

    def spy(name, method):
        def call(*args, **kwargs):
            calls.append(name)
            return method(*args, **kwargs)

        return call

    for name in ("get", "get_many", "has_key", "add", "set", "incr", "delete"):
        monkeypatch.setattr(backend, name, spy(name, getattr(backend, name)))
    return calls


def assert_throttled(response):
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["detail"].startswith("Too many failed authentication attempts.")


def test_a_burst_of_wrong_secrets_turns_into_429_with_retry_after(api_client, admin_key, limits):
    throttled_before = throttled_count()
    wrong_secrets(api_client, admin_key.apikey, 3)

    response = get(api_client, admin_key.apikey, "0" * 32)

    assert_throttled(response)
    assert response.json()["status"] == 429
    assert throttled_count() == throttled_before + 1


def test_the_right_secret_is_refused_unread_while_the_address_is_blocked(
    api_client, admin_key, limits, django_assert_num_queries, cache_calls
):
    limits.API_AUTH_FAILURES_PER_KEY = None
    wrong_secrets(api_client, "0" * 32, 3)  # guessing at keys: the real key is not named
    assert "incr" in cache_calls  # failures count in the cache (the spy sees them)
    cache_calls.clear()

    # The block came with the key's lookup: refused before the secret is compared, nothing written, nothing counted.
    with django_assert_num_queries(1):
        response = get(api_client, admin_key.apikey, admin_key.secret)

    assert_throttled(response)
    assert cache_calls == []
    assert ApiKey.objects.get(pk=admin_key.api_key.pk).last_used_at is None


def test_a_successful_request_reads_no_cache_and_makes_one_query(
    api_client, admin_key, limits, django_assert_num_queries, cache_calls
):
    get(api_client, admin_key.apikey, admin_key.secret)  # records last_used_at (one write), later ones do not

    with django_assert_num_queries(1):
        assert get(api_client, admin_key.apikey, admin_key.secret).status_code == 200

    assert cache_calls == []


def test_a_block_is_one_row_and_writing_one_deletes_those_that_ended(api_client, admin_key, limits):
    limits.API_AUTH_FAILURES_PER_ADDRESS = None
    AuthBlock.objects.create(kind=AuthBlock.Kind.ADDRESS, value="192.0.2.7", until=timezone.now() - timedelta(1))
    wrong_secrets(api_client, admin_key.apikey, 2)
    assert not AuthBlock.objects.filter(kind=AuthBlock.Kind.KEY).exists()  # no row before the window is full

    wrong_secrets(api_client, admin_key.apikey, 1)

    block = AuthBlock.objects.get()
    assert (block.kind, block.value) == (AuthBlock.Kind.KEY, admin_key.apikey)
    assert 58 < (block.until - timezone.now()).total_seconds() <= 60


def test_another_address_is_not_affected(api_client, admin_key, limits):
    limits.API_AUTH_FAILURES_PER_KEY = None
    wrong_secrets(api_client, admin_key.apikey, 3)
    assert_throttled(get(api_client, admin_key.apikey, admin_key.secret))

    assert get(api_client, admin_key.apikey, admin_key.secret, OTHER_CLIENT).status_code == 200


def test_the_block_ends_with_the_window_the_first_failure_opened(api_client, admin_key, limits):
    limits.API_AUTH_FAILURES_PER_ADDRESS = limits.API_AUTH_FAILURES_PER_KEY = (3, 2)
    wrong_secrets(api_client, admin_key.apikey, 1)
    opened = time.monotonic()  # the window opened during that request, so it ends before opened + 2
    wrong_secrets(api_client, admin_key.apikey, 2)
    response = get(api_client, admin_key.apikey, admin_key.secret)
    assert_throttled(response)
    assert response["Retry-After"] in ("1", "2")

    time.sleep(max(0.0, opened + 2.1 - time.monotonic()))
    assert get(api_client, admin_key.apikey, admin_key.secret).status_code == 200


def test_failures_naming_one_key_block_that_key_from_every_address(api_client, admin_key, limits):
    limits.API_AUTH_FAILURES_PER_ADDRESS = None
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        wrong_secrets(api_client, admin_key.apikey, 1, address)

    assert_throttled(get(api_client, admin_key.apikey, admin_key.secret, "192.0.2.4"))
    other = apikey_issue(user=UserFactory(email="other-admin@example.com", is_staff=True))
    assert get(api_client, other.apikey, other.secret, "192.0.2.4").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"HTTP_AUTHENTICATION_KEY": "0" * 32, "HTTP_AUTHENTICATION_SECRET": "0" * 32}, id="unknown-key"),
        pytest.param({"HTTP_AUTHENTICATION_SECRET": "0" * 32}, id="missing-key-header"),
        pytest.param({"HTTP_AUTHENTICATION_KEY": "k" * 65, "HTTP_AUTHENTICATION_SECRET": "s"}, id="oversized-key"),
    ],
)
def test_every_kind_of_failure_counts_against_the_address(api_client, admin_key, limits, headers):
    for _ in range(3):
        assert api_client.get(URL, REMOTE_ADDR=CLIENT, **headers).status_code == 401

    assert_throttled(get(api_client, admin_key.apikey, admin_key.secret))


def test_successful_requests_never_count(api_client, admin_key, limits):
    limits.API_AUTH_FAILURES_PER_ADDRESS = limits.API_AUTH_FAILURES_PER_KEY = (2, 60)
    for _ in range(20):
        assert get(api_client, admin_key.apikey, admin_key.secret).status_code == 200

    wrong_secrets(api_client, admin_key.apikey, 1)
    assert get(api_client, admin_key.apikey, admin_key.secret).status_code == 200


def test_requests_without_any_key_are_not_failures(api_client, admin_key, limits):
    for _ in range(5):
        assert api_client.get(URL, REMOTE_ADDR=CLIENT).status_code == 401

    assert get(api_client, admin_key.apikey, admin_key.secret).status_code == 200


def test_a_trusted_proxy_setting_picks_the_forwarded_address(api_client, admin_key, limits):
    limits.API_AUTH_FAILURES_PER_KEY = None
    limits.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    wrong_secrets(api_client, admin_key.apikey, 3, proxy, HTTP_X_FORWARDED_FOR=CLIENT)

    # The client's own entries left of the proxy's are not believed: still the blocked client.
    forged = get(api_client, admin_key.apikey, admin_key.secret, proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.99, {CLIENT}")
    assert_throttled(forged)
    other = get(api_client, admin_key.apikey, admin_key.secret, proxy, HTTP_X_FORWARDED_FOR=OTHER_CLIENT)
    assert other.status_code == 200


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(api_client, admin_key, limits):
    limits.API_AUTH_FAILURES_PER_KEY = None
    for n in range(3):
        wrong_secrets(api_client, admin_key.apikey, 1, CLIENT, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    assert_throttled(get(api_client, admin_key.apikey, admin_key.secret, CLIENT, HTTP_X_FORWARDED_FOR="192.0.2.50"))


def test_ipv6_clients_are_counted_per_64_prefix(api_client, admin_key, limits):
    limits.API_AUTH_FAILURES_PER_KEY = None
    for host in ("1", "2", "3"):
        wrong_secrets(api_client, admin_key.apikey, 1, f"2001:db8:0:1::{host}")

    assert_throttled(get(api_client, admin_key.apikey, admin_key.secret, "2001:db8:0:1:ffff::9"))
    assert get(api_client, admin_key.apikey, admin_key.secret, "2001:db8:0:2::1").status_code == 200


def test_an_unreachable_cache_lets_requests_through_rather_than_failing_them(api_client, admin_key, limits):
    limits.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    wrong_secrets(api_client, admin_key.apikey, 4)

    assert get(api_client, admin_key.apikey, admin_key.secret).status_code == 200


def test_failures_counted_in_one_process_block_in_another(api_client, admin_key, limits):
    """The web workers are processes: the counters must be in the shared cache, not in one worker's memory."""
    limits.API_AUTH_FAILURES_PER_KEY = None
    record = textwrap.dedent(
        f"""
        import django
        django.setup()
        from accounts.throttling import auth_failure_record
        for _ in range(2):
            auth_failure_record(address="{CLIENT}", key="")
        """
    )
    environment = {
        "DJANGO_SETTINGS_MODULE": "labelhub.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "throttle-test-secret-key-never-used-in-production",
        "CACHE_DIR": django_settings.CACHES["default"]["LOCATION"],
        "API_AUTH_FAILURES_PER_ADDRESS": "3/1m",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", record], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert get(api_client, admin_key.apikey, admin_key.secret).status_code == 200

    wrong_secrets(api_client, "0" * 32, 1)  # the third, counted here, fills the window

    assert_throttled(get(api_client, admin_key.apikey, admin_key.secret))


@pytest.mark.parametrize("backend", ["files", "redis"])
def test_failures_sent_at_the_same_moment_are_all_counted(admin_key, limits, backend):
    """Counting is one atomic step in the shared cache: parallel guesses do not slip through uncounted."""
    if backend == "redis":
        limits.CACHES = {
            "default": {
                "BACKEND": "core.cache.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",  # runs side by side share the server
            }
        }
    limits.API_AUTH_FAILURES_PER_ADDRESS = (40, 60)
    limits.API_AUTH_FAILURES_PER_KEY = None
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: auth_failure_record(address=CLIENT, key=""), range(39)))
    assert auth_block_until(address=CLIENT, key="") is None  # 39 of 40: not yet

    auth_failure_record(address=CLIENT, key="")
    assert auth_block_until(address=CLIENT, key="") > timezone.now()
