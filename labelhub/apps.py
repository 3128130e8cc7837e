from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LabelhubConfig(AppConfig):
    name = "labelhub"
    verbose_name = "labelhub"

    def ready(self):
        from django_q.signals import post_spawn

        from labelhub.jobs import sweep_on_worker_start
        from labelhub.tasks import ensure_sweep_schedule

        # A worker process that starts (or replaces a killed one) recovers lost jobs first.
        post_spawn.connect(sweep_on_worker_start, dispatch_uid="labelhub-job-sweep")
        post_migrate.connect(ensure_sweep_schedule, dispatch_uid="labelhub-sweep-schedule")
