import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiKey, User
from accounts.services import secret_matches

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
