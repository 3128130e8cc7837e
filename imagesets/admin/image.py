"""The image admin: thumbnails, dimensions and filters, and the "Add to campaign…" action.

Thumbnails are the images themselves through their signed read URL, scaled
by the browser: signing is local computation (no query, no storage call), and
nothing is generated or stored server-side.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html

from campaigns.admin.adding import add_images_to_campaign
from campaigns.models import Campaign, CampaignImage
from imagesets.models import Image
from imagesets.selectors import image_read_url
from labelhub.admin import ImageAdminAccess, JsonObjectField, parse_id, render_form_page
from labelhub.exceptions import ApplicationError
from labelhub.storage import StorageError

THUMB_SIZE = 80
CAMPAIGNS_IN_FILTER = 100


def _fit(width: int | None, height: int | None, box: int) -> tuple[int, int] | None:
    """The displayed size of an image scaled into a ``box``×``box`` square (so rows do not jump while loading)."""
    if not width or not height:
        return None
    scale = min(box / width, box / height, 1)
    return max(1, round(width * scale)), max(1, round(height * scale))


class CampaignFilter(admin.SimpleListFilter):
    """Images of one campaign (the most recent campaigns are listed; any id works in the URL)."""

    title = "campaign"
    parameter_name = "campaign"

    def lookups(self, request, model_admin):
        campaigns = list(Campaign.objects.order_by("-id").values_list("pk", "title")[:CAMPAIGNS_IN_FILTER])
        selected = parse_id(self.value())
        if selected is not None and all(pk != selected for pk, _ in campaigns):
            campaigns += list(Campaign.objects.filter(pk=selected).values_list("pk", "title"))
        return [(str(pk), title) for pk, title in campaigns]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        campaign_id = parse_id(value)
        if campaign_id is None:
            raise IncorrectLookupParameters(f"Invalid campaign id {value!r}")
        # One row per (campaign, image): the join never duplicates an image.
        return queryset.filter(campaign_images__campaign_id=campaign_id)


class ImageForm(forms.ModelForm):
    class Meta:
        model = Image
        fields = ("type", "date_taken", "location_description", "lat", "lon", "tss_id", "metadata")
        field_classes = {"metadata": JsonObjectField}


class AddToCampaignForm(forms.Form):
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.filter(status=Campaign.Status.CREATED).order_by("-id"),
        empty_label=None,
        help_text="Images are added while a campaign is <em>created</em>; images already in it are kept once.",
    )


@admin.register(Image)
class ImageAdmin(ImageAdminAccess, admin.ModelAdmin):
    form = ImageForm
    list_display = ("thumbnail", "id", "name", "imageset", "type", "filetype", "dimensions", "size", "date_added")
    list_display_links = ("thumbnail", "id", "name")
    list_filter = (("imageset", admin.RelatedOnlyFieldListFilter), "type", "filetype", CampaignFilter)
    list_select_related = ("imageset",)
    search_fields = ("blobstorage_path", "tss_id")
    ordering = ("-id",)
    actions = ["add_to_campaign"]
    readonly_fields = (
        "preview",
        "blobstorage_path",
        "imageset",
        "filetype",
        "content_type",
        "filesize",
        "width",
        "height",
        "date_added",
        "campaigns_of_image",
    )
    fields = (
        "preview",
        "blobstorage_path",
        "imageset",
        "filetype",
        "content_type",
        "filesize",
        "width",
        "height",
        "date_added",
        "campaigns_of_image",
        "type",
        "date_taken",
        "location_description",
        "lat",
        "lon",
        "tss_id",
        "metadata",
    )

    class Media:
        css = {"all": ["labelhub/admin.css"]}
        js = ["labelhub/admin.js"]

    def has_add_permission(self, request):
        # Images come from finished image sets.
        return False

    # --- columns -------------------------------------------------------------------

    @staticmethod
    def _img(obj, css_class: str, box: int):
        try:
            url = image_read_url(image=obj)
        except StorageError:
            return "—"
        size = _fit(obj.width, obj.height, box)
        if size is None:
            return format_html('<img src="{}" class="{}" loading="lazy" alt="{}">', url, css_class, obj.name)
        return format_html(
            '<img src="{}" class="{}" loading="lazy" alt="{}" width="{}" height="{}">',
            url,
            css_class,
            obj.name,
            size[0],
            size[1],
        )

    @admin.display(description="image")
    def thumbnail(self, obj):
        return self._img(obj, "lh-thumb", THUMB_SIZE)

    @admin.display(description="preview")
    def preview(self, obj):
        return self._img(obj, "lh-preview", 480)

    @admin.display(description="name", ordering="blobstorage_path")
    def name(self, obj) -> str:
        return obj.name

    @admin.display(description="dimensions")
    def dimensions(self, obj) -> str:
        if obj.width is None or obj.height is None:
            return "—"
        return f"{obj.width}×{obj.height}"

    @admin.display(description="size", ordering="filesize")
    def size(self, obj) -> str:
        return "—" if obj.filesize is None else filesizeformat(obj.filesize)

    @admin.display(description="campaigns")
    def campaigns_of_image(self, obj):
        rows = list(CampaignImage.objects.filter(image=obj).select_related("campaign").order_by("campaign_id"))
        if not rows:
            return "—"
        links = [
            format_html(
                '<a href="{}">{}</a> ({}, <a href="{}">review</a>)',
                reverse("admin:campaigns_campaign_change", args=[row.campaign_id]),
                row.campaign.title,
                "labeled" if row.labeled else "not labeled",
                reverse("admin:campaigns_campaign_review_image", args=[row.campaign_id, obj.pk]),
            )
            for row in rows
        ]
        return format_html("<br>".join(["{}"] * len(links)), *links)

    # --- "Add to campaign…" ------------------------------------------------------

    @admin.action(description="Add to campaign…")
    def add_to_campaign(self, request, queryset):
        """An intermediate page choosing a campaign in ``created``; then every selected image is added."""
        applying = "apply" in request.POST
        form = AddToCampaignForm(request.POST if applying else None)
        if applying and form.is_valid():
            campaign = form.cleaned_data["campaign"]
            try:
                added = add_images_to_campaign(
                    campaign_id=campaign.pk, image_ids=queryset.order_by("pk").values_list("pk", flat=True)
                )
            except ApplicationError as exc:
                self.message_user(request, f"{campaign.title}: {exc.detail}", messages.ERROR)
                return None
            self.message_user(
                request,
                f"Added {added.new} image(s) to {campaign.title} ({added.listed - added.new} already in it); "
                f"it now holds {added.total}.",
                messages.SUCCESS,
            )
            return redirect("admin:campaigns_campaign_change", campaign.pk)

        count = queryset.count()
        # Re-post exactly what the change list posted, so the action runs on the same images
        # (including "select all N" across pages with the list's filters).
        hidden = [("action", "add_to_campaign"), ("select_across", request.POST.get("select_across", "0"))]
        hidden += [(ACTION_CHECKBOX_NAME, pk) for pk in request.POST.getlist(ACTION_CHECKBOX_NAME)]
        no_campaign = not form.fields["campaign"].queryset.exists()
        return render_form_page(
            request,
            self,
            form=form,
            hidden=hidden,
            title="Add images to a campaign",
            submit=f"Add {count} image(s)",
            intro=f"{count} image(s) selected. Choose the campaign to add them to.",
            cancel_url=request.get_full_path(),
            template="admin/imagesets/image/add_to_campaign.html",
            no_campaign=no_campaign,
            campaign_add_url=reverse("admin:campaigns_campaign_add"),
            preview=list(queryset.select_related("imageset")[:12]),
            count=count,
        )
