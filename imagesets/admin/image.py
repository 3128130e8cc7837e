"""The image admin: thumbnails, dimensions and filters; other apps add theirs through ``imagesets.hooks``.

Thumbnails are the images themselves through their signed read URL, scaled
by the browser: signing is local computation (no query, no storage call), and
nothing is generated or stored server-side.

Campaigns adds a campaign filter, the "Add to campaign…" action and the
campaigns of an image (``campaigns.admin.images``); they are read per request
from ``image_admin_extensions()``, since the admin modules load before every
app has registered its extension.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html

from core.admin import AdminBase, ImageAdminAccess, JsonObjectField, fit_size
from imagesets.admin.filters import TakenWhenAndWhereFilter
from imagesets.hooks import image_admin_extensions
from imagesets.inputs import LAT_LIMIT, LON_LIMIT
from imagesets.models import Image
from imagesets.selectors import image_read_url
from integrations.storage import StorageError

THUMB_SIZE = 80
PREVIEW_SIZE = 480
READONLY = (
    "preview",
    "blobstorage_path",
    "imageset",
    "filetype",
    "content_type",
    "filesize",
    "width",
    "height",
    "orientation",
    "date_taken_by_hand",
    "location_by_hand",
    "date_added",
)
EDITABLE = ("type", "date_taken", "location_description", "lat", "lon", "tss_id", "metadata")


class ImageForm(forms.ModelForm):
    """Staff correct what the file said: a changed date or position is marked as set by hand.

    The finish job fills ``date_taken``, ``lat`` and ``lon`` from EXIF; a value
    staff set is kept whatever the job reads later (``Image.date_taken_by_hand``).
    """

    lat = forms.FloatField(
        required=False, min_value=-LAT_LIMIT, max_value=LAT_LIMIT, help_text="Decimal degrees, south negative."
    )
    lon = forms.FloatField(
        required=False, min_value=-LON_LIMIT, max_value=LON_LIMIT, help_text="Decimal degrees, west negative."
    )

    class Meta:
        model = Image
        fields = EDITABLE
        field_classes = {"metadata": JsonObjectField}
        help_texts = {
            "date_taken": "UTC. From the file's EXIF unless set here; setting it marks it as set by hand.",
        }

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("lat") is None) != (cleaned.get("lon") is None) and not self.errors:
            raise forms.ValidationError("Give both latitude and longitude, or neither.")
        return cleaned

    def mark_set_by_hand(self, image: Image) -> None:
        if "date_taken" in self.changed_data:
            image.date_taken_by_hand = True
        if {"lat", "lon"} & set(self.changed_data):
            image.location_by_hand = True


def _img(image: Image, css_class: str, box: int):
    """The image scaled into a ``box``×``box`` square (sized up front, so rows do not jump while loading)."""
    try:
        url = image_read_url(image=image)
    except StorageError:
        return "—"
    size = fit_size(*image.display_size, box=(box, box))  # the browser shows it turned by its EXIF orientation
    if size is None:
        return format_html('<img src="{}" class="{}" loading="lazy" alt="{}">', url, css_class, image.name)
    return format_html(
        '<img src="{}" class="{}" loading="lazy" alt="{}" width="{}" height="{}">',
        url,
        css_class,
        image.name,
        *size,
    )


@admin.register(Image)
class ImageAdmin(ImageAdminAccess, AdminBase, admin.ModelAdmin):
    form = ImageForm
    list_display = (
        "thumbnail",
        "id",
        "name",
        "imageset",
        "type",
        "filetype",
        "dimensions",
        "size",
        "date_taken",
        "location",
        "date_added",
    )
    list_display_links = ("thumbnail", "id", "name")
    list_filter = (TakenWhenAndWhereFilter, ("imageset", admin.RelatedOnlyFieldListFilter), "type", "filetype")
    list_select_related = ("imageset",)
    search_fields = ("blobstorage_path", "tss_id")
    ordering = ("-id",)
    actions = []
    readonly_fields = READONLY
    fields = (*READONLY, *EDITABLE)

    def has_add_permission(self, request):
        # Images come from finished image sets.
        return False

    def save_model(self, request, obj, form, change):
        form.mark_set_by_hand(obj)
        super().save_model(request, obj, form, change)

    # --- what other apps add (imagesets.hooks) ---------------------------------------

    def get_list_filter(self, request):
        return (*super().get_list_filter(request), *image_admin_extensions().list_filters)

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *image_admin_extensions().readonly_fields)

    def get_fields(self, request, obj=None):
        return (*READONLY, *image_admin_extensions().readonly_fields, *EDITABLE)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if IS_POPUP_VAR not in request.GET:
            for func in image_admin_extensions().actions:
                action = self.get_action(func)
                actions[action[1]] = action
        return actions

    # --- columns -------------------------------------------------------------------

    @admin.display(description="image")
    def thumbnail(self, obj):
        return _img(obj, "lh-thumb", THUMB_SIZE)

    @admin.display(description="preview")
    def preview(self, obj):
        return _img(obj, "lh-preview", PREVIEW_SIZE)

    @admin.display(description="name", ordering="blobstorage_path")
    def name(self, obj) -> str:
        return obj.name

    @admin.display(description="dimensions")
    def dimensions(self, obj) -> str:
        if obj.width is None or obj.height is None:
            return "—"
        return f"{obj.width}×{obj.height}"

    @admin.display(description="location")
    def location(self, obj) -> str:
        if obj.lat is None or obj.lon is None:
            return "—"
        return f"{obj.lat:.5f}, {obj.lon:.5f}"

    @admin.display(description="size", ordering="filesize")
    def size(self, obj) -> str:
        return "—" if obj.filesize is None else filesizeformat(obj.filesize)
