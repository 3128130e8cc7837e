from django.apps import AppConfig


class LabelhubConfig(AppConfig):
    name = "labelhub"
    verbose_name = "labelhub"

    def ready(self):
        from django.conf import settings
        from django_q.conf import Conf
        from django_q.signals import post_spawn

        from labelhub.jobs import start_sweeper
        from labelhub.webhooks import admin as _webhooks_admin  # noqa: F401 - registers the webhook admin
        from labelhub.webhooks.sweep import start_webhook_sweeper

        if Conf.CLUSTER_NAME == settings.WEBHOOKS_QUEUE:
            # A webhook worker process sends due deliveries (retries, lost hand-overs).
            post_spawn.connect(start_webhook_sweeper, dispatch_uid="labelhub-webhook-sweeper")
        else:
            # A job worker process recovers lost jobs as it starts, then periodically.
            post_spawn.connect(start_sweeper, dispatch_uid="labelhub-job-sweeper")
