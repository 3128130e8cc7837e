from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Labeling campaigns"

    def ready(self):
        from campaigns.models import CampaignJob
        from campaigns.selectors import labeler_can_read_image
        from campaigns.webhooks import export_job_event_record
        from imagesets import hooks
        from labelhub import jobs

        jobs.register(
            jobs.JobKind(
                name="campaign_export",
                model=CampaignJob,
                owner_field="campaign_id",
                task="campaigns.tasks.campaign_export_run",
                on_outcome=export_job_event_record,
            )
        )
        # A labeler reads the images of its campaigns (imagesets asks through the hook).
        hooks.register_image_reader(labeler_can_read_image)
