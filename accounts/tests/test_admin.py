import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import ApiKey
from accounts.services import apikey_issue, secret_matches
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def run_action(client, model, action, pks):
    url = reverse(f"admin:accounts_{model}_changelist")
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True)


def test_issue_key_action_shows_the_secret_once(staff_client):
    agency = UserFactory(email="agency@example.com")
    response = run_action(staff_client, "user", "issue_key", [agency.pk])
    messages = [str(m) for m in get_messages(response.wsgi_request)] or [
        str(m) for m in response.context["messages"]
    ]
    api_key = ApiKey.objects.get(user=agency)
    shown = next(m for m in messages if api_key.key in m)
    secret = shown.split("secret ")[1].split(" ")[0]
    assert secret_matches(secret, api_key.secret_hash)
    # Asking again shows the key but no secret.
    response = run_action(staff_client, "user", "issue_key", [agency.pk])
    again = [str(m) for m in response.context["messages"]]
    assert any("already has key" in m for m in again)
    assert not any(secret in m for m in again)


def test_rotate_action_replaces_the_secret(staff_client):
    agency = UserFactory(email="agency@example.com")
    old = apikey_issue(user=agency)
    run_action(staff_client, "user", "rotate_key", [agency.pk])
    assert not secret_matches(old.secret, ApiKey.objects.get(user=agency).secret_hash)


def test_revoke_action_revokes_and_cannot_be_undone(staff_client):
    issued = apikey_issue(user=UserFactory())
    run_action(staff_client, "apikey", "revoke", [issued.api_key.pk])
    issued.api_key.refresh_from_db()
    assert issued.api_key.revoked_at is not None
    response = run_action(staff_client, "apikey", "revoke", [issued.api_key.pk])
    assert any("already revoked" in str(m) for m in response.context["messages"])


def test_key_admin_pages_render(staff_client):
    issued = apikey_issue(user=UserFactory())
    assert staff_client.get(reverse("admin:accounts_apikey_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:accounts_apikey_change", args=[issued.api_key.pk])).status_code == 200
    assert staff_client.get(reverse("admin:accounts_user_change", args=[issued.api_key.user_id])).status_code == 200
    assert staff_client.get(reverse("admin:accounts_user_add")).status_code == 200


def test_add_user_form_creates_an_email_user(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {"email": "New@Example.com", "is_staff": "on", "usable_password": "false"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert ApiKey.objects.count() == 0


def test_labeler_cannot_use_the_admin(client):
    client.force_login(UserFactory(email="agency@example.com"))
    response = client.get(reverse("admin:accounts_apikey_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]
