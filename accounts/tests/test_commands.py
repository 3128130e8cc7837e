import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiKey, AuditEvent, User
from accounts.services import apikey_issue, secret_matches
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def createapikey(*args):
    out, err = StringIO(), StringIO()
    call_command("createapikey", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def test_creates_user_and_prints_key_and_secret_as_last_line():
    token, _ = createapikey("New_User@Example.com")
    user = User.objects.get()
    assert token["email"] == user.email == "new_user@example.com"
    assert len(token["apikey"]) == 32 and int(token["apikey"], 16) >= 0
    assert len(token["apisecret"]) == 32
    api_key = ApiKey.objects.get(user=user)
    assert api_key.key == token["apikey"]
    assert secret_matches(token["apisecret"], api_key.secret_hash)
    assert not user.is_staff


def test_admin_flag_makes_an_image_admin():
    createapikey("boss@example.com", "--admin")
    assert User.objects.get(email="boss@example.com").is_staff


def test_existing_key_is_reused_with_a_null_secret():
    first, _ = createapikey("agency@example.com")
    second, err = createapikey("AGENCY@example.com")
    assert second == {"email": "agency@example.com", "apikey": first["apikey"], "apisecret": None}
    assert "--rotate" in err
    assert ApiKey.objects.count() == 1


def test_rotate_issues_a_new_secret_for_the_same_key():
    first, _ = createapikey("agency@example.com")
    rotated, _ = createapikey("agency@example.com", "--rotate")
    assert rotated["apikey"] == first["apikey"]
    assert rotated["apisecret"] not in (None, first["apisecret"])
    stored = ApiKey.objects.get().secret_hash
    assert secret_matches(rotated["apisecret"], stored)
    assert not secret_matches(first["apisecret"], stored)


def test_invalid_email_is_refused_and_nothing_is_created():
    with pytest.raises(CommandError, match="Not a valid e-mail"):
        createapikey("not-an-email")
    assert not User.objects.exists()


# --- --admin on an agency account ----------------------------------------------------------


def test_admin_refuses_to_promote_an_agency_that_holds_a_key_and_changes_nothing():
    agency = UserFactory(email="agency@example.com")
    issued = apikey_issue(user=agency)
    audit_before = AuditEvent.objects.count()

    with pytest.raises(CommandError, match=rf"agency account \(API key {issued.apikey}\).*--revoke-agency-access"):
        createapikey("agency@example.com", "--admin")

    agency.refresh_from_db()
    assert not agency.is_staff
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is None
    assert AuditEvent.objects.count() == audit_before


def test_admin_refuses_to_promote_a_labeler_of_campaigns_naming_them():
    from campaigns.tests.factories import make_campaign

    agency = UserFactory(email="agency@example.com")
    campaign = make_campaign(labeler=agency)

    with pytest.raises(CommandError, match=f"campaigns: {campaign.title}"):
        createapikey("agency@example.com", "--admin")

    assert not User.objects.get(pk=agency.pk).is_staff
    assert list(campaign.labelers.all()) == [agency]


def test_revoking_agency_access_promotes_with_a_fresh_key_and_audits_it_as_the_system():
    from campaigns.tests.factories import make_campaign
    from webhooks.services import OWNER_KEY_REVOKED, webhook_create

    agency = UserFactory(email="agency@example.com")
    old = apikey_issue(user=agency)
    campaign = make_campaign(labeler=agency)
    webhook = webhook_create(url="https://93.184.216.34/hook", events=["campaign.activated"], owner=agency)

    token, _ = createapikey("agency@example.com", "--admin", "--revoke-agency-access")

    agency.refresh_from_db()
    assert agency.is_staff
    assert ApiKey.objects.get(pk=old.api_key.pk).revoked_at is not None
    assert token["apikey"] != old.apikey and token["apisecret"]
    assert not campaign.labelers.exists()
    webhook.refresh_from_db()
    assert (webhook.active, webhook.disabled_reason) == (False, OWNER_KEY_REVOKED)
    promotion = AuditEvent.objects.get(action="user.promote")
    assert (promotion.actor, promotion.actor_user, promotion.target_id) == ("system", None, str(agency.pk))
    assert promotion.details == {
        "is_staff": {"from": False, "to": True},
        "revoked_keys": [old.apikey],
        "removed_from": {"campaigns": [campaign.title]},
    }
    assert AuditEvent.objects.filter(action="campaign.labeler_remove", target_id=str(campaign.pk)).exists()


def test_admin_promotes_a_user_without_agency_access_and_audits_it():
    UserFactory(email="person@example.com")
    createapikey("person@example.com", "--admin")
    assert User.objects.get(email="person@example.com").is_staff
    assert AuditEvent.objects.get(action="user.promote").details["is_staff"] == {"from": False, "to": True}


def test_a_new_image_admin_is_audited_as_created_by_the_system():
    createapikey("boss@example.com", "--admin")
    row = AuditEvent.objects.get(action="user.create")
    assert (row.actor, row.target, row.details) == ("system", "boss@example.com", {"is_staff": True})


def test_revoke_agency_access_without_admin_is_refused():
    with pytest.raises(CommandError, match="goes with --admin"):
        createapikey("agency@example.com", "--revoke-agency-access")
    assert not User.objects.exists()
