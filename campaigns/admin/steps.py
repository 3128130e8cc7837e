"""The campaign's status steps: each one a list action and a button on the campaign's page.

They call the same services as the API, so the same locks and checks apply;
a refusal (the API's 409) becomes an error message.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.contrib import admin

from campaigns import services
from campaigns.models import Campaign

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


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step("activate", "Activate", "Activated", Status.CREATED, Status.ACTIVE, only_from_offered=True),
        Step("complete", "Mark completed", "Completed", Status.ACTIVE, Status.COMPLETED),
        Step("reopen", "Reopen", "Reopened", Status.COMPLETED, Status.ACTIVE, only_from_offered=True),
        Step("finish", "Finish and export", "Finished", Status.COMPLETED, Status.FINISHED),
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
        done = f"{step.verb} {{count}} campaign(s)."
        modeladmin.run_per_row(request, queryset, partial(step.run, user=request.user), done=done)

    action.__name__ = step.name
    return admin.action(description=step.action_description)(action)


STEP_ACTIONS = [_action(step) for step in STEPS.values()]


def steps_offered(campaign: Campaign, job) -> list[Step]:
    """The steps from the campaign's status; the export's retry only while there is none or it may be retried."""
    return [
        step
        for step in STEPS.values()
        if campaign.status == step.offered_in and (step.new_status is not None or job is None or job.may_retry)
    ]
