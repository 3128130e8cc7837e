"""Fixtures shared by every app's tests."""

import os

import pytest
from rest_framework.test import APIClient

from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory

pytest_plugins = ["testing.azurite", "testing.browser"]


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"labelhub database: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('HOST') or db['NAME']})"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test gets its own MEDIA_ROOT, so local storage never leaks between tests."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    os.makedirs(settings.MEDIA_ROOT, exist_ok=True)


@pytest.fixture(autouse=True)
def _cache(settings, tmp_path):
    """Every test gets its own cache, of production's kind without Redis (files), so the API's failed-authentication
    counters of one test never throttle another, and runs side by side never clear each other's."""
    settings.CACHES = {"default": {"BACKEND": "core.cache.FileBasedCache", "LOCATION": str(tmp_path / "cache")}}


@pytest.fixture
def api_client():
    return APIClient()


def client_for(user):
    """An API client sending the two contract headers of a fresh key of ``user``."""
    issued = apikey_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHENTICATION_KEY=issued.apikey, HTTP_AUTHENTICATION_SECRET=issued.secret)
    client.user = user
    client.issued = issued
    return client


@pytest.fixture
def admin_user(db):
    return UserFactory(email="jayke@test.com", is_staff=True)


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


@pytest.fixture
def labeler_user(db):
    return UserFactory(email="agency@example.com")


@pytest.fixture
def labeler_client(labeler_user):
    return client_for(labeler_user)
