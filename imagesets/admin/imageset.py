"""The image-set admin: create a set, upload into its dropbox from the browser, finish, watch the job.

Every write goes through ``imagesets.services`` (the same checks and locks as
the API). The change page of a set shows its dropbox URL (copy button,
expiry) and an upload box that PUTs each file straight to that URL, exactly
as any API client does; the job panel polls ``<id>/status/`` (staff-only
JSON) while the finish job is queued or running.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from imagesets.models import ImageSet, ImageSetJob
from imagesets.services import (
    imageset_create,
    imageset_delete,
    imageset_dropbox_url,
    imageset_finish,
    imageset_job_retry,
)
from labelhub.admin import ImageAdminAccess, JsonObjectField, parse_id, render_form_page
from labelhub.exceptions import ApplicationError, Conflict, InvalidName
from labelhub.storage import StorageError

JOB_POLL_SECONDS = 1


def _job(imageset: ImageSet) -> ImageSetJob | None:
    try:
        return imageset.job
    except ImageSetJob.DoesNotExist:
        return None


def imageset_status_payload(imageset: ImageSet, *, image_count: int) -> dict:
    """What the job panel shows: the set's status, its image count and the contract's ``job``."""
    job = _job(imageset)
    return {
        "imageset_id": imageset.pk,
        "title": imageset.title,
        "status": imageset.status,
        "image_count": image_count,
        "job": job.as_contract() if job else None,
        # Failed, or stuck (its worker died, or the broker never got it): staff may retry it.
        "may_retry": bool(job and job.may_retry),
    }


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


class ImageSetCreateForm(forms.Form):
    title = forms.CharField(
        help_text="1–53 lowercase letters, digits and single dashes, e.g. <code>imageset-26-10-2020</code>. "
        "It names the dropbox and the set's folder in storage.",
        widget=forms.TextInput(attrs={"size": 53, "autofocus": True}),
    )
    metadata = JsonObjectField(
        required=False,
        help_text='Optional JSON object, e.g. <code>{"country": "Nederland"}</code>.',
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class ImageSetForm(forms.ModelForm):
    """The change page edits the metadata only (the other fields are read-only)."""

    class Meta:
        model = ImageSet
        fields = ("metadata",)
        field_classes = {"metadata": JsonObjectField}


@admin.register(ImageSet)
class ImageSetAdmin(ImageAdminAccess, admin.ModelAdmin):
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
    fields = (
        "title",
        "status",
        "metadata",
        "blobstorage_path",
        "created_by",
        "date_created",
        "date_finished",
        "image_count",
        "job_status",
        "job_progress",
        "job_error",
        "job_skipped",
        "job_dates",
    )
    readonly_fields = (
        "title",
        "status",
        "blobstorage_path",
        "created_by",
        "date_created",
        "date_finished",
        "image_count",
        "job_status",
        "job_progress",
        "job_error",
        "job_skipped",
        "job_dates",
    )

    class Media:
        css = {"all": ["labelhub/admin.css"]}
        js = ["labelhub/admin.js", "imagesets/imageset_admin.js"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_image_count=Count("images"))

    # --- columns and read-only fields ----------------------------------------

    @admin.display(description="images", ordering="_image_count")
    def image_count(self, obj) -> int:
        return obj._image_count

    @admin.display(description="job", ordering="job__status")
    def job_status(self, obj) -> str:
        job = _job(obj)
        return job.get_status_display() if job else "—"

    @admin.display(description="progress")
    def job_progress(self, obj):
        job = _job(obj)
        if not job:
            return "—"
        return format_html(
            '<progress class="lh-progress" value="{}" max="{}"></progress> {}/{}',
            job.done,
            max(job.total, 1),
            job.done,
            job.total,
        )

    @admin.display(description="job error")
    def job_error(self, obj) -> str:
        job = _job(obj)
        return (job.error or "—") if job else "—"

    @admin.display(description="skipped files")
    def job_skipped(self, obj) -> str:
        job = _job(obj)
        return ", ".join(job.skipped) if job and job.skipped else "—"

    @admin.display(description="job dates")
    def job_dates(self, obj) -> str:
        job = _job(obj)
        if not job:
            return "—"
        return (
            f"queued {job.date_queued:%Y-%m-%d %H:%M:%S}, started {job.date_started or '—'}, "
            f"done {job.date_done or '—'} (attempts: {job.attempts})"
        )

    # --- actions -----------------------------------------------------------------

    @admin.action(description="Finish the selected image sets (copy and register their uploads)")
    def finish(self, request, queryset):
        _run_per_set(self, request, queryset, imageset_finish, "{count} image set(s) finished; the job is queued.")

    @admin.action(description="Retry the failed or stuck job of the selected image sets")
    def retry_failed_job(self, request, queryset):
        _run_per_set(self, request, queryset, imageset_job_retry, "{count} job(s) queued again.")

    @admin.action(permissions=["delete"], description="Delete the selected image sets and their dropboxes")
    def delete_selected(self, request, queryset):
        """Django's confirmation page, then each set through ``imageset_delete``; a refusal is reported per set."""
        if not request.POST.get("post"):
            return django_delete_selected(self, request, queryset)
        _, _, perms_needed, protected = self.get_deleted_objects(queryset, request)
        if perms_needed or protected:
            return django_delete_selected(self, request, queryset)  # the page that says why not
        deleted = 0
        for imageset in queryset.order_by("id"):
            try:
                with transaction.atomic():  # the log entry only if the set really goes
                    self.log_deletions(request, ImageSet.objects.filter(pk=imageset.pk))
                    imageset_delete(imageset_id=imageset.pk)
            except ApplicationError as exc:
                self.message_user(request, f"{imageset.title}: {exc.detail}", messages.ERROR)
            except StorageError as exc:
                self.message_user(
                    request, f"{imageset.title}: storage is unavailable, not deleted: {exc}", messages.ERROR
                )
            else:
                deleted += 1
        if deleted:
            self.message_user(request, f"{deleted} image set(s) deleted with their dropboxes.", messages.SUCCESS)
        return None

    # --- deletion: always through imageset_delete (the dropbox and its upload URLs go too) ----

    def delete_model(self, request, obj):
        imageset_delete(imageset_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for imageset in queryset.order_by("id"):
            imageset_delete(imageset_id=imageset.pk)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except (ApplicationError, StorageError) as exc:
            # The admin's transaction rolled back: nothing is deleted, not even the log entry.
            detail = exc.detail if isinstance(exc, ApplicationError) else f"storage is unavailable: {exc}"
            self.message_user(request, f"Not deleted: {detail}", messages.ERROR)
            return redirect("admin:imagesets_imageset_change", object_id)

    # --- pages -------------------------------------------------------------------

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path("<rowid:object_id>/status/", wrap(self.status_view), name="imagesets_imageset_status"),
            path("<rowid:object_id>/finish/", wrap(self.finish_view), name="imagesets_imageset_finish"),
            path("<rowid:object_id>/retry/", wrap(self.retry_view), name="imagesets_imageset_retry"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """Create a set through ``imageset_create`` (which makes its dropbox), then go to its page to upload."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImageSetCreateForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                imageset = imageset_create(
                    title=form.cleaned_data["title"], metadata=form.cleaned_data["metadata"], created_by=request.user
                )
            except (InvalidName, Conflict) as exc:
                form.add_error("title", exc.detail)
            except ApplicationError as exc:
                form.add_error(None, exc.detail)
            except StorageError as exc:
                form.add_error(None, f"Storage is unavailable, nothing was created: {exc}")
            else:
                self.log_addition(request, imageset, [{"added": {}}])
                self.message_user(
                    request,
                    f"Image set {imageset.title} created. Upload its images below, then finish it.",
                    messages.SUCCESS,
                )
                return redirect("admin:imagesets_imageset_change", imageset.pk)
        return render_form_page(
            request,
            self,
            form=form,
            title="Add image set",
            submit="Create image set",
            intro="A new set gets a dropbox: upload images to it from its page (or any client), then finish it.",
            cancel_url=reverse("admin:imagesets_imageset_changelist"),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        imageset = self._get_set(object_id)
        if imageset is not None and self.has_view_permission(request, imageset):
            extra_context = {**(extra_context or {}), "lh": self._panel_context(request, imageset)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _get_set(self, object_id) -> ImageSet | None:
        imageset_id = parse_id(object_id)
        if imageset_id is None:
            return None
        return ImageSet.objects.select_related("job").filter(pk=imageset_id).first()

    def _panel_context(self, request, imageset: ImageSet) -> dict:
        image_count = imageset.images.count()
        context = {
            "status": imageset.status,
            "is_created": imageset.status == ImageSet.Status.CREATED,
            "payload": imageset_status_payload(imageset, image_count=image_count),
            "image_count": image_count,
            "job": _job(imageset),
            "poll_seconds": JOB_POLL_SECONDS,
            "storage_backend": settings.STORAGE_BACKEND,
            "urls": {
                "status": reverse("admin:imagesets_imageset_status", args=[imageset.pk]),
                "finish": reverse("admin:imagesets_imageset_finish", args=[imageset.pk]),
                "retry": reverse("admin:imagesets_imageset_retry", args=[imageset.pk]),
                "images": reverse("admin:imagesets_image_changelist") + f"?imageset__id__exact={imageset.pk}",
            },
        }
        if context["is_created"]:
            valid_for = timedelta(days=settings.IMAGESET_UPLOAD_TOKEN_VALID_DAYS)
            expires = timezone.now() + valid_for
            try:
                url = imageset_dropbox_url(imageset_id=imageset.pk)
            except (StorageError, ApplicationError) as exc:
                context["dropbox_error"] = f"The dropbox URL is unavailable: {exc}"
            else:
                context["dropbox_url"] = request.build_absolute_uri(url)
                context["dropbox_expires"] = expires
                context["dropbox_valid_days"] = settings.IMAGESET_UPLOAD_TOKEN_VALID_DAYS
        return context

    def _set_or_404(self, request, object_id: int, *, change: bool) -> ImageSet:
        imageset = self._get_set(object_id)
        if imageset is None:
            raise Http404("Image set not found")
        allowed = (
            self.has_change_permission(request, imageset) if change else self.has_view_permission(request, imageset)
        )
        if not allowed:
            raise PermissionDenied
        return imageset

    def status_view(self, request, object_id: int):
        """Staff-only JSON the job panel polls: status, image count and the contract's ``job``."""
        return require_GET(self._status)(request, object_id)

    def _status(self, request, object_id):
        imageset = self._set_or_404(request, object_id, change=False)
        payload = imageset_status_payload(imageset, image_count=imageset.images.count())
        return JsonResponse(payload)  # admin_view adds ``never_cache``

    def finish_view(self, request, object_id: int):
        return require_POST(self._finish)(request, object_id)

    def _finish(self, request, object_id):
        return self._run_service(
            request, object_id, imageset_finish, "{title} finished; its job copies and registers the uploads."
        )

    def retry_view(self, request, object_id: int):
        return require_POST(self._retry)(request, object_id)

    def _retry(self, request, object_id):
        return self._run_service(request, object_id, imageset_job_retry, "{title}: the job is queued again.")

    def _run_service(self, request, object_id, service, done: str):
        """Call ``service`` for the set; a refusal becomes an error message, as in the API's 409."""
        imageset = self._set_or_404(request, object_id, change=True)
        try:
            service(imageset_id=imageset.pk)
        except ApplicationError as exc:
            self.message_user(request, f"{imageset.title}: {exc.detail}", messages.ERROR)
        else:
            self.message_user(request, done.format(title=imageset.title), messages.SUCCESS)
        return redirect("admin:imagesets_imageset_change", imageset.pk)
