"""django-q2 entry points of the campaigns app, named after the service each runs."""

from __future__ import annotations

from campaigns.export import services as export_services


def campaign_export_run(campaign_id: int) -> dict | None:
    """The export job queued when a campaign is finished (and by the admin's retry action).

    Its outcome is stored in the campaign's ``job``; a failure is recorded
    there and then raised again, so django-q2 lists the task as failed too
    (in sync mode, as in tests, the caller of ``async_task`` sees it).
    """
    job = export_services.campaign_export_run(campaign_id=campaign_id, queued=True)
    return job.result if job is not None else None  # None: a duplicate delivery


# The queue stores task paths: exports queued under the old name still run.
export_campaign = campaign_export_run
