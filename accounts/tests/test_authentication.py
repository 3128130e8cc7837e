from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.decorators import api_view
from rest_framework.response import Response

from accounts.services import apikey_issue, apikey_revoke, apikey_rotate
from accounts.tests.factories import UserFactory
from core.exceptions import UNAUTHORIZED_DETAIL

pytestmark = [pytest.mark.django_db, pytest.mark.urls("accounts.tests.urls")]

URL = "/api/v1/admin-only"


def headers(key, secret):
    h = {}
    if key is not None:
        h["HTTP_AUTHENTICATION_KEY"] = key
    if secret is not None:
        h["HTTP_AUTHENTICATION_SECRET"] = secret
    return h


@pytest.fixture
def admin_key(admin_user):
    return apikey_issue(user=admin_user)


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response.json()["detail"] == UNAUTHORIZED_DETAIL


def test_valid_key_and_secret_authenticate(api_client, admin_key):
    response = api_client.get(URL, **headers(admin_key.apikey, admin_key.secret))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda k, s: ("0" * 32, s), id="wrong-key"),
        pytest.param(lambda k, s: (k, "0" * 32), id="wrong-secret"),
        pytest.param(lambda k, s: (None, s), id="missing-key"),
        pytest.param(lambda k, s: (k, None), id="missing-secret"),
        pytest.param(lambda k, s: (None, None), id="no-headers"),
        pytest.param(lambda k, s: ("", ""), id="empty-headers"),
        pytest.param(lambda k, s: (k * 10, s), id="oversized-key"),
    ],
)
def test_bad_credentials_are_unauthorized(api_client, admin_key, mangle):
    key, secret = mangle(admin_key.apikey, admin_key.secret)
    assert_unauthorized(api_client.get(URL, **headers(key, secret)))


def test_disabled_user_is_unauthorized(api_client, admin_key, admin_user):
    admin_user.is_active = False
    admin_user.save()
    assert_unauthorized(api_client.get(URL, **headers(admin_key.apikey, admin_key.secret)))


def test_revoked_key_is_unauthorized(api_client, admin_key):
    apikey_revoke(api_key=admin_key.api_key)
    assert_unauthorized(api_client.get(URL, **headers(admin_key.apikey, admin_key.secret)))


def test_expired_key_is_unauthorized(api_client, admin_key):
    admin_key.api_key.expires_at = timezone.now() - timedelta(seconds=1)
    admin_key.api_key.save()
    assert_unauthorized(api_client.get(URL, **headers(admin_key.apikey, admin_key.secret)))


def test_key_with_future_expiry_works(api_client, admin_key):
    admin_key.api_key.expires_at = timezone.now() + timedelta(days=1)
    admin_key.api_key.save()
    assert api_client.get(URL, **headers(admin_key.apikey, admin_key.secret)).status_code == 200


def test_rotated_away_secret_is_unauthorized_and_new_one_works(api_client, admin_key, admin_user):
    rotated = apikey_rotate(user=admin_user)
    assert rotated.apikey == admin_key.apikey
    assert_unauthorized(api_client.get(URL, **headers(admin_key.apikey, admin_key.secret)))
    assert api_client.get(URL, **headers(rotated.apikey, rotated.secret)).status_code == 200


def test_unauthorized_answer_names_the_scheme(api_client):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert "Authentication-Key" in response["WWW-Authenticate"]


def test_labeler_is_unauthorized_on_admin_endpoints(api_client):
    labeler = apikey_issue(user=UserFactory())
    assert_unauthorized(api_client.get(URL, **headers(labeler.apikey, labeler.secret)))


def test_authentication_costs_one_query(rf, admin_key, django_assert_num_queries):
    @api_view(["GET"])
    def whoami(request):
        return Response({"email": request.user.email})

    request = rf.get("/api/v1/whoami", **headers(admin_key.apikey, admin_key.secret))
    # last_used_at was just written at issue time? No: it is empty, so the first
    # request records it (one write); later ones inside the interval do not.
    with django_assert_num_queries(2):
        assert whoami(request).data == {"email": "jayke@test.com"}
    request = rf.get("/api/v1/whoami", **headers(admin_key.apikey, admin_key.secret))
    with django_assert_num_queries(1):
        assert whoami(request).status_code == 200


def test_last_used_is_written_at_most_once_per_interval(api_client, admin_key, settings):
    settings.API_KEY_LAST_USED_INTERVAL = 60
    api_client.get(URL, **headers(admin_key.apikey, admin_key.secret))
    admin_key.api_key.refresh_from_db()
    first = admin_key.api_key.last_used_at
    assert first is not None
    api_client.get(URL, **headers(admin_key.apikey, admin_key.secret))
    admin_key.api_key.refresh_from_db()
    assert admin_key.api_key.last_used_at == first


def test_secret_is_stored_only_as_a_hash(admin_key):
    stored = admin_key.api_key.secret_hash
    assert admin_key.secret not in stored
    assert len(stored) == 64


def test_the_precompiled_key_lookup_loads_the_same_key_and_user_as_the_orm(admin_user):
    from accounts.authentication import unrevoked_key_with_user
    from accounts.models import ApiKey, AuthBlock

    issued = apikey_issue(user=admin_user)
    ApiKey.objects.filter(key=issued.apikey).update(
        last_used_at=timezone.now(), expires_at=timezone.now() + timedelta(days=3)
    )

    found = unrevoked_key_with_user(issued.apikey, address="192.0.2.1")
    expected = ApiKey.objects.select_related("user").get(key=issued.apikey)

    for field in ApiKey._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    for field in type(expected.user)._meta.concrete_fields:
        value, wanted = getattr(found.user, field.attname), getattr(expected.user, field.attname)
        assert (value, type(value)) == (wanted, type(wanted)), field.name
    assert found.created_at.tzinfo is not None and found.user.is_staff is True
    assert not found._state.adding
    assert found.blocked_until is None

    # The throttle's blocks on this key id or this address come along; the latest end wins.
    now = timezone.now().replace(microsecond=123456)
    AuthBlock.objects.create(kind=AuthBlock.Kind.KEY, value=issued.apikey, until=now + timedelta(seconds=30))
    AuthBlock.objects.create(kind=AuthBlock.Kind.ADDRESS, value="192.0.2.1", until=now + timedelta(seconds=90))
    AuthBlock.objects.create(kind=AuthBlock.Kind.ADDRESS, value="192.0.2.2", until=now + timedelta(seconds=500))
    AuthBlock.objects.create(kind=AuthBlock.Kind.KEY, value="192.0.2.1", until=now + timedelta(seconds=700))
    assert unrevoked_key_with_user(issued.apikey, address="192.0.2.1").blocked_until == now + timedelta(seconds=90)
    assert unrevoked_key_with_user(issued.apikey, address="192.0.2.9").blocked_until == now + timedelta(seconds=30)

    apikey_revoke(api_key=expected)
    assert unrevoked_key_with_user(issued.apikey, address="192.0.2.1") is None
    assert unrevoked_key_with_user("nul\x00key", address="192.0.2.1") is None
