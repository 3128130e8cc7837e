"""The webhook sweeper thread of every job worker process: due retries and lost hand-overs."""

from __future__ import annotations

from django.conf import settings

from core.jobs.sweep import PeriodicSweep
from webhooks.services import webhook_sweep

_webhook_sweeper = PeriodicSweep("webhook-sweeper", lambda: webhook_sweep(), lambda: settings.WEBHOOKS_SWEEP_INTERVAL)


def start_webhook_sweeper(**_kwargs) -> None:
    """django-q2 ``post_spawn``: sweep for due deliveries every ``WEBHOOKS_SWEEP_INTERVAL`` seconds."""
    _webhook_sweeper.start()
