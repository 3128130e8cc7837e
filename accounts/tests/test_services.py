import pytest
from django.db import IntegrityError, transaction

from accounts.models import ApiKey, User
from accounts.services import apikey_issue, apikey_revoke, apikey_rotate, user_get_or_create
from accounts.tests.factories import UserFactory
from labelhub.exceptions import Conflict

pytestmark = pytest.mark.django_db


def test_user_lookup_by_email_is_case_insensitive():
    user, created = user_get_or_create(email="Agency@Example.COM")
    again, created_again = user_get_or_create(email="  agency@example.com ")
    assert (created, created_again) == (True, False)
    assert again.pk == user.pk
    assert User.objects.count() == 1


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
