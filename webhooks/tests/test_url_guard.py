"""What a webhook URL may be: its form, its port, the addresses it reaches; and what a refusal tells."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from webhooks import network
from webhooks.models import Webhook, WebhookAttempt
from webhooks.services import webhook_create, webhook_event_record
from webhooks.tests.conftest import endpoint_for
from webhooks.tests.test_apis import URL, stored

pytestmark = pytest.mark.django_db

EVENTS = ["campaign.activated"]
INTERNAL = "10.1.2.3"


@pytest.fixture(autouse=True)
def _dns(monkeypatch):
    """hooks.agency.example is public, internal.example a private address; literal addresses are themselves."""
    table = {"hooks.agency.example": ["93.184.216.34"], "internal.example": [INTERNAL]}

    def resolve(host, port):
        if host in table:
            return table[host]
        try:
            return [str(network.ipaddress.ip_address(host))]
        except ValueError:
            raise OSError(f"Name or service not known: {host}") from None

    monkeypatch.setattr(network, "resolve", resolve)


@pytest.fixture
def hook(labeler_user):
    return webhook_create(url=URL, events=EVENTS, owner=labeler_user)


def post_and_patch(client, hook, url):
    created = client.post("/api/v1/webhooks", {"url": url, "events": EVENTS}, format="json")
    patched = client.patch(f"/api/v1/webhooks/{hook.pk}", {"url": url}, format="json")
    return created, patched


# --- a refusal does not tell what a name resolves to ------------------------------------------


def test_a_refused_internal_name_is_answered_without_the_address_it_resolved_to(labeler_client, hook, caplog):
    before = stored()
    for response in post_and_patch(labeler_client, hook, "https://internal.example/x"):
        assert response.status_code == 422, response.content
        assert "public address" in response.json()["detail"]
        assert INTERNAL not in response.json()["detail"]
    assert stored() == before
    assert any(INTERNAL in r.getMessage() for r in caplog.records if r.name == "webhooks.network")


def test_an_internal_name_and_a_name_that_does_not_exist_get_the_same_answer(labeler_client):
    """Otherwise the answer tells an agency which internal names exist."""
    details = [
        labeler_client.post("/api/v1/webhooks", {"url": url, "events": EVENTS}, format="json").json()["detail"]
        for url in ("https://internal.example/x", "https://nowhere.example/x")
    ]
    assert details[0].replace("internal.example", "HOST") == details[1].replace("nowhere.example", "HOST")


# --- malformed URLs are a 422, never a 500 -------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/",
        "https://[::1/x",
        "https://::1]/x",
        "https://]/x",
        "https://[foo]/x",
        "https://a[b]/x",
        "https://[::1]x/",
        "https://[v1.hooks]/x",
        "https://[93.184.216.34]/x",
        "https://hooks.agency.example:abc/x",
        "https://hooks.agency.example:-1/x",
        "https://hooks.agency.example:+443/x",
        "https://hooks.agency.example:99999/x",
        "https://hooks.agency.example:0/x",
        "https://hooks.agency.example:٤٤٣/x",
        "https:///x",
        "https://:443/x",
        "https://",
        "https://hooks.agency\x7f.example/x",
        "https://hooks.agency\x85.example/x",
        "https://hooks.agency\u200b.example/x",
        "https://hooks.agency.example\u202e/x",
        "https://hooks.agency.example/x\x00",
    ],
)
def test_a_malformed_url_is_refused_with_422_on_create_and_change_and_nothing_is_stored(labeler_client, hook, url):
    before = stored()
    for response in post_and_patch(labeler_client, hook, url):
        assert response.status_code == 422, response.content
        assert response.json()["detail"].startswith("'url'")
    assert stored() == before


def test_an_ipv6_literal_in_brackets_with_a_port_is_still_understood(admin_client, settings):
    settings.WEBHOOKS_ALLOWED_PORTS = [8443]
    response = admin_client.post(
        "/api/v1/webhooks", {"url": "https://[2606:4700:4700::1111]:8443/x", "events": EVENTS}, format="json"
    )
    assert response.status_code == 201, response.content


# --- ports ------------------------------------------------------------------------------------


def test_only_ports_80_and_443_are_allowed_unless_the_setting_names_more(labeler_client, hook, settings):
    settings.WEBHOOKS_ALLOW_HTTP = True
    before = stored()
    for url in ("https://hooks.agency.example:8080/x", "https://hooks.agency.example:22/x"):
        for response in post_and_patch(labeler_client, hook, url):
            assert response.status_code == 422, response.content
            assert "port must be one of 80, 443" in response.json()["detail"]
    assert stored() == before

    for url in ("https://hooks.agency.example:443/x", "http://hooks.agency.example:80/x"):
        assert labeler_client.post("/api/v1/webhooks", {"url": url, "events": EVENTS}, format="json").status_code == 201

    settings.WEBHOOKS_ALLOWED_PORTS = [8080]
    response = labeler_client.patch(
        f"/api/v1/webhooks/{hook.pk}", {"url": "https://hooks.agency.example:8080/x"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert Webhook.objects.get(pk=hook.pk).url == "https://hooks.agency.example:8080/x"


def test_an_endpoint_whose_port_is_no_longer_allowed_is_not_connected_to(
    receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    webhook = endpoint_for(receiver, events=["campaign.completed"])
    settings.WEBHOOKS_ALLOWED_PORTS = []
    monkeypatch.setattr(network, "resolve", lambda host, port: ["127.0.0.1"])
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_record(type="campaign.completed", data={})
    assert receiver.received == []
    attempt = WebhookAttempt.objects.get(delivery__webhook=webhook)
    assert attempt.status_code is None and "port must be one of" in attempt.error


# --- address ranges ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["fec0::1", "feff:ffff::1", "192.88.99.1", "192.88.99.255", "2002:c058:6301::1", "::ffff:192.88.99.1"]
)
def test_site_local_ipv6_and_the_6to4_relay_anycast_range_are_not_public(address):
    assert not network.address_is_public(address)


@pytest.mark.parametrize("address", ["192.88.98.255", "192.88.100.1", "2606:4700::1"])
def test_public_addresses_next_to_the_refused_ranges_are_still_allowed(address):
    assert network.address_is_public(address)


def test_a_webhook_on_a_site_local_address_is_refused(admin_client):
    response = admin_client.post("/api/v1/webhooks", {"url": "https://[fec0::5]/x", "events": EVENTS}, format="json")
    assert response.status_code == 422, response.content
    assert not Webhook.objects.exists()


# --- the admin form checks the same way --------------------------------------------------------


@pytest.fixture
def site(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "url, error",
    [
        ("https://hooks.agency.example:8080/x", "port must be one of"),
        ("https://hooks.agency\u200b.example/x", "control characters"),
        ("https://internal.example/x", "public address"),
        ("http://[::1/", "Enter a valid URL"),
    ],
)
def test_the_admin_form_shows_a_refused_url_as_a_form_error(site, url, error):
    response = site.post(reverse("admin:webhooks_webhook_add"), {"url": url, "events": EVENTS, "description": ""})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["url"]
    assert any(error in e for e in errors), errors
    assert INTERNAL not in response.content.decode()
    assert not Webhook.objects.exists()


# --- the setting -------------------------------------------------------------------------------

PRINT_PORTS = "import django; django.setup(); from django.conf import settings; print(settings.WEBHOOKS_ALLOWED_PORTS)"


def test_allowed_ports_are_read_from_the_environment_as_a_list():
    from labelhub.tests.test_settings import run_python

    default = run_python(PRINT_PORTS, env_overrides={"DJANGO_DEBUG": "1"})
    given = run_python(PRINT_PORTS, env_overrides={"DJANGO_DEBUG": "1", "WEBHOOKS_ALLOWED_PORTS": "8443,9443"})
    assert (default.stdout.strip(), given.stdout.strip()) == ("[]", "[8443, 9443]"), default.stderr + given.stderr


@pytest.mark.parametrize("value", ["http", "0", "65536", "-1", "8443;9443"])
def test_a_malformed_allowed_port_fails_at_start_up(value):
    from labelhub.tests.test_settings import run_python

    result = run_python(PRINT_PORTS, env_overrides={"DJANGO_DEBUG": "1", "WEBHOOKS_ALLOWED_PORTS": value})
    assert result.returncode != 0
    assert "WEBHOOKS_ALLOWED_PORTS must list port numbers" in result.stderr
