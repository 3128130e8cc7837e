from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from django.conf import settings
        from django_q.conf import Conf
        from django_q.signals import post_spawn

        from webhooks.sweep import start_webhook_sweeper

        if Conf.CLUSTER_NAME == settings.WEBHOOKS_QUEUE:
            # A webhook worker process sends due deliveries (retries, lost hand-overs).
            post_spawn.connect(start_webhook_sweeper, dispatch_uid="labelhub-webhook-sweeper")
