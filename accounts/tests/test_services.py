from unittest import mock

import pytest
from django.db import IntegrityError, transaction

from accounts import services
from accounts.audit import Actor
from accounts.models import ApiKey, AuditEvent, User
from accounts.services import (
    StaffEmailConflict,
    apikey_issue,
    apikey_revoke,
    apikey_rotate,
    labeler_get_or_create,
    user_get_or_create,
)
from accounts.tests.factories import UserFactory
from core.exceptions import Conflict

pytestmark = pytest.mark.django_db


def test_user_lookup_by_email_is_case_insensitive():
    user, created = user_get_or_create(email="Agency@Example.COM")
    again, created_again = user_get_or_create(email="  agency@example.com ")
    assert (created, created_again) == (True, False)
    assert again.pk == user.pk
    assert User.objects.count() == 1


def test_a_user_stored_with_capitals_is_found_not_duplicated():
    user = UserFactory(email="agency@example.com")
    User.objects.filter(pk=user.pk).update(email="Agency@Example.com")  # bypasses save()'s lowercasing
    found, created = user_get_or_create(email="AGENCY@example.com")
    assert (found.pk, created) == (user.pk, False)
    assert User.objects.count() == 1


def test_a_create_that_loses_the_race_returns_the_winners_user_in_a_usable_transaction():
    winner = UserFactory(email="agency@example.com")
    real_lock = services._lock_user
    calls = []

    def lock_after_the_race(email):
        # The first look-up runs before the concurrent insert commits: it sees nothing.
        calls.append(email)
        return None if len(calls) == 1 else real_lock(email)

    with transaction.atomic(), mock.patch("accounts.services._lock_user", side_effect=lock_after_the_race):
        user, created = user_get_or_create(email="Agency@example.com")
        # The failed insert was rolled back to its savepoint: the transaction goes on.
        assert User.objects.filter(email="agency@example.com").count() == 1
    assert (user.pk, created) == (winner.pk, False)
    assert len(calls) == 2


@pytest.mark.parametrize("flags", [{"is_staff": True}, {"is_superuser": True}], ids=["staff", "superuser"])
def test_a_staff_account_is_never_returned_as_a_labeler(flags):
    UserFactory(email="boss@example.com", **flags)
    with pytest.raises(StaffEmailConflict, match="staff account"):
        labeler_get_or_create(email=" BOSS@example.com")
    assert not ApiKey.objects.exists()


def test_a_labeler_is_found_or_created_as_an_agency_account():
    user, created = labeler_get_or_create(email="New@Example.com")
    assert created and user.email == "new@example.com" and not user.is_staff
    assert labeler_get_or_create(email="new@example.com") == (user, False)


def test_database_refuses_two_users_differing_only_in_case():
    UserFactory(email="a@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        # Bypass save()'s normalisation to prove the constraint itself holds.
        User.objects.bulk_create([User(email="A@example.com")])


def test_a_user_has_at_most_one_unrevoked_key():
    user = UserFactory()
    apikey_issue(user=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.create(user=user, key="f" * 32, secret_hash="0" * 64)


def test_revoke_is_one_way_and_a_new_key_can_then_be_issued():
    user = UserFactory()
    first = apikey_issue(user=user)
    apikey_revoke(api_key=first.api_key)
    with pytest.raises(Conflict):
        apikey_revoke(api_key=first.api_key)
    second = apikey_issue(user=user)
    assert second.secret is not None and second.apikey != first.apikey
    assert ApiKey.objects.active().get().key == second.apikey


def test_rotate_without_a_key_issues_one():
    user = UserFactory()
    issued = apikey_rotate(user=user)
    assert issued.secret and ApiKey.objects.get(user=user).key == issued.apikey


def test_keys_are_unique_random_hex():
    keys = {apikey_issue(user=UserFactory()).apikey for _ in range(20)}
    assert len(keys) == 20
    assert all(len(k) == 32 and set(k) <= set("0123456789abcdef") for k in keys)


# --- what deactivating a user or revoking their last key does to their webhooks ------------


def agency_endpoint(owner):
    from webhooks.services import webhook_create

    return webhook_create(url="https://93.184.216.34/hook", events=["campaign.activated"], owner=owner)


def test_revoking_a_users_last_key_disables_their_webhooks_saying_why():
    from webhooks.services import OWNER_KEY_REVOKED

    agency, other = UserFactory(), UserFactory()
    issued = apikey_issue(user=agency)
    apikey_issue(user=other)
    webhook, others = agency_endpoint(agency), agency_endpoint(other)
    staff = UserFactory(is_staff=True)

    apikey_revoke(api_key=issued.api_key, actor=Actor(user=staff))

    webhook.refresh_from_db()
    assert (webhook.active, webhook.disabled_reason) == (False, OWNER_KEY_REVOKED)
    assert webhook.date_disabled is not None
    assert type(others).objects.get(pk=others.pk).active
    assert AuditEvent.objects.get(action="webhook.disable").actor_user == staff


def test_deactivating_a_user_disables_their_webhooks_and_audits_the_change():
    from webhooks.services import OWNER_DEACTIVATED

    agency, staff = UserFactory(), UserFactory(is_staff=True)
    webhook = agency_endpoint(agency)

    services.user_set_flags(user=agency, is_active=False, actor=Actor(user=staff))

    webhook.refresh_from_db()
    assert (webhook.active, webhook.disabled_reason) == (False, OWNER_DEACTIVATED)
    row = AuditEvent.objects.get(action="user.flags")
    assert (row.actor_user, row.target_id, row.details) == (
        staff,
        str(agency.pk),
        {"is_active": {"from": True, "to": False}},
    )


def test_setting_flags_to_what_they_are_changes_and_records_nothing():
    agency = UserFactory()
    webhook = agency_endpoint(agency)
    services.user_set_flags(user=agency, is_active=True, is_staff=False, is_superuser=False)
    webhook.refresh_from_db()
    assert webhook.active
    assert not AuditEvent.objects.filter(action__in=["user.flags", "webhook.disable"]).exists()


def test_finding_a_user_never_promotes_an_existing_agency_account():
    agency = UserFactory(email="agency@example.com")
    user, created = user_get_or_create(email="agency@example.com", is_staff=True)
    assert (user.pk, created, User.objects.get(pk=agency.pk).is_staff) == (agency.pk, False, False)
