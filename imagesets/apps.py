from django.apps import AppConfig


class ImagesetsConfig(AppConfig):
    name = "imagesets"
    verbose_name = "Image sets"

    def ready(self):
        from core.jobs import JobKind, register
        from imagesets.models import ImageSetJob
        from imagesets.services import FINISH_JOB
        from imagesets.webhooks import imageset_job_event_record

        task = "imagesets.tasks.imageset_finish_run"
        register(
            JobKind(
                name=FINISH_JOB,
                model=ImageSetJob,
                owner_field="imageset_id",
                task=task,
                on_outcome=imageset_job_event_record,
            )
        )
