"""The campaign admin: create for an agency, add images, every status step, the export and its files.

Status changes (list actions and the buttons on a campaign's page) call the
same services as the API, so the same locks and checks apply; a refusal (the
API's 409) becomes an error message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.services import StaffEmailConflict
from campaigns import services
from campaigns.admin import review
from campaigns.admin.adding import add_images_to_campaign
from campaigns.admin.history import review_link
from campaigns.export.formats import labels_csv_chunks
from campaigns.models import Campaign, CampaignImage, CampaignJob, CampaignLabeler
from imagesets.models import Image, ImageSet
from labelhub.admin import (
    ImageAdminAccess,
    JsonObjectField,
    ShownSecret,
    parse_id,
    render_form_page,
    render_secrets_page,
)
from labelhub.exceptions import ApplicationError, Conflict, InvalidName
from labelhub.storage import StorageError, get_storage

Status = Campaign.Status

IMAGES_ON_PAGE = 50
IMAGESETS_OFFERED = 200
# Links to the export's files stay valid this long (they are made afresh on every page view).
FILE_LINK_VALID_FOR = timedelta(hours=1)


def _as_form_error(check):
    """Run one of the services' input checks as a form field's cleaning."""

    def clean(value):
        try:
            return check(value)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from None

    return clean


class CampaignForm(forms.ModelForm):
    """The change page edits only metadata and label translations."""

    class Meta:
        model = Campaign
        fields = ("metadata", "label_translations")
        field_classes = {"metadata": JsonObjectField, "label_translations": JsonObjectField}

    def clean_metadata(self):
        return _as_form_error(services.validate_metadata)(self.cleaned_data.get("metadata"))

    def clean_label_translations(self):
        return _as_form_error(services.validate_label_translations)(self.cleaned_data.get("label_translations"))


class CampaignCreateForm(forms.Form):
    title = forms.CharField(
        help_text="1–53 lowercase letters, digits and single dashes, e.g. <code>campaign-26-10-2020</code>.",
        widget=forms.TextInput(attrs={"size": 53, "autofocus": True}),
    )
    labeler_email = forms.EmailField(
        label="Agency e-mail",
        help_text="The labeler is found by this e-mail or created, and may label this campaign only.",
    )
    metadata = JsonObjectField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text='Optional JSON object, e.g. <code>{"to_be_used_for": "New train set"}</code>.',
    )
    label_translations = JsonObjectField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=(
            'Optional JSON object mapping a submitted label to the stored one, e.g. <code>{"PET": "Plastic"}</code>.'
        ),
    )

    def clean_metadata(self):
        return _as_form_error(services.validate_metadata)(self.cleaned_data.get("metadata"))

    def clean_label_translations(self):
        return _as_form_error(services.validate_label_translations)(self.cleaned_data.get("label_translations"))


@dataclass(frozen=True)
class Step:
    """One status step, offered as a list action and as a button on the campaign's page."""

    label: str
    verb: str  # for "<verb> 2 campaign(s)."
    offered_in: tuple[str, ...]
    run: Callable[[int, object], object]


STEPS: dict[str, Step] = {
    "activate": Step(
        "Activate",
        "Activated",
        (Status.CREATED,),
        lambda pk, user: services.campaign_set_status(
            campaign_id=pk, new_status=Status.ACTIVE, from_status=Status.CREATED, user=user
        ),
    ),
    "complete": Step(
        "Mark completed",
        "Completed",
        (Status.ACTIVE,),
        lambda pk, user: services.campaign_set_status(campaign_id=pk, new_status=Status.COMPLETED, user=user),
    ),
    "reopen": Step(
        "Reopen",
        "Reopened",
        (Status.COMPLETED,),
        lambda pk, user: services.campaign_set_status(
            campaign_id=pk, new_status=Status.ACTIVE, from_status=Status.COMPLETED, user=user
        ),
    ),
    "finish": Step(
        "Finish and export",
        "Finished",
        (Status.COMPLETED,),
        lambda pk, user: services.campaign_set_status(campaign_id=pk, new_status=Status.FINISHED, user=user),
    ),
    "retry_export": Step(
        "Retry the export",
        "Queued the export of",
        (Status.FINISHED,),
        lambda pk, user: services.campaign_export_retry(campaign_id=pk),
    ),
}


