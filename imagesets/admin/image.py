"""The image admin: thumbnails, dimensions and filters; other apps add theirs through ``imagesets.hooks``.

Thumbnails are small derived copies (``imagesets.derived``, served by the
pages of ``imagesets.admin.derived``), made on first request and kept in
storage; the image's page shows its display copy. The original is one click
away: the size column and the preview open it. Naming these URLs costs no
query and no storage call.

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
from imagesets.admin.derived import DerivedImagePages
from imagesets.admin.filters import TakenWhenAndWhereFilter
from imagesets.derived import image_derived_delete, image_display_url, image_original_url, image_thumbnail_url
from imagesets.hooks import image_admin_extensions
from imagesets.inputs import LAT_LIMIT, LON_LIMIT
from imagesets.models import Image

THUMB_BOX = (80, 80)
PREVIEW_BOX = (480, 360)  # as admin.css caps img.lh-preview
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
            "date_taken": "From the file's EXIF unless set here (setting it marks it as set by hand). Usually the "
            "camera's clock reading, in whatever zone the camera was set to, kept as it was; only a file that "
            "records its UTC offset gives the exact moment, kept in UTC.",
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


def _img(url: str, image: Image, css_class: str, box: tuple[int, int]):
    """A derived copy scaled into ``box`` (width, height; sized up front, so rows do not jump while loading)."""
    size = fit_size(*image.display_size, box=box)  # upright, as its EXIF orientation says
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
class ImageAdmin(DerivedImagePages, ImageAdminAccess, AdminBase, admin.ModelAdmin):
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

    # Deleting an image (superusers only) takes its derived copies with it, once the delete commits.
    def delete_model(self, request, obj):
        image_id, path = obj.pk, obj.blobstorage_path
        super().delete_model(request, obj)
        image_derived_delete(image_id=image_id, blobstorage_path=path)

    def delete_queryset(self, request, queryset):
        doomed = list(queryset.values_list("pk", "blobstorage_path"))
        super().delete_queryset(request, queryset)
        for image_id, path in doomed:
            image_derived_delete(image_id=image_id, blobstorage_path=path)

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
        return _img(image_thumbnail_url(image=obj), obj, "lh-thumb", THUMB_BOX)

    @admin.display(description="preview")
    def preview(self, obj):
        if obj.pk is None:
            return "—"
        original = image_original_url(image=obj)
        return format_html(
            '<a href="{}" title="Open the original">{}</a><p><a href="{}">Open the original</a> ({}{})</p>',
            original,
            _img(image_display_url(image=obj), obj, "lh-preview", PREVIEW_BOX),
            original,
            obj.filetype or "file",
            "" if obj.filesize is None else f", {filesizeformat(obj.filesize)}",
        )

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
    def size(self, obj):
        """The file's size, a link to the original."""
        text = "—" if obj.filesize is None else filesizeformat(obj.filesize)
        return format_html('<a href="{}" title="Open the original">{}</a>', image_original_url(image=obj), text)
