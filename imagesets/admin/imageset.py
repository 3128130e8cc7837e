"""The image-set admin: create a set, upload into its dropbox from the browser, finish, watch the job.

Every write goes through ``imagesets.services`` (the same checks and locks as
the API). The change page of a set shows its dropbox URL (copy button,
expiry) and an upload box that PUTs each file straight to that URL, exactly
as any API client does; the job panel polls ``<id>/status/`` (staff-only
JSON) while the finish job is queued or running.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts.audit import Actor
from core.admin import (
    ExtraView,
    FormPage,
    ImageAdminAccess,
    PanelsAboveForm,
    job_duration,
    job_of,
    progress_bar,
)
from core.exceptions import ApplicationError, Conflict, InvalidName, StorageUnavailable
from imagesets.admin.forms import ImageSetCreateForm, ImageSetForm
from imagesets.models import ImageSet
from imagesets.selectors import imageset_get, imageset_image_count, imageset_list_counted
from imagesets.services import (
    imageset_create,
    imageset_delete,
    imageset_dropbox_url,
    imageset_finish,
    imageset_job_retry,
)
from integrations.storage import StorageError

JOB_POLL_SECONDS = 1
NONE = "—"


def imageset_status_payload(imageset: ImageSet, *, image_count: int) -> dict:
    """What the job panel shows: the set's status, its image count and the contract's ``job``."""
    job = job_of(imageset)
    return {
        "imageset_id": imageset.pk,
        "title": imageset.title,
        "status": imageset.status,
        "image_count": image_count,
        "job": job.as_contract() if job else None,
        "job_took": job_duration(job),
        # Failed, or stuck (its worker died, or the broker never got it): staff may retry it.
        "may_retry": bool(job and job.may_retry),
    }


def _on_set(service, request) -> Callable[[ImageSet], object]:
    """A service taking ``imageset_id``, called for a set row (an action's or a button's) by the request's user."""
    actor = Actor.of_request(request)
    return lambda imageset: service(imageset_id=imageset.pk, actor=actor)


# The change page's read-only fields after the title and the editable metadata. The status, the image
# count and the job are only in the job panel above the form, which follows the job live: a field
# here would keep saying "queued" under a panel saying "succeeded".
DETAILS = ("blobstorage_path", "created_by", "date_created", "date_finished")


