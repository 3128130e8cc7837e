from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "labelhub core"

    def ready(self):
        from django.conf import settings
        from django_q.conf import Conf
        from django_q.signals import post_spawn

        from core.admin.tasks import register_task_admins
        from core.jobs import start_sweeper
        from core.jobs.gauges import JobQueueCollector
        from core.metrics.scrape import register_scrape_collector

        register_scrape_collector(JobQueueCollector)
        register_task_admins()  # after django.contrib.admin's ready() loaded every admin module

        if Conf.CLUSTER_NAME != settings.WEBHOOKS_QUEUE:
            # A job worker process recovers lost jobs as it starts, then periodically.
            post_spawn.connect(start_sweeper, dispatch_uid="labelhub-job-sweeper")
