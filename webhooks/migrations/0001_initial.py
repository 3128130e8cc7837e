"""The webhook tables, until now the ``labelhub`` app's, become this app's: state only, nothing is copied.

The models keep their tables (``db_table`` names the ``labelhub_*`` tables
``labelhub/migrations/0001``-``0002`` made), so this migration creates them in
Django's state alone, and ``labelhub/migrations/0003`` removes them from the
``labelhub`` app's state. Their content types (and so their permissions and
admin log entries) move along; unapplying moves them back.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MODELS = ("webhook", "webhookevent", "webhookdelivery", "webhookattempt")


def _move_content_types(apps, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_to_webhooks(apps, schema_editor):
    _move_content_types(apps, "labelhub", "webhooks")


def content_types_to_labelhub(apps, schema_editor):
    _move_content_types(apps, "webhooks", "labelhub")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("labelhub", "0002_webhook_isolation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WebhookEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "uid",
                            models.CharField(editable=False, max_length=40, unique=True, verbose_name="webhook-id"),
                        ),
                        ("type", models.CharField(db_index=True, max_length=64)),
                        ("payload", models.TextField(help_text='The JSON body: {"type", "timestamp", "data"}.')),
                        (
                            "agency_payload",
                            models.TextField(
                                blank=True,
                                default="",
                                help_text="The body agency endpoints receive, when it differs (their API's view).",
                            ),
                        ),
                        ("date_created", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ],
                    options={
                        "verbose_name": "webhook event",
                        "db_table": "labelhub_webhookevent",
                        "ordering": ["-pk"],
                    },
                ),
                migrations.CreateModel(
                    name="Webhook",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("url", models.URLField(max_length=2000, verbose_name="URL")),
                        ("description", models.CharField(blank=True, default="", max_length=200)),
                        ("secret", models.CharField(editable=False, max_length=100)),
                        ("events", models.JSONField(default=list, help_text="The event types it receives.")),
                        ("active", models.BooleanField(default=True)),
                        ("consecutive_failures", models.PositiveIntegerField(default=0, editable=False)),
                        ("busy_until", models.DateTimeField(blank=True, editable=False, null=True)),
                        ("disabled_reason", models.TextField(blank=True, default="", editable=False)),
                        ("date_disabled", models.DateTimeField(blank=True, editable=False, null=True)),
                        ("date_created", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "owner",
                            models.ForeignKey(
                                blank=True,
                                help_text="An agency: only events of its own campaigns. Empty: a staff endpoint, every subscribed event.",
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="webhooks",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "labelhub_webhook",
                        "ordering": ["pk"],
                    },
                ),
                migrations.CreateModel(
                    name="WebhookDelivery",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[("pending", "Pending"), ("succeeded", "Succeeded"), ("failed", "Failed")],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("enqueued_at", models.DateTimeField(blank=True, null=True)),
                        ("claimed_until", models.DateTimeField(blank=True, null=True)),
                        ("last_status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True, default="")),
                        ("date_created", models.DateTimeField(default=django.utils.timezone.now)),
                        ("date_done", models.DateTimeField(blank=True, null=True)),
                        (
                            "webhook",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="deliveries",
                                to="webhooks.webhook",
                            ),
                        ),
                        (
                            "event",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="deliveries",
                                to="webhooks.webhookevent",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "webhook delivery",
                        "verbose_name_plural": "webhook deliveries",
                        "db_table": "labelhub_webhookdelivery",
                        "ordering": ["-pk"],
                    },
                ),
                migrations.CreateModel(
                    name="WebhookAttempt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("date", models.DateTimeField(default=django.utils.timezone.now)),
                        ("url", models.URLField(max_length=2000, verbose_name="URL")),
                        (
                            "address",
                            models.CharField(
                                blank=True, default="", help_text="The IP address connected to.", max_length=64
                            ),
                        ),
                        ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("error", models.TextField(blank=True, default="")),
                        ("duration_ms", models.PositiveIntegerField(default=0)),
                        ("response_excerpt", models.TextField(blank=True, default="")),
                        (
                            "delivery",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attempt_log",
                                to="webhooks.webhookdelivery",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "webhook attempt",
                        "db_table": "labelhub_webhookattempt",
                        "ordering": ["-pk"],
                    },
                ),
                migrations.AddIndex(
                    model_name="webhookdelivery",
                    index=models.Index(fields=["status", "next_attempt_at"], name="labelhub_wh_delivery_due"),
                ),
            ],
            database_operations=[migrations.RunPython(content_types_to_webhooks, content_types_to_labelhub)],
        ),
    ]
