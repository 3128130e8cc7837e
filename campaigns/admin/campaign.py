"""The campaign admin: create for an agency, add images, every status step, the export and its files.

Status changes (list actions and the buttons on a campaign's page, see
``steps``) call the same services as the API, so the same locks and checks
apply; a refusal (the API's 409) becomes an error message.
"""

from __future__ import annotations

from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from accounts.audit import Actor
from accounts.services import StaffEmailConflict
from campaigns import services
from campaigns.admin import delivery, review
from campaigns.admin.forms import CampaignCreateForm, CampaignForm
from campaigns.admin.gold import gold_panel
from campaigns.admin.history import review_link
from campaigns.admin.imports import import_labels_page
from campaigns.admin.steps import STEP_ACTIONS, STEPS, steps_offered
from campaigns.export.apis import labels_csv_response
from campaigns.export.files import export_files
from campaigns.models import Campaign, CampaignJob, CampaignLabeler
from campaigns.selectors import campaign_get, campaign_images_shown, campaign_list
from core.admin import (
    ExtraView,
    FormPage,
    ImageAdminAccess,
    PanelsAboveForm,
    ShownSecret,
    job_duration,
    job_of,
    parse_id,
    progress_bar,
    render_secrets_page,
)
from core.exceptions import ApplicationError, Conflict, InvalidName, NotFound
from imagesets.selectors import imageset_get, imageset_image_ids, imagesets_holding_images

IMAGES_ON_PAGE = 50
LIVE_POLL_SECONDS = 1
LIVE_JOB_STATUSES = (CampaignJob.Status.QUEUED, CampaignJob.Status.RUNNING)
STATUS_PANEL = "admin/campaigns/campaign/panel_status.html"
EXPORT_PANEL = "admin/campaigns/campaign/panel_export.html"
IMAGESETS_OFFERED = 200
KEY_KEPT_NOTE = (
    "This user already had a key, which now also opens this campaign. Its secret is stored only as a hash "
    "and cannot be shown; rotate the key (API keys) for a new one."
)


class CampaignLabelerInline(ImageAdminAccess, admin.TabularInline):
    model = CampaignLabeler
    extra = 0
    fields = ("user", "date_added")
    readonly_fields = ("date_added",)
    raw_id_fields = ("user",)


