"""The job queue as Prometheus reads it at scrape time: queued jobs and the age of the oldest, per kind."""

from __future__ import annotations

import logging

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from core.jobs.models import JobStatus
from core.jobs.registry import kinds

logger = logging.getLogger(__name__)


class JobQueueCollector:
    """Queued jobs and the age of the oldest, per kind, read from the job tables at scrape time.

    One aggregate query per kind of job. A database that does not answer
    leaves these two metrics out of the scrape rather than failing it.
    """

    def describe(self):
        # Without this the registry would call collect(), and so the database, on register.
        return [
            GaugeMetricFamily("labelhub_jobs_queued", "Jobs waiting to run, by kind."),
            GaugeMetricFamily("labelhub_jobs_oldest_queued_age_seconds", "Age of the oldest queued job, by kind."),
        ]

    def collect(self):
        queued = GaugeMetricFamily("labelhub_jobs_queued", "Jobs waiting to run, by kind.", labels=["kind"])
        oldest = GaugeMetricFamily(
            "labelhub_jobs_oldest_queued_age_seconds",
            "Age of the oldest queued job (0 when none is queued), by kind.",
            labels=["kind"],
        )
        try:
            now = timezone.now()
            for kind in sorted(kinds(), key=lambda k: k.name):
                row = kind.model.objects.filter(status=JobStatus.QUEUED).aggregate(
                    n=Count("pk"), first=Min("date_queued")
                )
                queued.add_metric([kind.name], row["n"])
                age = (now - row["first"]).total_seconds() if row["first"] else 0.0
                oldest.add_metric([kind.name], max(0.0, age))
        except Exception:  # noqa: BLE001 - a scrape still answers with everything else
            logger.warning("could not read the job queue for /metrics", exc_info=True)
            return
        yield queued
        yield oldest
