from django.apps import AppConfig


class LabelhubConfig(AppConfig):
    name = "labelhub"
    verbose_name = "labelhub"

    def ready(self):
        from django_q.signals import post_spawn

        from labelhub.jobs import start_sweeper
        from labelhub.webhooks import admin as _webhooks_admin  # noqa: F401 - registers the webhook admin
        from labelhub.webhooks.sweep import start_webhook_sweeper

        # Each worker process recovers lost jobs as it starts, then periodically.
        post_spawn.connect(start_sweeper, dispatch_uid="labelhub-job-sweeper")
        # ... and sends due webhook deliveries (retries, lost hand-overs).
        post_spawn.connect(start_webhook_sweeper, dispatch_uid="labelhub-webhook-sweeper")
