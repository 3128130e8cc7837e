"""Admin sign-in is locked out after repeated failures (django-axes, configured in settings)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
EMAIL = "staff@example.com"
PASSWORD = "staff-Password-for-tests-1"
CLIENT = "198.51.100.10"


@pytest.fixture
def staff(settings):
    # Dozens of sign-ins: the production hasher's deliberate slowness would only slow the tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 0
    return User.objects.create_superuser(email=EMAIL, password=PASSWORD)


def sign_in(password: str, *, email: str = EMAIL, address: str = CLIENT, **extra):
    """A fresh browser's sign-in: the answer, and whether it left the browser signed in."""
    browser = Client(REMOTE_ADDR=address, **extra)
    response = browser.post(LOGIN, {"username": email, "password": password, "next": "/admin/"})
    return response, "_auth_user_id" in browser.session


def test_admin_sign_in_locks_out_after_the_configured_failures(staff):
    for _ in range(2):
        response, signed_in = sign_in("wrong")
        assert response.status_code == 200 and not signed_in
        assert "Please enter the correct" in response.content.decode()

    response, _ = sign_in("wrong")

    assert response.status_code == 429
    assert int(response["Retry-After"]) == 15 * 60
    page = response.content.decode()
    assert "Too many failed sign-ins" in page and "15 minutes" in page and EMAIL in page


def test_the_right_password_is_refused_while_locked_out_but_not_from_elsewhere(staff):
    for _ in range(3):
        sign_in("wrong")

    response, signed_in = sign_in(PASSWORD)
    assert response.status_code == 429 and not signed_in

    response, signed_in = sign_in(PASSWORD, address="203.0.113.20")
    assert response.status_code == 302 and signed_in


def test_the_lockout_counts_an_email_whatever_its_case(staff):
    for email in ("Staff@Example.com", " STAFF@example.com", EMAIL):
        sign_in("wrong", email=email)

    response, signed_in = sign_in(PASSWORD)
    assert response.status_code == 429 and not signed_in


def test_other_accounts_can_sign_in_from_a_locked_out_address(staff):
    User.objects.create_superuser(email="other@example.com", password=PASSWORD)
    for _ in range(3):
        sign_in("wrong")

    response, signed_in = sign_in(PASSWORD, email="other@example.com")
    assert response.status_code == 302 and signed_in


def test_a_successful_sign_in_forgets_earlier_failures(staff):
    for _ in range(2):
        sign_in("wrong")
    assert sign_in(PASSWORD)[1]

    for _ in range(2):
        sign_in("wrong")
    assert sign_in(PASSWORD)[1]


def test_the_lockout_counts_the_address_a_trusted_proxy_forwarded(staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(3):
        sign_in("wrong", address="10.0.0.2", HTTP_X_FORWARDED_FOR=CLIENT)

    assert AccessAttempt.objects.get().ip_address == CLIENT
    response, signed_in = sign_in(PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR=CLIENT)
    assert response.status_code == 429 and not signed_in
    response, signed_in = sign_in(PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.20")
    assert response.status_code == 302 and signed_in
