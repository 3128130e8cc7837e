from django.apps import AppConfig


class ImagesetsConfig(AppConfig):
    name = "imagesets"
    verbose_name = "Image sets"

    def ready(self):
        from imagesets.models import ImageSetJob
        from labelhub import jobs

        jobs.register(
            jobs.JobKind(
                name="imageset_finish",
                model=ImageSetJob,
                owner_field="imageset_id",
                task="imagesets.tasks.finish_imageset",
            )
        )
