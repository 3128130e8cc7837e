"""Staff manage webhooks in the admin, in a real browser: create (secret once), watch deliveries, redeliver."""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from accounts.models import User
from testing.browser import admin_page
from webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from webhooks.services import webhook_event_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-Password-1"
TIMEOUT_MS = 15_000


def test_staff_create_a_webhook_see_its_attempts_and_redeliver(live_server, browser, receiver):
    from playwright.sync_api import expect

    User.objects.create_user(email="staff@example.com", password=PASSWORD, is_staff=True)
    context = browser.new_context(base_url=live_server.url)
    page, errors = admin_page(context, email="staff@example.com", password=PASSWORD, timeout_ms=TIMEOUT_MS)

    # Create: the secret is shown on the answer, once.
    page.goto("/admin/webhooks/webhook/add/")
    page.fill("#id_url", receiver.url)
    page.fill("#id_description", "the test receiver")
    page.check("input[name=events][value='campaign.completed']")
    page.check("input[name=events][value='export.succeeded']")
    page.click("input[name=_save]")
    secret = page.locator("#lh-webhook-secret-value").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]{40,}", secret)
    webhook = Webhook.objects.get()
    assert webhook.secret == secret and webhook.events == ["campaign.completed", "export.succeeded"]
    assert webhook.owner is None
    receiver.secret = secret
    page.goto(f"/admin/webhooks/webhook/{webhook.pk}/change/")
    assert secret not in page.content()

    # A URL on loopback is refused by the form when private networks are not allowed.
    from django.conf import settings

    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    page.goto("/admin/webhooks/webhook/add/")
    page.fill("#id_url", "https://127.0.0.1/x")
    page.check("input[name=events][value='campaign.completed']")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("public addresses")
    assert Webhook.objects.count() == 1
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True

    # An event the receiver refuses: the delivery and its attempt are on its page.
    receiver.answers = [500]
    with transaction.atomic():
        webhook_event_record(type="campaign.completed", data={"campaign_id": 1})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and len(receiver.received) == 1
    page.goto("/admin/webhooks/webhookdelivery/")
    expect(page.locator("#result_list")).to_contain_text("campaign.completed")
    expect(page.locator("#result_list")).to_contain_text("HTTP 500")
    page.goto(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    expect(page.locator(".tabular")).to_contain_text("500")
    expect(page.locator(".tabular")).to_contain_text("answer 500")
    expect(page.locator(".field-payload")).to_contain_text('"campaign_id": 1')

    # Redeliver by hand from the list: the receiver now answers 200.
    receiver.answers = [200]
    page.goto("/admin/webhooks/webhookdelivery/")
    page.check(f"input[name=_selected_action][value='{delivery.pk}']")
    page.select_option("select[name=action]", "redeliver")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("1 deliveries sent again")
    assert len(receiver.received) == 2 and all(receiver.payloads())
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    page.goto(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    expect(page.locator(".tabular tbody tr.has_original")).to_have_count(2)

    # A disabled endpoint shows why in the list.
    Webhook.objects.filter(pk=webhook.pk).update(active=False, disabled_reason="Disabled after 50 failed attempts")
    page.goto("/admin/webhooks/webhook/")
    expect(page.locator("#result_list")).to_contain_text("Disabled after 50 failed attempts")
    assert errors == []
    page.close()


def test_staff_see_why_an_endpoint_over_the_cap_is_refused(live_server, browser, receiver, settings):
    from pathlib import Path

    from playwright.sync_api import expect

    settings.WEBHOOKS_MAX_STAFF = 1
    User.objects.create_user(email="staff@example.com", password=PASSWORD, is_staff=True)
    Webhook.objects.create(url=receiver.url, events=["campaign.completed"], secret="whsec_" + "A" * 43 + "=")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    page, errors = admin_page(context, email="staff@example.com", password=PASSWORD, timeout_ms=TIMEOUT_MS)

    page.goto("/admin/webhooks/webhook/add/")
    page.fill("#id_url", receiver.url)
    page.check("input[name=events][value='campaign.completed']")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("WEBHOOKS_MAX_STAFF")
    assert Webhook.objects.count() == 1
    artifacts = Path(settings.BASE_DIR) / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "webhook-cap.png"))
    assert not errors, errors
    context.close()
