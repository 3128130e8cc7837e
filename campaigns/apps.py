from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Labeling campaigns"

    def ready(self):
        from campaigns.models import CampaignJob
        from labelhub import jobs

        jobs.register(
            jobs.JobKind(
                name="campaign_export",
                model=CampaignJob,
                owner_field="campaign_id",
                task="campaigns.tasks.export_campaign",
            )
        )