def _job(campaign: Campaign) -> CampaignJob | None:
    try:
        return campaign.job
    except CampaignJob.DoesNotExist:
        return None


def _progress_bar(done: int, total: int):
    return format_html(
        '<progress class="lh-progress" value="{}" max="{}"></progress> {}/{}', done, max(total, 1), done, total
    )


class CampaignLabelerInline(ImageAdminAccess, admin.TabularInline):
    model = CampaignLabeler
    extra = 0
    fields = ("user", "date_added")
    readonly_fields = ("date_added",)
    raw_id_fields = ("user",)


@admin.register(Campaign)
class CampaignAdmin(ImageAdminAccess, admin.ModelAdmin):
    form = CampaignForm
    list_display = ("title", "status", "progress", "labeler_emails", "export", "pages", "date_created", "date_finished")
    list_filter = ("status",)
    search_fields = ("title", "labelers__email")
    readonly_fields = (
        "title",
        "status",
        "progress",
        "export",
        "export_error",
        "created_by",
        "date_created",
        "date_started",
        "date_completed",
        "date_finished",
    )
    fields = (
        "title",
        "status",
        "progress",
        "metadata",
        "label_translations",
        "created_by",
        "date_created",
        "date_started",
        "date_completed",
        "date_finished",
        "export",
        "export_error",
    )
    inlines = [CampaignLabelerInline]
    actions = ["activate", "complete", "reopen", "finish", "retry_export"]

    class Media:
        css = {"all": ["labelhub/admin.css"]}
        js = ["labelhub/admin.js"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .with_progress()
            .select_related("created_by", "job")
            .prefetch_related("labelers")
        )

    # --- columns -----------------------------------------------------------------

    @admin.display(description="progress", ordering="progress_done")
    def progress(self, obj):
        return _progress_bar(obj.progress_done, obj.progress_total)

    @admin.display(description="labelers")
    def labeler_emails(self, obj):
        return ", ".join(user.email for user in obj.labelers.all()) or "-"

    @admin.display(description="export")
    def export(self, obj):
        job = _job(obj)
        if job is None:
            return "-"
        return f"{job.status} ({job.done}/{job.total})"

    @admin.display(description="export error")
    def export_error(self, obj):
        job = _job(obj)
        return (job.error if job else None) or "-"

    @admin.display(description="")
    def pages(self, obj):
        return format_html(
            '<a href="{}">review</a> · <a href="{}">labels.csv</a>',
            reverse("admin:campaigns_campaign_review", args=[obj.pk]),
            reverse("admin:campaigns_campaign_labels_csv", args=[obj.pk]),
        )

    # --- actions -----------------------------------------------------------------

    def _apply(self, request, queryset, step: Step) -> None:
        done = 0
        for campaign in queryset:
            try:
                step.run(campaign.pk, request.user)
                done += 1
            except ApplicationError as exc:
                messages.error(request, f"{campaign.title}: {exc.detail}")
        if done:
            messages.success(request, f"{step.verb} {done} campaign(s).")

    @admin.action(description="Activate (created → active)")
    def activate(self, request, queryset):
        self._apply(request, queryset, STEPS["activate"])

    @admin.action(description="Mark completed (active → completed)")
    def complete(self, request, queryset):
        self._apply(request, queryset, STEPS["complete"])

    @admin.action(description="Reopen (completed → active)")
    def reopen(self, request, queryset):
        self._apply(request, queryset, STEPS["reopen"])

    @admin.action(description="Finish and export (completed → finished)")
    def finish(self, request, queryset):
        self._apply(request, queryset, STEPS["finish"])

    @admin.action(description="Retry the failed or stuck export")
    def retry_export(self, request, queryset):
        self._apply(request, queryset, STEPS["retry_export"])

    # --- pages ---------------------------------------------------------------------

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path("<rowid:object_id>/step/<str:step>/", wrap(self.step_view), name="campaigns_campaign_step"),
            path(
                "<rowid:object_id>/add-imageset/", wrap(self.add_imageset_view), name="campaigns_campaign_add_imageset"
            ),
            path("<rowid:object_id>/labels.csv", wrap(self.labels_csv_view), name="campaigns_campaign_labels_csv"),
            path("<rowid:object_id>/review/", wrap(self.review_view), name="campaigns_campaign_review"),
            path(
                "<rowid:object_id>/review/<rowid:image_id>/",
                wrap(self.review_view),
                name="campaigns_campaign_review_image",
            ),
            *super().get_urls(),
        ]

    def _campaign_or_404(self, request, object_id: int, *, change: bool) -> Campaign:
        campaign = Campaign.objects.filter(pk=object_id).first()
        if campaign is None:
            raise Http404("Campaign not found")
        allowed = (
            self.has_change_permission(request, campaign) if change else self.has_view_permission(request, campaign)
        )
        if not allowed:
            raise PermissionDenied
        return campaign

    def add_view(self, request, form_url="", extra_context=None):
        """Create through ``campaign_create``; the answer shows the agency's key and secret this once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CampaignCreateForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                campaign, issued = services.campaign_create(
                    title=data["title"],
                    labeler_email=data["labeler_email"],
                    metadata=data["metadata"],
                    label_translations=data["label_translations"],
                    created_by=request.user,
                )
            except StaffEmailConflict as exc:
                form.add_error("labeler_email", exc.detail)
            except (InvalidName, Conflict) as exc:
                form.add_error("title", exc.detail)
            except ApplicationError as exc:
                form.add_error(None, exc.detail)
            else:
                self.log_addition(request, campaign, [{"added": {}}])
                return render_secrets_page(
                    request,
                    self,
                    title=f"Campaign {campaign.title} created",
                    intro=f"Hand this key to {issued.api_key.user.email}: it lists, fetches and labels the images "
                    "of their campaigns only.",
                    rows=[
                        ShownSecret(
                            owner=issued.api_key.user.email,
                            apikey=issued.apikey,
                            secret=issued.secret,
                            note="This user already had a key, which now also opens this campaign. Its secret is "
                            "stored only as a hash and cannot be shown; rotate the key (API keys) for a new one.",
                        )
                    ],
                    links=[
                        (
                            reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
                            "Go to the campaign: add images, then activate it",
                        ),
                        (reverse("admin:imagesets_image_changelist"), "Pick images on the image list"),
                    ],
                )
        return render_form_page(
            request,
            self,
            form=form,
            title="Add campaign",
            submit="Create campaign",
            intro="The agency gets an API key for this campaign; its secret is shown once, on the next page.",
            cancel_url=reverse("admin:campaigns_campaign_changelist"),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign_id = parse_id(object_id)
        campaign = (
            Campaign.objects.with_progress().select_related("job").filter(pk=campaign_id).first()
            if campaign_id is not None
            else None
        )
        if campaign is not None and self.has_view_permission(request, campaign):
            extra_context = {**(extra_context or {}), "lh": self._panel_context(request, campaign)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _panel_context(self, request, campaign: Campaign) -> dict:
        job = _job(campaign)
        steps = [
            {
                "name": name,
                "label": step.label,
                "url": reverse("admin:campaigns_campaign_step", args=[campaign.pk, name]),
            }
            for name, step in STEPS.items()
            if campaign.status in step.offered_in and (name != "retry_export" or job is None or job.may_retry)
        ]
        images = list(
            CampaignImage.objects.filter(campaign=campaign)
            .select_related("image")
            .order_by("image_id")[:IMAGES_ON_PAGE]
        )
        context = {
            "status": campaign.status,
            "done": campaign.progress_done,
            "total": campaign.progress_total,
            "steps": steps,
            "job": job,
            "export_files": self._export_files(job),
            "azureml": (job.result or {}).get("azureml") if job else None,
            "images": [{"row": row, "review": review_link(campaign.pk, row.image_id)} for row in images],
            "urls": {
                "review": reverse("admin:campaigns_campaign_review", args=[campaign.pk]),
                "csv": reverse("admin:campaigns_campaign_labels_csv", args=[campaign.pk]),
                "all_images": reverse("admin:campaigns_campaignimage_changelist")
                + f"?campaign__id__exact={campaign.pk}",
                "image_list": reverse("admin:imagesets_image_changelist"),
                "add_imageset": reverse("admin:campaigns_campaign_add_imageset", args=[campaign.pk]),
            },
        }
        if campaign.status == Status.CREATED:
            context["imagesets"] = list(
                ImageSet.objects.annotate(n=Count("images"))
                .filter(n__gt=0)
                .order_by("-id")
                .values_list("pk", "title", "n")[:IMAGESETS_OFFERED]
            )
        return context

    @staticmethod
    def _export_files(job: CampaignJob | None) -> list[dict]:
        """The files the export wrote (also those of a failed run), each with a short-lived read link."""
        files = (job.result or {}).get("files", []) if job else []
        storage = get_storage() if files else None
        shown = []
        for record in files:
            if not isinstance(record, dict) or not isinstance(record.get("path"), str):
                continue
            try:
                url = storage.read_url(record["path"], valid_for=FILE_LINK_VALID_FOR)
            except StorageError:
                url = None
            shown.append({"path": record["path"], "size": record.get("size"), "url": url})
        return shown

    def step_view(self, request, object_id: int, step: str):
        """POST: one status step of one campaign (the buttons on its page)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        chosen = STEPS.get(step)
        if chosen is None:
            raise Http404("Unknown step")
        campaign = self._campaign_or_404(request, object_id, change=True)
        try:
            chosen.run(campaign.pk, request.user)
        except ApplicationError as exc:
            self.message_user(request, f"{campaign.title}: {exc.detail}", messages.ERROR)
        else:
            self.message_user(request, f"{chosen.verb} {campaign.title}.", messages.SUCCESS)
        return redirect("admin:campaigns_campaign_change", campaign.pk)

    def add_imageset_view(self, request, object_id: int):
        """POST ``imageset``: add every image of that set (the campaign must be ``created``)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        campaign = self._campaign_or_404(request, object_id, change=True)
        imageset_id = parse_id(request.POST.get("imageset", ""))
        imageset = ImageSet.objects.filter(pk=imageset_id).first() if imageset_id is not None else None
        if imageset is None:
            self.message_user(request, "Choose an image set.", messages.ERROR)
            return redirect("admin:campaigns_campaign_change", campaign.pk)
        image_ids = Image.objects.filter(imageset=imageset).order_by("pk").values_list("pk", flat=True)
        try:
            added = add_images_to_campaign(campaign_id=campaign.pk, image_ids=image_ids)
        except ApplicationError as exc:
            self.message_user(request, f"{campaign.title}: {exc.detail}", messages.ERROR)
        else:
            self.message_user(
                request,
                f"Added {added.new} image(s) of {imageset.title} to {campaign.title} "
                f"({added.listed - added.new} already in it); it now holds {added.total}.",
                messages.SUCCESS,
            )
        return redirect("admin:campaigns_campaign_change", campaign.pk)

    def labels_csv_view(self, request, object_id: int):
        """The labels CSV, streamed by the same generator as ``GET /campaigns/{id}/labels.csv``."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        campaign = self._campaign_or_404(request, object_id, change=False)
        response = StreamingHttpResponse(
            labels_csv_chunks(campaign_id=campaign.pk), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{campaign.title}_labels.csv"'
        return response

    def review_view(self, request, object_id: int, image_id: int | None = None):
        campaign = self._campaign_or_404(request, object_id, change=False)
        return review.review_page(request, self, campaign=campaign, image_id=image_id)