@admin.register(ImageSet)
class ImageSetAdmin(ImageAdminAccess, PanelsAboveForm, admin.ModelAdmin):
    form = ImageSetForm
    list_display = (
        "title",
        "status",
        "image_count",
        "job_status",
        "job_progress",
        "date_created",
        "date_finished",
        "created_by",
    )
    list_filter = ("status", "job__status")
    search_fields = ("title",)
    list_select_related = ("job", "created_by")
    ordering = ("-id",)
    actions = ["finish", "retry_failed_job", "delete_selected"]
    fields = ("title", "metadata", *DETAILS)
    readonly_fields = ("title", *DETAILS)
    extra_views = (
        ExtraView("<rowid:object_id>/status/", "status_view", "status", methods=("GET",)),
        ExtraView("<rowid:object_id>/finish/", "finish_view", "finish", methods=("POST",)),
        ExtraView("<rowid:object_id>/retry/", "retry_view", "retry", methods=("POST",)),
    )
    create_form = ImageSetCreateForm
    create_page = FormPage(
        title="Add image set",
        submit="Create image set",
        intro="A new set gets a dropbox: upload images to it from its page (or any client), then finish it.",
    )
    create_error_fields = (((InvalidName, Conflict), "title"),)

    class Media:
        js = ["imagesets/imageset_admin.js"]

    def get_queryset(self, request):
        return imageset_list_counted().order_by(*self.get_ordering(request))

    def select_object(self, object_id: int) -> ImageSet:
        return imageset_get(imageset_id=object_id)

    # --- columns ------------------------------------------------------------------

    @admin.display(description="images", ordering="image_count")
    def image_count(self, obj) -> int:
        return obj.image_count

    @admin.display(description="job", ordering="job__status")
    def job_status(self, obj) -> str:
        job = job_of(obj)
        return job.get_status_display() if job else NONE

    @admin.display(description="progress")
    def job_progress(self, obj):
        job = job_of(obj)
        return progress_bar(job.done, job.total) if job else NONE

    # --- actions -----------------------------------------------------------------

    @admin.action(description="Finish the selected image sets (copy and register their uploads)")
    def finish(self, request, queryset):
        done = "{count} image set(s) finished; the job is queued."
        self.run_per_row(request, queryset.order_by("id"), _on_set(imageset_finish, request), done=done)

    @admin.action(description="Retry the failed or stuck job of the selected image sets")
    def retry_failed_job(self, request, queryset):
        done = "{count} job(s) queued again."
        self.run_per_row(request, queryset.order_by("id"), _on_set(imageset_job_retry, request), done=done)

    @admin.action(permissions=["delete"], description="Delete the selected image sets and their dropboxes")
    def delete_selected(self, request, queryset):
        """Django's confirmation page, then each set through ``imageset_delete``; a refusal is reported per set."""
        if not request.POST.get("post"):
            return django_delete_selected(self, request, queryset)
        _, _, perms_needed, protected = self.get_deleted_objects(queryset, request)
        if perms_needed or protected:
            return django_delete_selected(self, request, queryset)  # the page that says why not
        done = "{count} image set(s) deleted with their dropboxes."
        self.run_per_row(request, queryset.order_by("id"), partial(self._delete_logged, request), done=done)
        return None

    def _delete_logged(self, request, imageset: ImageSet) -> None:
        try:
            with transaction.atomic():  # the log entry only if the set really goes
                self.log_deletions(request, [imageset])
                imageset_delete(imageset_id=imageset.pk, actor=Actor.of_request(request))
        except StorageError as exc:
            raise StorageUnavailable(f"storage is unavailable, not deleted: {exc}") from exc

    # --- deletion: always through imageset_delete (the dropbox and its upload URLs go too) ----

    def delete_model(self, request, obj):
        imageset_delete(imageset_id=obj.pk, actor=Actor.of_request(request))

    def delete_queryset(self, request, queryset):
        for imageset in queryset.order_by("id"):
            imageset_delete(imageset_id=imageset.pk, actor=Actor.of_request(request))

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except (ApplicationError, StorageError) as exc:
            # The admin's transaction rolled back: nothing is deleted, not even the log entry.
            detail = exc.detail if isinstance(exc, ApplicationError) else f"storage is unavailable: {exc}"
            self.message_user(request, f"Not deleted: {detail}", messages.ERROR)
            return redirect(self.admin_url("change", object_id))

    # --- pages -------------------------------------------------------------------

    def create(self, request, form):
        """Create a set through ``imageset_create`` (which makes its dropbox), then go to its page to upload."""
        data = form.cleaned_data
        imageset = imageset_create(title=data["title"], metadata=data["metadata"], created_by=request.user)
        message = f"Image set {imageset.title} created. Upload its images below, then finish it."
        self.message_user(request, message, messages.SUCCESS)
        return imageset, redirect(self.admin_url("change", imageset.pk))

    def panels(self, request, imageset: ImageSet) -> dict:
        """The upload panel (while the set is open) and the job panel above the form."""
        image_count = imageset_image_count(imageset_id=imageset.pk)
        context = {
            "status": imageset.status,
            "is_created": imageset.status == ImageSet.Status.CREATED,
            "payload": imageset_status_payload(imageset, image_count=image_count),
            "image_count": image_count,
            "job": job_of(imageset),
            "poll_seconds": JOB_POLL_SECONDS,
            "storage_backend": settings.STORAGE_BACKEND,
            "urls": {
                "status": self.admin_url("status", imageset.pk),
                "finish": self.admin_url("finish", imageset.pk),
                "retry": self.admin_url("retry", imageset.pk),
                "images": reverse("admin:imagesets_image_changelist") + f"?imageset__id__exact={imageset.pk}",
            },
        }
        if context["is_created"]:
            context.update(self._dropbox(request, imageset))
        return context

    @staticmethod
    def _dropbox(request, imageset: ImageSet) -> dict:
        """The dropbox URL to upload to (made afresh on every view) and when it expires."""
        expires = timezone.now() + timedelta(days=settings.IMAGESET_UPLOAD_TOKEN_VALID_DAYS)
        try:
            url = imageset_dropbox_url(imageset_id=imageset.pk)
        except (StorageError, ApplicationError) as exc:
            return {"dropbox_error": f"The dropbox URL is unavailable: {exc}"}
        return {
            "dropbox_url": request.build_absolute_uri(url),
            "dropbox_expires": expires,
            "dropbox_valid_days": settings.IMAGESET_UPLOAD_TOKEN_VALID_DAYS,
        }

    def status_view(self, request, object_id: int):
        """Staff-only JSON the job panel polls: status, image count and the contract's ``job``."""
        imageset = self.guarded_object(request, object_id, change=False)
        image_count = imageset_image_count(imageset_id=imageset.pk)
        return JsonResponse(imageset_status_payload(imageset, image_count=image_count))  # admin_view: never_cache

    def finish_view(self, request, object_id: int):
        done = "{title} finished; its job copies and registers the uploads."
        return self.run_on_object(request, object_id, _on_set(imageset_finish, request), done=done)

    def retry_view(self, request, object_id: int):
        done = "{title}: the job is queued again."
        return self.run_on_object(request, object_id, _on_set(imageset_job_retry, request), done=done)
