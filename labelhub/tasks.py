"""django-q2 entry points of labelhub itself."""

from __future__ import annotations

from labelhub.jobs import job_sweep

SWEEP_TASK = "labelhub.tasks.sweep_jobs"
SWEEP_SCHEDULE_NAME = "labelhub: recover stuck jobs"


def sweep_jobs() -> dict[str, int]:
    """The scheduled sweep: queue again the jobs that lost their worker or never reached the broker."""
    return job_sweep()


def ensure_sweep_schedule(*, app_config=None, using="default", **_kwargs) -> None:
    """``post_migrate``: the sweep's django-q2 schedule exists, at ``JOBS_SWEEP_INTERVAL``.

    django-q2 schedules in whole minutes and its scheduler looks every 30 s,
    so the interval is rounded up to a minute.
    """
    if app_config is None or app_config.label != "django_q":
        return  # once, after django-q2's own tables are migrated
    from django.conf import settings
    from django_q.models import Schedule

    minutes = max(1, -(-int(settings.JOBS_SWEEP_INTERVAL) // 60))
    Schedule.objects.using(using).update_or_create(
        name=SWEEP_SCHEDULE_NAME,
        defaults={"func": SWEEP_TASK, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
    )
