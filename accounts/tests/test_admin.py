import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import ApiKey, AuditEvent, User
from accounts.services import apikey_issue, apikey_revoke, secret_matches
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
    messages = [str(m) for m in get_messages(response.wsgi_request)] or [str(m) for m in response.context["messages"]]
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


# --- the secrets page -------------------------------------------------------------------


def shown_secret(response, row: int = 1) -> str | None:
    match = re.search(rf'<code class="lh-secret" id="lh-secret-{row}">([0-9a-f]+)</code>', response.content.decode())
    return match.group(1) if match else None


def test_issued_secrets_are_shown_on_the_answer_only_and_never_stored(staff_client):
    agency = UserFactory(email="agency@example.com")

    response = run_action(staff_client, "user", "issue_key", [agency.pk])

    assert response.redirect_chain == []  # the answer to the POST itself
    assert "no-store" in response["Cache-Control"]
    secret = shown_secret(response)
    assert secret_matches(secret, ApiKey.objects.get(user=agency).secret_hash)
    assert 'data-copy-target="lh-secret-1"' in response.content.decode()
    later = staff_client.get(reverse("admin:accounts_apikey_changelist"))
    assert secret not in later.content.decode()
    assert secret not in str(staff_client.cookies) and secret not in str(dict(staff_client.session))


def test_the_key_add_page_issues_a_key_to_an_existing_user(staff_client):
    agency = UserFactory(email="agency@example.com")

    response = staff_client.post(reverse("admin:accounts_apikey_add"), {"email": "Agency@Example.com"})

    assert response.status_code == 200
    api_key = ApiKey.objects.get(user=agency)
    assert api_key.key in response.content.decode()
    assert secret_matches(shown_secret(response), api_key.secret_hash)


@pytest.mark.parametrize(
    "email, reason",
    [
        ("nobody@example.com", "No user has this e-mail"),
        ("agency@example.com", "already has an active key"),
        ("not-an-email", "valid email"),
    ],
)
def test_the_key_add_page_refuses_and_issues_nothing(staff_client, email, reason):
    apikey_issue(user=UserFactory(email="agency@example.com"))
    before = list(ApiKey.objects.values_list("id", "secret_hash"))

    response = staff_client.post(reverse("admin:accounts_apikey_add"), {"email": email})

    assert response.status_code == 200
    assert reason.lower() in " ".join(response.context["form"].errors["email"]).lower()
    assert list(ApiKey.objects.values_list("id", "secret_hash")) == before
    assert User.objects.filter(email="nobody@example.com").count() == 0


def test_the_key_list_rotates_active_keys_and_refuses_revoked_ones(staff_client):
    active = apikey_issue(user=UserFactory(email="agency@example.com"))
    revoked = apikey_issue(user=UserFactory(email="gone@example.com"))
    apikey_revoke(api_key=revoked.api_key)
    revoked_hash = ApiKey.objects.get(pk=revoked.api_key.pk).secret_hash

    response = run_action(staff_client, "apikey", "rotate", [active.api_key.pk, revoked.api_key.pk])

    active.api_key.refresh_from_db()
    new_secret = shown_secret(response)
    assert secret_matches(new_secret, active.api_key.secret_hash)
    assert not secret_matches(active.secret, active.api_key.secret_hash)
    assert active.api_key.rotated_at is not None
    assert any("a revoked key cannot be rotated" in str(m) for m in response.context["messages"])
    assert ApiKey.objects.get(pk=revoked.api_key.pk).secret_hash == revoked_hash
    assert ApiKey.objects.count() == 2


def test_the_key_list_shows_when_a_key_was_last_used(staff_client):
    issued = apikey_issue(user=UserFactory())
    ApiKey.objects.filter(pk=issued.api_key.pk).update(last_used_at="2024-05-06T07:08:09Z")
    page = staff_client.get(reverse("admin:accounts_apikey_changelist")).content.decode()
    assert "May 6, 2024" in page


@pytest.mark.parametrize("who", ["anonymous", "labeler", "image-admin"])
def test_only_users_with_key_permissions_manage_keys(client, who):
    agency = UserFactory(email="agency@example.com")
    issued = apikey_issue(user=agency)
    if who == "labeler":
        client.force_login(agency)
    elif who == "image-admin":
        # Keys and users stay under Django's permissions: a plain image-admin cannot take over keys.
        client.force_login(UserFactory(email="imageadmin@example.com", is_staff=True))
    before = list(ApiKey.objects.values_list("id", "secret_hash", "revoked_at"))

    requests = [
        client.get(reverse("admin:accounts_apikey_changelist")),
        client.get(reverse("admin:accounts_apikey_add")),
        client.post(reverse("admin:accounts_apikey_add"), {"email": "agency@example.com"}),
        run_action(client, "apikey", "rotate", [issued.api_key.pk]),
        run_action(client, "apikey", "revoke", [issued.api_key.pk]),
        run_action(client, "user", "rotate_key", [agency.pk]),
    ]

    for response in requests:
        assert response.status_code in (302, 403) or "/login/" in response.wsgi_request.path
        assert issued.apikey not in response.content.decode()
    assert list(ApiKey.objects.values_list("id", "secret_hash", "revoked_at")) == before


