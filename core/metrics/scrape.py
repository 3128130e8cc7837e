"""What ``/metrics`` answers: ``scrape`` and the collectors registered for it.

A scrape builds a registry of its own: the domain gauges (``core.metrics.gauges``),
this process's counters or, in multiprocess mode, every process's
(``core.metrics.multiprocess``), and the collectors that live with what they
read, registered with ``register_scrape_collector`` (core.jobs: the job queue).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from core.metrics.gauges import DomainGaugeCollector
from core.metrics.multiprocess import multiproc_dir

# Reads of the metric files a scrape retries when it meets a file still being created.
SCRAPE_ATTEMPTS = 5

# Collectors read at scrape time that live with what they read (core.jobs: the job
# queue), registered from an AppConfig.ready(); built anew for every scrape.
_scrape_collectors: list[Callable[[], object]] = []


def register_scrape_collector(factory: Callable[[], object]) -> None:
    """Have every ``/metrics`` scrape also collect ``factory()`` (a prometheus-client collector)."""
    if factory not in _scrape_collectors:
        _scrape_collectors.append(factory)


def scrape(accept: str = "") -> tuple[bytes, str]:
    """Every labelhub metric, summed over processes in multiprocess mode: ``(body, content type)``.

    The format follows the scraper's ``Accept`` header (Prometheus text, or
    OpenMetrics when asked for), as prometheus-client's own server does.
    """
    registry = CollectorRegistry()
    # First: a failure to read the gauges is then counted before the counters are read, so the
    # scrape that misses them already says why.
    registry.register(DomainGaugeCollector())
    if multiproc_dir():
        MultiProcessCollector(registry)
    else:
        # This process's metrics (defined by core.metrics, which Python imports before this
        # module), plus its process and GC collectors.
        registry.register(REGISTRY)
    for collector in _scrape_collectors:
        registry.register(collector())
    encoder, content_type = choose_encoder(accept)
    for _ in range(SCRAPE_ATTEMPTS - 1):
        try:
            return encoder(registry), content_type
        except struct.error:
            # A process that is just starting has created its file but not sized it
            # yet (prometheus-client's mmap files): read again a moment later.
            time.sleep(0.02)
    return encoder(registry), content_type
