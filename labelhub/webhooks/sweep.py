"""The webhook sweeper thread of every job worker process: due retries and lost hand-overs."""

from __future__ import annotations

import logging
import random
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django_q.conf import Conf

from labelhub.webhooks.services import webhook_sweep

logger = logging.getLogger(__name__)


def _sweep_forever(stop: threading.Event) -> None:
    interval = float(settings.WEBHOOKS_SWEEP_INTERVAL)
    try:
        while True:
            try:
                webhook_sweep()
            except Exception:  # noqa: BLE001 - the next round tries again
                logger.exception("webhook sweep failed")
            finally:
                close_old_connections()
            if stop.wait(interval * random.uniform(0.8, 1.2)):
                return
    finally:
        connection.close()


_sweeper: tuple[threading.Thread, threading.Event] | None = None


def start_webhook_sweeper(**_kwargs) -> None:
    """django-q2 ``post_spawn``: sweep for due deliveries every ``WEBHOOKS_SWEEP_INTERVAL`` seconds."""
    global _sweeper
    if Conf.SYNC or (_sweeper is not None and _sweeper[0].is_alive()):
        return
    stop = threading.Event()
    thread = threading.Thread(target=_sweep_forever, args=(stop,), name="webhook-sweeper", daemon=True)
    thread.start()
    _sweeper = (thread, stop)
