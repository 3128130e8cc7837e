"""The domain gauges: figures read from the database at scrape time (images awaiting labeling, boxes, ...).

The apps that own the tables register a reader (``register_domain_gauges``;
campaigns, from its ``AppConfig.ready()``), so core serves them without
importing an app above it. ``read_domain_gauges`` asks every reader and keeps
the answer in the cache for a scrape interval, one entry for every process;
``DomainGaugeCollector`` hands it to each scrape (``core.metrics.scrape``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily

from core.metrics import domain_gauges_failed

logger = logging.getLogger(__name__)

# One entry for every process: the gauges read by one web worker serve the scrapes of all.
# v2: the entry holds pickled ``DomainGauge``s, which moved from ``core.metrics`` to this module; a
# new key keeps a release from reading the other's entries while both run (a rolling deploy).
DOMAIN_GAUGES_CACHE_KEY = "labelhub:metrics:domain-gauges:v2"


@dataclass(frozen=True)
class DomainGauge:
    """One gauge read from the database: ``samples`` are (label values, value) pairs.

    Plain data, so that a reader's answer can be kept in the cache.
    """

    name: str
    documentation: str
    samples: tuple[tuple[tuple[str, ...], float], ...]
    labels: tuple[str, ...] = ()

    @classmethod
    def single(cls, name: str, documentation: str, value: float) -> DomainGauge:
        return cls(name, documentation, (((), float(value)),))


# Apps register a function answering their gauges (campaigns: from its AppConfig.ready()), so
# labelhub reads the campaign tables without importing an app above it.
_domain_readers: list[Callable[[], Sequence[DomainGauge]]] = []


def register_domain_gauges(reader: Callable[[], Sequence[DomainGauge]]) -> None:
    """Have ``/metrics`` serve what ``reader()`` answers (it should cost one query; it may raise)."""
    if reader not in _domain_readers:
        _domain_readers.append(reader)


def read_domain_gauges() -> list[DomainGauge]:
    """Every registered reader's gauges, from the cache when read less than METRICS_DOMAIN_CACHE_SECONDS ago.

    A reader that fails is logged and counted, and its gauges are left out;
    nothing is cached then, so the next scrape asks the database again.
    A cache that does not answer (Redis down) costs a query per scrape, not
    the scrape.
    """
    from django.conf import settings
    from django.core.cache import cache

    seconds = settings.METRICS_DOMAIN_CACHE_SECONDS
    if seconds > 0:
        try:
            cached = cache.get(DOMAIN_GAUGES_CACHE_KEY)
        except Exception:  # noqa: BLE001 - e.g. Redis down, or an entry another release pickled
            logger.warning("could not read the domain gauges from the cache", exc_info=True)
            cached = None
        if cached is not None:
            return cached
    gauges: list[DomainGauge] = []
    complete = True
    for reader in _domain_readers:
        try:
            gauges.extend(reader())
        except Exception:  # noqa: BLE001 - a scrape still answers with everything else
            complete = False
            domain_gauges_failed()
            logger.warning("could not read the domain gauges of %s for /metrics", reader.__qualname__, exc_info=True)
    if complete and seconds > 0:
        try:
            cache.set(DOMAIN_GAUGES_CACHE_KEY, gauges, seconds)
        except Exception:  # noqa: BLE001
            logger.warning("could not keep the domain gauges in the cache", exc_info=True)
    return gauges


class DomainGaugeCollector:
    """The registered domain gauges, read at scrape time (``read_domain_gauges``).

    A collector registered only in the scrape's own registry, rather than
    ``Gauge`` objects set by whichever process last read the database: in
    multiprocess mode such a gauge is one file per process, and each worker's
    file keeps the value it last set (stale once another worker reads newer
    figures, or long after a worker exits) until a ``multiprocess_mode``
    ("mostrecent", "max", ...) picks one of them. Computed here, every scrape
    answers the one current value, and no process writes a file for it.
    """

    def describe(self):
        # Nothing to check for duplicates, and no reason to read the database on register.
        return []

    def collect(self):
        for gauge in read_domain_gauges():
            family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=list(gauge.labels))
            for labels, value in gauge.samples:
                family.add_metric(list(labels), value)
            yield family