@pytest.mark.parametrize("model, action", [("user", "issue_key"), ("apikey", "revoke")])
@pytest.mark.parametrize("bad", ["\u00b2", str(2**64), "1x"])
def test_an_action_on_an_odd_selection_changes_nothing_and_never_errors(staff_client, model, action, bad):
    target = UserFactory(email="agency@example.com")
    key = apikey_issue(user=target)
    response = staff_client.post(
        reverse(f"admin:accounts_{model}_changelist"), {"action": action, "_selected_action": [bad]}, follow=True
    )
    assert response.status_code == 200
    assert any("invalid id" in str(m) for m in get_messages(response.wsgi_request))
    assert ApiKey.objects.get(key=key.apikey).revoked_at is None
    assert ApiKey.objects.filter(user=target).count() == 1


@pytest.mark.parametrize("bad", ["%C2%B2", str(2**64)])
def test_a_change_page_of_an_odd_id_is_not_found_not_an_error(staff_client, bad):
    response = staff_client.get(f"/admin/accounts/user/{bad}/change/", follow=True)
    assert response.status_code in (200, 404)
    assert response.status_code == 404 or b"doesn" in response.content


# --- flags changed in the admin: audited, and a deactivated user's webhooks disabled -------


def change_user(client, user, **flags):
    """The user's change page posted with ``flags`` (the others as they are)."""
    data = {
        "email": user.email,
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
        "api_keys-TOTAL_FORMS": "0",
        "api_keys-INITIAL_FORMS": "0",
    }
    for name in ("is_active", "is_staff", "is_superuser"):
        if flags.get(name, getattr(user, name)):
            data[name] = "on"
    return client.post(reverse("admin:accounts_user_change", args=[user.pk]), data)


def test_deactivating_a_user_in_the_admin_disables_their_webhooks_saying_why(staff_client):
    from webhooks.models import Webhook
    from webhooks.services import OWNER_DEACTIVATED, webhook_create

    agency = UserFactory(email="agency@example.com")
    webhook = webhook_create(url="https://93.184.216.34/hook", events=["campaign.activated"], owner=agency)

    response = change_user(staff_client, agency, is_active=False)

    assert response.status_code == 302, response.content[:3000]
    assert not User.objects.get(pk=agency.pk).is_active
    webhook = Webhook.objects.get(pk=webhook.pk)
    assert (webhook.active, webhook.disabled_reason) == (False, OWNER_DEACTIVATED)


def test_staff_and_superuser_flags_changed_in_the_admin_are_audited_as_the_staff_member(staff_client):
    staff = User.objects.get(email="staff@example.com")
    person = UserFactory(email="person@example.com")

    change_user(staff_client, person, is_staff=True, is_superuser=True)
    change_user(staff_client, User.objects.get(pk=person.pk), is_superuser=False)

    first, second = AuditEvent.objects.filter(action="user.flags").order_by("pk")
    assert (first.actor_user, first.actor_key, first.target_id) == (staff, None, str(person.pk))
    assert first.details == {"is_staff": {"from": False, "to": True}, "is_superuser": {"from": False, "to": True}}
    assert second.details == {"is_superuser": {"from": True, "to": False}}
    assert User.objects.get(pk=person.pk).is_staff


def test_a_user_added_in_the_admin_is_audited_with_their_flags(staff_client):
    staff_client.post(
        reverse("admin:accounts_user_add"),
        {"email": "new@example.com", "is_staff": "on", "usable_password": "false"},
    )
    row = AuditEvent.objects.get(action="user.create")
    assert row.actor_user.email == "staff@example.com"
    assert (row.target, row.details) == ("new@example.com", {"is_staff": True, "is_superuser": False})


def test_the_admin_refuses_to_make_an_agency_with_a_key_an_image_admin_with_a_form_error(staff_client):
    agency = UserFactory(email="agency@example.com")
    issued = apikey_issue(user=agency)
    audit_before = AuditEvent.objects.count()

    response = change_user(staff_client, agency, is_staff=True)

    assert response.status_code == 200
    errors = str(response.context["adminform"].form.errors["is_staff"])
    assert "agency account" in errors and issued.apikey in errors
    assert not User.objects.get(pk=agency.pk).is_staff
    assert AuditEvent.objects.count() == audit_before


def test_the_flags_service_refuses_to_make_an_agency_with_campaigns_an_image_admin():
    from accounts.services import AgencyAccessConflict, user_set_flags
    from campaigns.tests.factories import make_campaign

    agency = UserFactory(email="agency@example.com")
    campaign = make_campaign(labeler=agency)

    with pytest.raises(AgencyAccessConflict, match=f"campaigns: {campaign.title}"):
        user_set_flags(user=agency, is_staff=True)

    assert not User.objects.get(pk=agency.pk).is_staff
