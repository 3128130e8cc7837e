"""What campaigns adds to the image admin, registered through ``imagesets.hooks`` (imagesets never imports campaigns).

* a filter: the images of one campaign;
* the action "Add to campaign…": an intermediate page choosing a campaign in
  ``created``, then ``campaign_add_images`` with the selected ids;
* on an image's page: the campaigns that hold it, labeled or not, with a link to its review.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from campaigns.selectors import campaign_filter_choices, campaigns_taking_images, image_campaign_list
from campaigns.services import campaign_add_images
from core.admin import parse_id, render_form_page
from core.exceptions import ApplicationError
from imagesets.hooks import ImageAdminExtension, register_image_admin_extension

CAMPAIGNS_IN_FILTER = 100
IMAGES_PREVIEWED = 12


class CampaignFilter(admin.SimpleListFilter):
    """Images of one campaign (the most recent campaigns are listed; any id works in the URL)."""

    title = "campaign"
    parameter_name = "campaign"

    def lookups(self, request, model_admin):
        choices = campaign_filter_choices(limit=CAMPAIGNS_IN_FILTER, selected=parse_id(self.value()))
        return [(str(pk), title) for pk, title in choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        campaign_id = parse_id(value)
        if campaign_id is None:
            # Not Django's "?e=1" (which drops the filter and lists every image): nothing is listed, so
            # "select all" cannot take every image, and the list says why.
            if request.method == "GET":
                messages.error(request, f"No campaign has the id “{value}”, so no image is listed.")
            return queryset.none()
        # One row per (campaign, image): the join never duplicates an image.
        return queryset.filter(campaign_images__campaign_id=campaign_id)


@admin.display(description="campaigns")
def campaigns_of_image(image):
    rows = image_campaign_list(image_id=image.pk)
    if not rows:
        return "—"
    return format_html_join(
        format_html("<br>"),
        '<a href="{}">{}</a> ({}, <a href="{}">review</a>)',
        (
            (
                reverse("admin:campaigns_campaign_change", args=[row.campaign_id]),
                row.campaign.title,
                "labeled" if row.labeled else "not labeled",
                reverse("admin:campaigns_campaign_review_image", args=[row.campaign_id, image.pk]),
            )
            for row in rows
        ),
    )


class AddToCampaignForm(forms.Form):
    campaign = forms.ModelChoiceField(
        queryset=campaigns_taking_images(),
        empty_label=None,
        help_text="Images are added while a campaign is <em>created</em>; images already in it are kept once.",
        error_messages={
            "required": "Choose a campaign.",
            "invalid_choice": "That campaign no longer takes images (only a campaign not yet activated does): "
            "choose another.",
        },
    )


@admin.action(description="Add to campaign…")
def add_to_campaign(modeladmin, request, queryset):
    """An intermediate page choosing a campaign in ``created``; then every selected image is added."""
    if not queryset.exists():  # e.g. "select all" on a list whose filter is not valid lists nothing
        modeladmin.message_user(request, "No image is selected in the list shown; nothing was added.", messages.ERROR)
        return None
    applying = "apply" in request.POST
    form = AddToCampaignForm(request.POST if applying else None)
    if not (applying and form.is_valid()):
        return _choose_campaign(modeladmin, request, queryset, form)
    campaign = form.cleaned_data["campaign"]
    image_ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    try:
        added = campaign_add_images(campaign_id=campaign.pk, image_ids=image_ids)
    except ApplicationError as exc:
        # The picker stays open with the choice and the reason, as for any other form error.
        form.add_error("campaign", f"Not added: {exc.detail}")
        return _choose_campaign(modeladmin, request, queryset, form)
    modeladmin.message_user(
        request,
        f"Added {added.new} image(s) to {campaign.title} ({added.listed - added.new} already in it); "
        f"it now holds {added.total}.",
        messages.SUCCESS,
    )
    return redirect("admin:campaigns_campaign_change", campaign.pk)


def _choose_campaign(modeladmin, request, queryset, form):
    count = queryset.count()
    # Re-post exactly what the change list posted, so the action runs on the same images
    # (including "select all N" across pages with the list's filters).
    hidden = [("action", "add_to_campaign"), ("select_across", request.POST.get("select_across", "0"))]
    hidden += [(ACTION_CHECKBOX_NAME, pk) for pk in request.POST.getlist(ACTION_CHECKBOX_NAME)]
    return render_form_page(
        request,
        modeladmin,
        form=form,
        hidden=hidden,
        title="Add images to a campaign",
        submit=f"Add {count} image(s)",
        intro=f"{count} image(s) selected. Choose the campaign to add them to.",
        cancel_url=request.get_full_path(),
        template="admin/campaigns/image/add_to_campaign.html",
        no_campaign=not form.fields["campaign"].queryset.exists(),
        campaign_add_url=reverse("admin:campaigns_campaign_add"),
        preview=list(queryset.select_related("imageset")[:IMAGES_PREVIEWED]),
        count=count,
    )


register_image_admin_extension(
    ImageAdminExtension(
        list_filters=(CampaignFilter,),
        actions=(add_to_campaign,),
        readonly_fields=(campaigns_of_image,),
    )
)
