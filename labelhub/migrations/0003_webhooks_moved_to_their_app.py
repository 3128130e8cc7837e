"""The webhook tables moved to the ``webhooks`` app (``webhooks/migrations/0001``): state only, tables kept."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("labelhub", "0002_webhook_isolation"),
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="webhookdelivery",
                    name="webhook",
                ),
                migrations.RemoveField(
                    model_name="webhookattempt",
                    name="delivery",
                ),
                migrations.RemoveField(
                    model_name="webhookdelivery",
                    name="event",
                ),
                migrations.DeleteModel(
                    name="Webhook",
                ),
                migrations.DeleteModel(
                    name="WebhookAttempt",
                ),
                migrations.DeleteModel(
                    name="WebhookDelivery",
                ),
                migrations.DeleteModel(
                    name="WebhookEvent",
                ),
            ],
        ),
    ]
