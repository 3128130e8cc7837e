"""Moving the webhook tables from the ``labelhub`` app to ``webhooks``: forward, back, forward, rows kept."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("labelhub", "0002_webhook_isolation"), ("webhooks", None), ("accounts", "0003_authblock")]
AFTER = [
    ("labelhub", "0003_webhooks_moved_to_their_app"),
    ("webhooks", "0001_initial"),
    ("accounts", "0004_audit_webhook_targets"),
]


def migrate(targets):
    """Migrate the database to ``targets``; the historical models there."""
    MigrationExecutor(connection).migrate(targets)
    # The state of what is applied now (every other app stays at its latest).
    return MigrationExecutor(connection)._create_project_state(with_applied_migrations=True).apps


MODELS = ("webhook", "webhookattempt", "webhookdelivery", "webhookevent")


def in_app(app_label: str) -> list[tuple[str, str]]:
    return [(app_label, model) for model in MODELS]


def rows(apps, app_label: str) -> dict:
    return {
        model: list(apps.get_model(app_label, model).objects.order_by("pk").values())
        for model in ("Webhook", "WebhookEvent", "WebhookDelivery", "WebhookAttempt")
    }


def labels(apps) -> dict:
    content_types = apps.get_model("contenttypes", "ContentType").objects
    audit = apps.get_model("accounts", "AuditEvent").objects
    return {
        "content_types": sorted(content_types.filter(model__in=MODELS).values_list("app_label", "model")),
        "audit": sorted(audit.values_list("target_type", flat=True)),
    }


def test_the_webhook_rows_stay_in_place_through_the_move_and_back():
    old = migrate(BEFORE)
    webhook = old.get_model("labelhub", "Webhook").objects.create(
        url="https://hooks.example.org/a", secret="whsec_" + "A" * 43 + "=", events=["campaign.activated"]
    )
    event = old.get_model("labelhub", "WebhookEvent").objects.create(
        uid="msg_1", type="campaign.activated", payload='{"type":"campaign.activated"}'
    )
    delivery = old.get_model("labelhub", "WebhookDelivery").objects.create(webhook=webhook, event=event)
    old.get_model("labelhub", "WebhookAttempt").objects.create(delivery=delivery, url=webhook.url, status_code=204)
    content_types = old.get_model("contenttypes", "ContentType").objects
    # The content types (and permissions) of the tables exist, as in every installation.
    view_webhook = content_types.get(app_label="labelhub", model="webhook").permission_set.get(codename="view_webhook")
    old.get_model("accounts", "AuditEvent").objects.create(
        action="webhook.create", target_type="labelhub.webhook", target_id=str(webhook.pk)
    )
    before = rows(old, "labelhub")

    new = migrate(AFTER)
    assert rows(new, "webhooks") == before
    assert labels(new) == {"content_types": in_app("webhooks"), "audit": ["webhooks.webhook"]}
    assert new.get_model("auth", "Permission").objects.get(pk=view_webhook.pk).content_type.app_label == "webhooks"

    back = migrate(BEFORE)
    assert rows(back, "labelhub") == before
    assert labels(back) == {"content_types": in_app("labelhub"), "audit": ["labelhub.webhook"]}

    again = migrate(AFTER)
    assert rows(again, "webhooks") == before
    assert labels(again) == {"content_types": in_app("webhooks"), "audit": ["webhooks.webhook"]}
