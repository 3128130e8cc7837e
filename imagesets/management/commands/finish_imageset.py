"""Run (or retry) an image set's finish job in this process and print the outcome."""

import json

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import ApplicationError
from core.serializers import job_representation
from imagesets.models import ImageSet, ImageSetJob
from imagesets.services import imageset_finish, imageset_finish_run, imageset_job_retry


class Command(BaseCommand):
    help = (
        "Finish image set ID and run its finish job inline (copy the uploads, register the "
        "images, delete the dropbox). A set already finished runs its queued job; --retry "
        "reruns a failed job; --force reruns a job left 'running' by a crashed worker. "
        "Prints the job as JSON; exits non-zero if the job fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("imageset_id", type=int)
        parser.add_argument("--retry", action="store_true", help="rerun a failed job")
        parser.add_argument(
            "--force",
            action="store_true",
            help="rerun a job marked running (only when no worker runs it any more)",
        )

    def handle(self, *args, imageset_id, retry, force, **options):
        imageset = ImageSet.objects.filter(pk=imageset_id).first()
        if imageset is None:
            raise CommandError(f"Image set {imageset_id} does not exist")
        try:
            if imageset.status == ImageSet.Status.CREATED:
                imageset_finish(imageset_id=imageset_id, queue=False)
            elif retry:
                imageset_job_retry(imageset_id=imageset_id, queue=False)
            else:
                self._check_runnable(ImageSetJob.objects.filter(imageset_id=imageset_id).first(), force)
        except ApplicationError as exc:
            raise CommandError(exc.detail) from None

        current = ImageSetJob.objects.filter(imageset_id=imageset_id).first()
        take_over = force and current is not None and current.status == ImageSetJob.Status.RUNNING
        try:
            job = imageset_finish_run(imageset_id=imageset_id, force=take_over)
            job = job or ImageSetJob.objects.get(imageset_id=imageset_id)
        except Exception as exc:  # noqa: BLE001 - recorded on the job, reported here
            job = ImageSetJob.objects.get(imageset_id=imageset_id)
            self.stdout.write(json.dumps(job_representation(job)))
            raise CommandError(f"The finish job of image set {imageset_id} failed: {exc}") from None
        self.stdout.write(json.dumps(job_representation(job)))

    def _check_runnable(self, job, force: bool) -> None:
        if job is None or job.status == ImageSetJob.Status.QUEUED:
            return
        if job.status == ImageSetJob.Status.FAILED:
            raise CommandError(f"The job failed ({job.error}); rerun it with --retry")
        if job.status == ImageSetJob.Status.RUNNING and not force:
            raise CommandError("The job is running; if its worker crashed, rerun it with --force")
