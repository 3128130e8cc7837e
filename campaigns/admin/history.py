"""What happened in a campaign, read-only: its images, every submission, every object, the export job."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from campaigns.models import BoundingBox, CampaignImage, CampaignJob, Submission
from core.admin import AdminBase, ImageAdminAccess, ReadOnlyAdminMixin, job_duration


class BoundingBoxInline(ReadOnlyAdminMixin, ImageAdminAccess, admin.TabularInline):
    model = BoundingBox
    extra = 0
    fields = ("label", "label_original", "confidence", "xmin", "xmax", "ymin", "ymax", "position", "date_added")
    readonly_fields = fields
    can_delete = False


class ImageRevisionInline(BoundingBoxInline):
    """Every object ever submitted for the image, newest submission first."""

    fields = ("submission", "current", *BoundingBoxInline.fields)
    readonly_fields = fields
    ordering = ("-submission_id", "position")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign_image", "submission")

    @admin.display(boolean=True, description="current")
    def current(self, obj):
        return obj.submission_id == obj.campaign_image.current_submission_id


def review_link(campaign_id: int, image_id: int):
    return format_html(
        '<a href="{}">review</a>', reverse("admin:campaigns_campaign_review_image", args=[campaign_id, image_id])
    )


@admin.register(CampaignImage)
class CampaignImageAdmin(ReadOnlyAdminMixin, ImageAdminAccess, AdminBase, admin.ModelAdmin):
    """A campaign image with its revisions: the objects of every submission, current ones flagged."""

    list_display = ("image", "campaign", "labeled", "date_labeled", "current_submission", "review")
    list_filter = ("labeled", "campaign")
    search_fields = ("image__blobstorage_path", "campaign__title")
    list_select_related = ("image", "campaign")
    fields = ("campaign", "image", "labeled", "date_labeled", "current_submission", "review")
    readonly_fields = fields
    inlines = [ImageRevisionInline]

    @admin.display(description="review")
    def review(self, obj):
        return review_link(obj.campaign_id, obj.image_id)


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdminMixin, ImageAdminAccess, AdminBase, admin.ModelAdmin):
    list_display = ("id", "campaign", "source", "user", "api_key", "image_count", "object_count", "date_created")
    list_filter = ("source", "campaign")
    search_fields = ("user__email", "api_key__key", "campaign__title")
    list_select_related = ("campaign", "user", "api_key__user")
    fields = (
        "campaign",
        "source",
        "model_name",
        "model_version",
        "user",
        "api_key",
        "image_count",
        "object_count",
        "date_created",
    )
    readonly_fields = fields
    inlines = [BoundingBoxInline]


@admin.register(BoundingBox)
class BoundingBoxAdmin(ReadOnlyAdminMixin, ImageAdminAccess, AdminBase, admin.ModelAdmin):
    list_display = (
        "id",
        "label",
        "label_original",
        "confidence",
        "box",
        "image_id",
        "campaign",
        "submission",
        "current",
    )
    list_filter = (("campaign_image__campaign", admin.RelatedOnlyFieldListFilter), "label")
    search_fields = ("label", "label_original")
    list_select_related = ("campaign_image__campaign",)
    readonly_fields = (
        "campaign_image",
        "submission",
        "label",
        "label_original",
        "confidence",
        "xmin",
        "xmax",
        "ymin",
        "ymax",
        "position",
        "date_added",
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
class CampaignJobAdmin(ReadOnlyAdminMixin, ImageAdminAccess, AdminBase, admin.ModelAdmin):
    list_display = ("campaign", "status", "done", "total", "attempts", "date_queued", "date_done", "took")
    list_filter = ("status",)
    list_select_related = ("campaign",)
    fields = (
        "campaign",
        "status",
        "done",
        "total",
        "error",
        "result",
        "attempts",
        "task_id",
        "date_queued",
        "date_started",
        "date_done",
        "took",
    )
    readonly_fields = fields

    @admin.display(description="took")
    def took(self, obj) -> str:
        return job_duration(obj) or "—"
