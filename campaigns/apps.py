from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Labeling campaigns"

    def ready(self):
        from accounts.hooks import AgencyAccess, register_agency_access
        from campaigns.metrics import domain_gauges
        from campaigns.models import CampaignJob
        from campaigns.selectors import labeler_can_read_image
        from campaigns.services.labelers import labeler_campaign_titles, labeler_remove_from_campaigns
        from campaigns.webhooks import export_job_event_record
        from core import jobs
        from core.metrics.gauges import register_domain_gauges
        from imagesets import hooks

        jobs.register(
            jobs.JobKind(
                name="campaign_export",
                model=CampaignJob,
                owner_field="campaign_id",
                task="campaigns.tasks.campaign_export_run",
                on_outcome=export_job_event_record,
            )
        )
        # /metrics serves the campaign figures; labelhub reads them through the hook.
        register_domain_gauges(domain_gauges)
        # A labeler reads the images of its campaigns (imagesets asks through the hook).
        hooks.register_image_reader(labeler_can_read_image)
        # An agency account promoted to image-admin first loses its campaigns (accounts asks through the hook).
        register_agency_access(
            AgencyAccess(name="campaigns", held_by=labeler_campaign_titles, revoke=labeler_remove_from_campaigns)
        )
