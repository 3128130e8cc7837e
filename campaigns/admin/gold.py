"""Gold images in the admin: the campaign page's quality panel, and a small list to view and remove references.

References are given through the API (``PUT /campaigns/{id}/gold``, ``.../gold/from_campaign``) or
``manage.py import_labels --gold``; here staff see them, each with its latest score, and remove one
(``gold_delete``, audited).
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.audit import Actor
from campaigns.admin.history import review_link
from campaigns.gold.selectors import campaign_quality, gold_admin_list
from campaigns.models import Campaign, GoldBox, GoldImage, GoldScore
from campaigns.services import gold_delete
from core.admin import AdminBase, ImageAdminAccess, ReadOnlyAdminMixin


def gold_panel(campaign: Campaign) -> dict:
    """The campaign page's gold panel: its gold images, the pooled figures, per label (two queries)."""
    quality = campaign_quality(campaign_id=campaign.pk)
    return {
        **quality,
        "by_label": sorted(quality["by_label"].items()),
        "min_f1": campaign.gold_min_f1,
        "below_min": (
            campaign.gold_min_f1 is not None and quality["f1"] is not None and quality["f1"] < campaign.gold_min_f1
        ),
        "list_url": reverse("admin:campaigns_goldimage_changelist") + f"?campaign__id__exact={campaign.pk}",
    }


class GoldBoxInline(ReadOnlyAdminMixin, ImageAdminAccess, admin.TabularInline):
    model = GoldBox
    extra = 0
    fields = ("label", "xmin", "ymin", "xmax", "ymax", "position")
    readonly_fields = fields
    can_delete = False
    verbose_name = "reference box"
    verbose_name_plural = "reference boxes"


class GoldScoreInline(ReadOnlyAdminMixin, ImageAdminAccess, admin.TabularInline):
    model = GoldScore
    extra = 0
    fields = ("submission", "latest", "tp", "fp", "fn", "precision", "recall", "f1", "mean_iou", "date_submitted")
    readonly_fields = fields
    can_delete = False
    ordering = ("-id",)
    verbose_name_plural = "scores of the agency's deliveries, newest first"


@admin.register(GoldImage)
class GoldImageAdmin(ReadOnlyAdminMixin, ImageAdminAccess, AdminBase, admin.ModelAdmin):
    """Gold images: each reference with its latest score; the action removes references (audited)."""

    list_display = ("image_id", "campaign", "source", "boxes", "latest_f1", "date_updated", "review")
    list_filter = ("campaign", "source")
    search_fields = ("campaign__title", "image__blobstorage_path")
    fields = ("campaign", "image", "source", "source_campaign", "created_by", "date_created", "date_updated")
    readonly_fields = fields
    inlines = [GoldBoxInline, GoldScoreInline]
    actions = ["remove_gold"]

    def get_queryset(self, request):
        return gold_admin_list()

    @admin.display(description="image", ordering="image_id")
    def image_id(self, obj):
        return obj.image_id

    @admin.display(description="reference boxes", ordering="box_count")
    def boxes(self, obj):
        return obj.box_count

    @admin.display(description="latest F1", ordering="latest_f1")
    def latest_f1(self, obj):
        return "not delivered yet" if obj.latest_f1 is None else f"{obj.latest_f1:.3f}"

    @admin.display(description="")
    def review(self, obj):
        return review_link(obj.campaign_id, obj.image_id)

    @admin.action(description="Remove the selected gold images (their references and scores)")
    def remove_gold(self, request, queryset):
        actor = Actor.of_request(request)
        self.run_per_row(
            request,
            queryset,
            lambda gold: gold_delete(campaign_id=gold.campaign_id, image_id=gold.image_id, actor=actor),
            done="Removed {count} gold image(s); they stay in their campaigns as ordinary images.",
        )

    def row_title(self, obj) -> str:
        return format_html("image {} of {}", obj.image_id, obj.campaign)
