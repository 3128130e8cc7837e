"""Audit rows about webhooks name their target ``webhooks.<model>`` since the tables moved to that app."""

from django.db import migrations

MODELS = ("webhook", "webhookevent", "webhookdelivery", "webhookattempt")


def _rename(apps, source: str, target: str) -> None:
    audit_event = apps.get_model("accounts", "AuditEvent")
    for model in MODELS:
        audit_event.objects.filter(target_type=f"{source}.{model}").update(target_type=f"{target}.{model}")


def to_webhooks(apps, schema_editor):
    _rename(apps, "labelhub", "webhooks")


def to_labelhub(apps, schema_editor):
    _rename(apps, "webhooks", "labelhub")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_authblock"),
        ("webhooks", "0001_initial"),
    ]

    operations = [migrations.RunPython(to_webhooks, to_labelhub)]
