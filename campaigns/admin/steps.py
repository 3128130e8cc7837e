"""The campaign's status steps: each one a list action and a button on the campaign's page.

They call the same services as the API, so the same locks and checks apply;
a refusal (the API's 409) becomes an error message. A step that cannot be
undone ("Finish and export") asks first: its button through the browser's
confirmation dialog, its list action on a confirmation page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from campaigns import services
from campaigns.models import Campaign
from core.admin import render_form_page

Status = Campaign.Status


@dataclass(frozen=True)
class Step:
    name: str
    label: str  # the button
    verb: str  # for "<verb> 2 campaign(s)."
    offered_in: str  # the status the step starts from
    new_status: str | None  # None: queue the export again
    only_from_offered: bool = False  # "activate" must not reopen a completed campaign
    description: str = ""  # the list action's; "<label> (<from> → <to>)" when empty
    # Asked before the step runs (with {title}, {done} and {total}), then what it changes for good;
    # empty: the step runs at once.
    confirm: str = ""
    warning: str = ""

    def run(self, campaign: Campaign, user) -> None:
        if self.new_status is None:
            services.campaign_export_retry(campaign_id=campaign.pk)
            return
        from_status = self.offered_in if self.only_from_offered else None
        services.campaign_set_status(
            campaign_id=campaign.pk, new_status=self.new_status, user=user, from_status=from_status
        )

    @property
    def action_description(self) -> str:
        return self.description or f"{self.label} ({self.offered_in} → {self.new_status})"

    def question(self, campaign: Campaign) -> str:
        """What the button asks before the step runs on ``campaign`` ("" when it asks nothing)."""
        if not self.confirm:
            return ""
        question = self.confirm.format(title=campaign.title, done=campaign.progress_done, total=campaign.progress_total)
        return f"{question} {self.warning}"


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step("activate", "Activate", "Activated", Status.CREATED, Status.ACTIVE, only_from_offered=True),
        Step("complete", "Mark completed", "Completed", Status.ACTIVE, Status.COMPLETED),
        Step("reopen", "Reopen", "Reopened", Status.COMPLETED, Status.ACTIVE, only_from_offered=True),
        Step(
            "finish",
            "Finish and export",
            "Finished",
            Status.COMPLETED,
            Status.FINISHED,
            confirm="Finish {title} and export its labels ({done} of {total} images labeled)?",
            warning="The agency can no longer submit, and a finished campaign cannot be reopened.",
        ),
        Step(
            "retry_export",
            "Retry the export",
            "Queued the export of",
            Status.FINISHED,
            None,
            description="Retry the failed or stuck export",
        ),
    )
}


def _action(step: Step):
    def action(modeladmin, request, queryset):
        if step.confirm and "apply" not in request.POST:
            return _confirm_page(modeladmin, request, queryset, step)
        done = f"{step.verb} {{count}} campaign(s)."
        modeladmin.run_per_row(request, queryset, partial(step.run, user=request.user), done=done)
        return None

    action.__name__ = step.name
    return admin.action(description=step.action_description)(action)


STEP_ACTIONS = [_action(step) for step in STEPS.values()]
CAMPAIGNS_LISTED = 20


def _confirm_page(modeladmin, request, queryset, step: Step):
    """The list action's confirmation: the campaigns it would change, and a button that runs it."""
    count = queryset.count()
    # Post back exactly what the change list posted, so the step runs on the same campaigns.
    hidden = [("action", step.name), ("select_across", request.POST.get("select_across", "0"))]
    hidden += [(ACTION_CHECKBOX_NAME, pk) for pk in request.POST.getlist(ACTION_CHECKBOX_NAME)]
    return render_form_page(
        request,
        modeladmin,
        form=forms.Form(),
        hidden=hidden,
        title=f"{step.label}: {count} campaign(s)?",
        submit=f"Yes, {step.label.lower()} {count} campaign(s)",
        cancel_url=request.get_full_path(),
        template="admin/campaigns/campaign/confirm_step.html",
        warning=step.warning,
        campaigns=list(queryset.order_by("title")[:CAMPAIGNS_LISTED]),
        more=count - min(count, CAMPAIGNS_LISTED),
    )


def steps_offered(campaign: Campaign, job) -> list[Step]:
    """The steps from the campaign's status; the export's retry only while there is none or it may be retried."""
    return [
        step
        for step in STEPS.values()
        if campaign.status == step.offered_in and (step.new_status is not None or job is None or job.may_retry)
    ]