@admin.register(Campaign)
class CampaignAdmin(ImageAdminAccess, PanelsAboveForm, admin.ModelAdmin):
    form = CampaignForm
    list_display = ("title", "status", "progress", "labeler_emails", "export", "pages", "date_created", "date_finished")
    list_filter = ("status",)
    search_fields = ("title", "labelers__email")
    # Status, progress, the agency and the export are in the panels above the form (the export's live),
    # so that no field below can contradict them.
    fields = (
        "title",
        "metadata",
        "label_translations",
        "labels",
        "review_required",
        "aql",
        "consensus_with",
        "gold_min_f1",
        "created_by",
        "date_created",
        "date_started",
        "date_completed",
        "date_finished",
    )
    readonly_fields = tuple(name for name in fields if name not in CampaignForm.Meta.fields)
    inlines = [CampaignLabelerInline]
    actions = STEP_ACTIONS
    extra_views = (
        ExtraView("<rowid:object_id>/step/<str:step>/", "step_view", "step", methods=("POST",)),
        ExtraView("<rowid:object_id>/live/", "live_view", "live", methods=("GET",)),
        ExtraView("<rowid:object_id>/add-imageset/", "add_imageset_view", "add_imageset", methods=("POST",)),
        ExtraView("<rowid:object_id>/labels.csv", "labels_csv_view", "labels_csv", methods=("GET", "HEAD")),
        ExtraView("<rowid:object_id>/review/", "review_view", "review"),
        ExtraView("<rowid:object_id>/sample/", "sample_start_view", "sample_start", methods=("POST",)),
        ExtraView("<rowid:object_id>/inspection/", "inspection_view", "inspection", methods=("POST",)),
        ExtraView(
            "<rowid:object_id>/sample/<rowid:sample_id>/decide/",
            "sample_decide_view",
            "sample_decide",
            methods=("POST",),
        ),
        ExtraView("<rowid:object_id>/stats/", "stats_view", "stats", methods=("GET", "HEAD")),
        ExtraView("stats/agency/", "agency_stats_view", "agency_stats", methods=("GET", "HEAD")),
        ExtraView("<rowid:object_id>/review/<rowid:image_id>/", "review_view", "review_image"),
        ExtraView(
            "<rowid:object_id>/review/<rowid:image_id>/decide/",
            "review_decide_view",
            "review_decide",
            methods=("POST",),
        ),
        ExtraView("<rowid:object_id>/import-labels/", "import_labels_view", "import_labels", methods=("GET", "POST")),
    )
    create_form = CampaignCreateForm
    create_page = FormPage(
        title="Add campaign",
        submit="Create campaign",
        intro="The agency gets an API key for this campaign; its secret is shown once, on the next page.",
    )
    # StaffEmailConflict is a Conflict: first match wins.
    create_error_fields = ((StaffEmailConflict, "labeler_email"), ((InvalidName, Conflict), "title"))

    def get_queryset(self, request):
        return campaign_list().prefetch_related("labelers")

    def get_readonly_fields(self, request, obj=None):
        # The label schema changes only before labeling starts (the form checks it again on save).
        if obj is not None and obj.status != Campaign.Status.CREATED:
            return (*self.readonly_fields, "labels")
        return self.readonly_fields

    def select_object(self, object_id: int) -> Campaign:
        return campaign_get(campaign_id=object_id)

    # --- columns -----------------------------------------------------------------

    @admin.display(description="progress", ordering="progress_done")
    def progress(self, obj):
        return progress_bar(obj.progress_done, obj.progress_total)

    @admin.display(description="agency")
    def labeler_emails(self, obj):
        return ", ".join(user.email for user in obj.labelers.all()) or "-"

    @admin.display(description="export")
    def export(self, obj):
        job = job_of(obj)
        return "-" if job is None else f"{job.status} ({job.done}/{job.total})"

    @admin.display(description="")
    def pages(self, obj):
        return format_html(
            '<a href="{}">review</a> · <a href="{}">labels.csv</a> · <a href="{}">import labels</a>',
            self.admin_url("review", obj.pk),
            self.admin_url("labels_csv", obj.pk),
            self.admin_url("import_labels", obj.pk),
        )

    # --- the add page and the campaign's page -------------------------------------

    def create(self, request, form):
        """Create through ``campaign_create``; the answer shows the agency's key and secret this once."""
        data = form.cleaned_data
        campaign, issued = services.campaign_create(
            title=data["title"],
            labeler_email=data["labeler_email"],
            metadata=data["metadata"],
            label_translations=data["label_translations"],
            review_required=data["review_required"],
            aql=data["aql"],
            gold_min_f1=data["gold_min_f1"],
            labels=data["labels"],
            created_by=request.user,
            actor=Actor.of_request(request),
        )
        email = issued.api_key.user.email
        return campaign, render_secrets_page(
            request,
            self,
            title=f"Campaign {campaign.title} created",
            intro=f"Hand this key to {email}: it lists, fetches and labels the images of their campaigns only.",
            rows=[ShownSecret(owner=email, apikey=issued.apikey, secret=issued.secret, note=KEY_KEPT_NOTE)],
            links=[
                (self.admin_url("change", campaign.pk), "Go to the campaign: add images, then activate it"),
                (reverse("admin:imagesets_image_changelist"), "Pick images on the image list"),
            ],
        )

    def live_panels(self, campaign: Campaign) -> dict:
        """What the status and export panels show: the part of the page that follows the export job."""
        job = job_of(campaign)
        return {
            "status": campaign.status,
            "done": campaign.progress_done,
            "total": campaign.progress_total,
            "agency": [user.email for user in campaign.labelers.order_by("email")],
            "steps": [
                {
                    "name": step.name,
                    "label": step.label,
                    "url": self.admin_url("step", campaign.pk, step.name),
                    "confirm": step.question(campaign),
                }
                for step in steps_offered(campaign, job)
            ],
            "job": job,
            "job_took": job_duration(job),
            # Followed (polled) until the job succeeds or fails.
            "live": job is not None and job.status in LIVE_JOB_STATUSES,
            "poll_seconds": LIVE_POLL_SECONDS,
            "export_files": export_files(job),
            "azureml": (job.result or {}).get("azureml") if job else None,
            "urls": {
                "live": self.admin_url("live", campaign.pk),
                "csv": self.admin_url("labels_csv", campaign.pk),
            },
        }

    def panels(self, request, campaign: Campaign) -> dict:
        """Status and steps, adding images, the export and its files, the first images."""
        images = campaign_images_shown(campaign_id=campaign.pk, limit=IMAGES_ON_PAGE)
        live = self.live_panels(campaign)
        context = {
            **live,
            "images": [{"row": row, "review": review_link(campaign.pk, row.image_id)} for row in images],
            "urls": {
                **live["urls"],
                "review": self.admin_url("review", campaign.pk),
                "all_images": reverse("admin:campaigns_campaignimage_changelist")
                + f"?campaign__id__exact={campaign.pk}",
                "image_list": reverse("admin:imagesets_image_changelist"),
                "add_imageset": self.admin_url("add_imageset", campaign.pk),
            },
        }
        context["gold"] = gold_panel(campaign)
        if campaign.status == Campaign.Status.CREATED:
            context["imagesets"] = imagesets_holding_images(limit=IMAGESETS_OFFERED)
        else:
            context["review"] = delivery.review_panel(self, campaign)
        return context

    # --- extra pages -----------------------------------------------------------------

    def live_view(self, request, object_id: int):
        """Staff-only JSON the campaign page polls while its export runs: the status and export panels anew."""
        campaign = self.guarded_object(request, object_id, change=False)
        panels = self.live_panels(campaign)
        context = {"panels": panels}
        job = panels["job"]
        return JsonResponse(
            {
                "status": campaign.status,
                "job": job.as_contract() if job else None,
                "active": panels["live"],
                "panels": {
                    "lh-status": render_to_string(STATUS_PANEL, context, request=request),
                    "lh-export": render_to_string(EXPORT_PANEL, context, request=request),
                },
            }
        )  # admin_view: never_cache

    def step_view(self, request, object_id: int, step: str):
        """POST: one status step of one campaign (the buttons on its page)."""
        chosen = STEPS.get(step)
        if chosen is None:
            raise Http404("Unknown step")
        run = partial(chosen.run, user=request.user)
        return self.run_on_object(request, object_id, run, done=f"{chosen.verb} {{title}}.")

    def add_imageset_view(self, request, object_id: int):
        """POST ``imageset``: add every image of that set (the campaign must be ``created``)."""
        campaign = self.guarded_object(request, object_id, change=True)
        imageset_id = parse_id(request.POST.get("imageset", ""))
        try:
            imageset = imageset_get(imageset_id=imageset_id) if imageset_id is not None else None
        except NotFound:
            imageset = None
        if imageset is None:
            self.message_user(request, "Choose an image set.", messages.ERROR)
            return redirect(self.admin_url("change", campaign.pk))
        image_ids = imageset_image_ids(imageset_id=imageset.pk)
        try:
            added = services.campaign_add_images(campaign_id=campaign.pk, image_ids=image_ids)
        except ApplicationError as exc:
            self.message_user(request, f"{campaign.title}: {exc.detail}", messages.ERROR)
        else:
            self.message_user(
                request,
                f"Added {added.new} image(s) of {imageset.title} to {campaign.title} "
                f"({added.listed - added.new} already in it); it now holds {added.total}.",
                messages.SUCCESS,
            )
        return redirect(self.admin_url("change", campaign.pk))

    def labels_csv_view(self, request, object_id: int):
        """The labels CSV, streamed by the same generator as ``GET /campaigns/{id}/labels.csv``."""
        campaign = self.guarded_object(request, object_id, change=False)
        return labels_csv_response(campaign_id=campaign.pk, title=campaign.title)

    def import_labels_view(self, request, object_id: int):
        campaign = self.guarded_object(request, object_id, change=True)
        return import_labels_page(request, self, campaign=campaign)

    def review_view(self, request, object_id: int, image_id: int | None = None):
        campaign = self.guarded_object(request, object_id, change=False)
        return review.review_page(request, self, campaign=campaign, image_id=image_id)

    def sample_start_view(self, request, object_id: int):
        campaign = self.guarded_object(request, object_id, change=True)
        return delivery.sample_start_view(request, self, campaign)

    def sample_decide_view(self, request, object_id: int, sample_id: int):
        campaign = self.guarded_object(request, object_id, change=True)
        return delivery.sample_decide_view(request, self, campaign, sample_id)

    def inspection_view(self, request, object_id: int):
        campaign = self.guarded_object(request, object_id, change=True)
        return delivery.inspection_view(request, self, campaign)

    def stats_view(self, request, object_id: int):
        campaign = self.guarded_object(request, object_id, change=False)
        return delivery.campaign_stats_view(request, self, campaign)

    def agency_stats_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return delivery.agency_stats_view(request, self)

    def review_decide_view(self, request, object_id: int, image_id: int):
        """POST: accept or reject one image's current revision (the review page's buttons and keys)."""
        campaign = self.guarded_object(request, object_id, change=True)
        return review.review_decide(request, self, campaign=campaign, image_id=image_id)
