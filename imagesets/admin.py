"""Admin of image sets and images: read-mostly, transitions through the services."""

from django.contrib import admin, messages
from django.db.models import Count

from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.services import imageset_finish, imageset_job_retry
from labelhub.exceptions import ApplicationError


def _run_per_set(modeladmin, request, queryset, service, done_message: str) -> None:
    """Call ``service(imageset_id=...)`` for each selected set; errors become admin messages."""
    succeeded = 0
    for imageset in queryset.order_by("id"):
        try:
            service(imageset_id=imageset.pk)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{imageset.title}: {exc.detail}", level=messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, done_message.format(count=succeeded), level=messages.SUCCESS)


@admin.register(ImageSet)
class ImageSetAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "image_count", "job_status", "job_progress", "date_created", "date_finished", "created_by")
    list_filter = ("status", "job__status")
    search_fields = ("title",)
    list_select_related = ("job", "created_by")
    ordering = ("-id",)
    actions = ["finish", "retry_failed_job"]
    fields = (
        "title", "status", "metadata", "blobstorage_path", "created_by", "date_created", "date_finished",
        "image_count", "job_status", "job_progress", "job_error", "job_skipped", "job_dates",
    )
    readonly_fields = (
        "title", "status", "blobstorage_path", "created_by", "date_created", "date_finished",
        "image_count", "job_status", "job_progress", "job_error", "job_skipped", "job_dates",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_image_count=Count("images"))

    def has_add_permission(self, request):
        # A set needs its dropbox: create sets through the API (POST /image_sets).
        return False

    @staticmethod
    def _job(obj) -> ImageSetJob | None:
        try:
            return obj.job
        except ImageSetJob.DoesNotExist:
            return None

    @admin.display(description="images", ordering="_image_count")
    def image_count(self, obj) -> int:
        return obj._image_count

    @admin.display(description="job", ordering="job__status")
    def job_status(self, obj) -> str:
        job = self._job(obj)
        return job.get_status_display() if job else "—"

    @admin.display(description="progress")
    def job_progress(self, obj) -> str:
        job = self._job(obj)
        return f"{job.done}/{job.total}" if job else "—"

    @admin.display(description="job error")
    def job_error(self, obj) -> str:
        job = self._job(obj)
        return (job.error or "—") if job else "—"

    @admin.display(description="skipped files")
    def job_skipped(self, obj) -> str:
        job = self._job(obj)
        return ", ".join(job.skipped) if job and job.skipped else "—"

    @admin.display(description="job dates")
    def job_dates(self, obj) -> str:
        job = self._job(obj)
        if not job:
            return "—"
        return f"queued {job.date_queued:%Y-%m-%d %H:%M:%S}, started {job.date_started or '—'}, done {job.date_done or '—'} (attempts: {job.attempts})"

    @admin.action(description="Finish the selected image sets (copy and register their uploads)")
    def finish(self, request, queryset):
        _run_per_set(self, request, queryset, imageset_finish, "{count} image set(s) finished; the job is queued.")

    @admin.action(description="Retry the failed job of the selected image sets")
    def retry_failed_job(self, request, queryset):
        _run_per_set(self, request, queryset, imageset_job_retry, "{count} job(s) queued again.")


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("id", "blobstorage_path", "imageset", "type", "filetype", "dimensions", "filesize", "date_added")
    list_filter = ("filetype", "type", ("imageset", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("imageset",)
    search_fields = ("blobstorage_path", "tss_id")
    ordering = ("-id",)
    readonly_fields = (
        "blobstorage_path", "imageset", "filetype", "content_type", "filesize", "width", "height", "date_added",
    )
    fields = (
        "blobstorage_path", "imageset", "filetype", "content_type", "filesize", "width", "height", "date_added",
        "type", "date_taken", "location_description", "lat", "lon", "tss_id", "metadata",
    )

    def has_add_permission(self, request):
        # Images come from finished image sets.
        return False

    @admin.display(description="dimensions")
    def dimensions(self, obj) -> str:
        if obj.width is None or obj.height is None:
            return "—"
        return f"{obj.width}×{obj.height}"
