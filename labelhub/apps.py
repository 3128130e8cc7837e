from django.apps import AppConfig


class LabelhubConfig(AppConfig):
    name = "labelhub"
    verbose_name = "labelhub"

    def ready(self):
        from django_q.signals import post_spawn

        from labelhub.jobs import start_sweeper

        # Each worker process recovers lost jobs as it starts, then periodically.
        post_spawn.connect(start_sweeper, dispatch_uid="labelhub-job-sweeper")
