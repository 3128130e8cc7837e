"""Campaigns in the admin: progress and status at a glance, transitions through the services.

Status changes are actions calling the same services as the API (so the same
locks and checks apply); objects and submissions are read-only history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from campaigns import services
from campaigns.models import Campaign, CampaignImage, CampaignJob, CampaignLabeler, Object, Submission
from labelhub.exceptions import ApplicationError


class ReadOnlyAdminMixin:
    """History is never edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ("metadata", "label_translations")

    def _clean_with(self, field, check):
        try:
            return check(self.cleaned_data.get(field))
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from None

    def clean_metadata(self):
        return self._clean_with("metadata", services.validate_metadata)

    def clean_label_translations(self):
        return self._clean_with("label_translations", services.validate_label_translations)


class CampaignLabelerInline(admin.TabularInline):
    model = CampaignLabeler
    extra = 0
    fields = ("user", "date_added")
    readonly_fields = ("date_added",)
    raw_id_fields = ("user",)


class CampaignImageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CampaignImage
    extra = 0
    fields = ("image", "labeled", "date_labeled", "current_submission")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("image")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ("title", "status", "progress", "labeler_emails", "export", "date_created", "date_finished")
    list_filter = ("status",)
    search_fields = ("title", "labelers__email")
    readonly_fields = (
        "title", "status", "progress", "export", "export_error", "created_by",
        "date_created", "date_started", "date_completed", "date_finished",
    )
    fields = (
        "title", "status", "progress", "metadata", "label_translations", "created_by",
        "date_created", "date_started", "date_completed", "date_finished", "export", "export_error",
    )
    inlines = [CampaignLabelerInline, CampaignImageInline]
    actions = ["activate", "complete", "reopen", "finish", "retry_export"]

    def get_queryset(self, request):
        return (
            super().get_queryset(request)
            .with_progress()
            .select_related("created_by", "job")
            .prefetch_related("labelers")
        )

    def has_add_permission(self, request):
        # A campaign is created with its labeler and their key: POST /campaigns shows the secret.
        return False

    @admin.display(description="progress", ordering="progress_done")
    def progress(self, obj):
        return f"{obj.progress_done}/{obj.progress_total}"

    @admin.display(description="labelers")
    def labeler_emails(self, obj):
        return ", ".join(user.email for user in obj.labelers.all()) or "-"

    @admin.display(description="export")
    def export(self, obj):
        job = getattr(obj, "job", None)
        if job is None:
            return "-"
        return f"{job.status} ({job.done}/{job.total})"

    @admin.display(description="export error")
    def export_error(self, obj):
        job = getattr(obj, "job", None)
        return (job.error if job else None) or "-"

    def _apply(self, request, queryset, verb: str, change) -> None:
        done = 0
        for campaign in queryset:
            try:
                change(campaign)
                done += 1
            except ApplicationError as exc:
                messages.error(request, f"{campaign.title}: {exc.detail}")
        if done:
            messages.success(request, f"{verb} {done} campaign(s).")

    @admin.action(description="Activate (created → active)")
    def activate(self, request, queryset):
        self._apply(request, queryset, "Activated", lambda c: services.campaign_set_status(
            campaign_id=c.pk, new_status=Campaign.Status.ACTIVE, from_status=Campaign.Status.CREATED,
            user=request.user,
        ))

    @admin.action(description="Mark completed (active → completed)")
    def complete(self, request, queryset):
        self._apply(request, queryset, "Completed", lambda c: services.campaign_set_status(
            campaign_id=c.pk, new_status=Campaign.Status.COMPLETED, user=request.user,
        ))

    @admin.action(description="Reopen (completed → active)")
    def reopen(self, request, queryset):
        self._apply(request, queryset, "Reopened", lambda c: services.campaign_set_status(
            campaign_id=c.pk, new_status=Campaign.Status.ACTIVE, from_status=Campaign.Status.COMPLETED,
            user=request.user,
        ))

    @admin.action(description="Finish and export (completed → finished)")
    def finish(self, request, queryset):
        self._apply(request, queryset, "Finished", lambda c: services.campaign_set_status(
            campaign_id=c.pk, new_status=Campaign.Status.FINISHED, user=request.user,
        ))

    @admin.action(description="Retry the failed export")
    def retry_export(self, request, queryset):
        self._apply(request, queryset, "Queued the export of", lambda c: services.campaign_export_retry(
            campaign_id=c.pk,
        ))


class ObjectInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Object
    extra = 0
    fields = ("label", "label_original", "confidence", "xmin", "xmax", "ymin", "ymax", "position", "date_added")
    readonly_fields = fields
    can_delete = False


class ImageRevisionInline(ObjectInline):
    """Every object ever submitted for the image, newest submission first."""

    fields = ("submission", "current", *ObjectInline.fields)
    readonly_fields = fields
    ordering = ("-submission_id", "position")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign_image", "submission")

    @admin.display(boolean=True, description="current")
    def current(self, obj):
        return obj.submission_id == obj.campaign_image.current_submission_id


@admin.register(CampaignImage)
class CampaignImageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A campaign image with its revisions: the objects of every submission, current ones flagged."""

    list_display = ("image", "campaign", "labeled", "date_labeled", "current_submission")
    list_filter = ("labeled", "campaign")
    search_fields = ("image__blobstorage_path", "campaign__title")
    list_select_related = ("image", "campaign")
    fields = ("campaign", "image", "labeled", "date_labeled", "current_submission")
    readonly_fields = fields
    inlines = [ImageRevisionInline]


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "campaign", "user", "api_key", "image_count", "object_count", "date_created")
    list_filter = ("campaign",)
    search_fields = ("user__email", "api_key__key", "campaign__title")
    list_select_related = ("campaign", "user", "api_key__user")
    fields = ("campaign", "user", "api_key", "image_count", "object_count", "date_created")
    readonly_fields = fields
    inlines = [ObjectInline]


@admin.register(Object)
class ObjectAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "label", "label_original", "confidence", "box", "image_id", "campaign", "submission", "current")
    list_filter = (("campaign_image__campaign", admin.RelatedOnlyFieldListFilter), "label")
    search_fields = ("label", "label_original")
    list_select_related = ("campaign_image__campaign",)
    readonly_fields = (
        "campaign_image", "submission", "label", "label_original", "confidence",
        "xmin", "xmax", "ymin", "ymax", "position", "date_added",
    )
    fields = readonly_fields

    @admin.display(description="box (xmin, ymin, xmax, ymax)")
    def box(self, obj):
        return f"{obj.xmin}, {obj.ymin}, {obj.xmax}, {obj.ymax}"

    @admin.display(description="image", ordering="campaign_image__image_id")
    def image_id(self, obj):
        return obj.campaign_image.image_id

    @admin.display(description="campaign", ordering="campaign_image__campaign")
    def campaign(self, obj):
        return obj.campaign_image.campaign

    @admin.display(boolean=True, description="current")
    def current(self, obj):
        return obj.submission_id == obj.campaign_image.current_submission_id


@admin.register(CampaignJob)
class CampaignJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("campaign", "status", "done", "total", "attempts", "date_queued", "date_done")
    list_filter = ("status",)
    list_select_related = ("campaign",)
    fields = (
        "campaign", "status", "done", "total", "error", "result", "attempts", "task_id",
        "date_queued", "date_started", "date_done",
    )
    readonly_fields = fields
