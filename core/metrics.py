"""Every Prometheus metric of labelhub, and the small functions that record them.

Callers use the functions (``job_started("imageset_finish")``,
``objects_submitted(12)``); they never raise into the caller, whatever goes
wrong with recording.

Several processes serve labelhub (gunicorn workers, django-q2 workers), so a
scrape must see the sum of all of them: with ``PROMETHEUS_MULTIPROC_DIR`` set
(``manage.py serve`` sets it) every process writes its values to files in
that folder and ``/metrics`` merges them (prometheus-client's multiprocess
mode). The variable must be set before the process starts, because
prometheus-client reads it once, at import. Unset, one process's own values
are served.

Queue depth and the age of the oldest queued job are not counted but read
from the job tables at scrape time (``core.jobs.gauges``), and so are the
domain gauges (images awaiting labeling, labeled images, boxes, ...:
``DomainGaugeCollector``), which the apps that own the tables register with
``register_domain_gauges`` and which are cached for a scrape interval.
"""

from __future__ import annotations

import functools
import logging
import os
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus-client writes this process's values there as soon as metrics are defined below.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics  # noqa: E402
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)
# No "<name>_created" series (multiprocess mode has none either): one shape in both modes.
disable_created_metrics()

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Reads of the metric files a scrape retries when it meets a file still being created.
SCRAPE_ATTEMPTS = 5
# The jobs labelhub runs (core.jobs registers them); listed so their series exist at 0.
JOB_KINDS = ("imageset_finish", "campaign_export")
# Methods outside this set are counted as "other", so a client cannot invent label values.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
AUTH_FAILURE_REASONS = (
    "missing_header",
    "malformed_key",
    "unknown_key",
    "wrong_secret",
    "expired_key",
    "inactive_user",
    # Refused unread: the address or key id used up its failures (accounts.throttling).
    "throttled",
)

REQUESTS = Counter(
    "labelhub_http_requests",
    "HTTP requests answered, by route name, method and status code.",
    ["view", "method", "status"],
)
REQUEST_DURATION = Histogram(
    "labelhub_http_request_duration_seconds",
    "Time from receiving a request to returning its response (a streamed body may take longer).",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
JOBS_STARTED = Counter("labelhub_jobs_started", "Background job runs started, by kind.", ["kind"])
JOBS_SUCCEEDED = Counter("labelhub_jobs_succeeded", "Background job runs that succeeded, by kind.", ["kind"])
JOBS_FAILED = Counter("labelhub_jobs_failed", "Background jobs that failed, by kind.", ["kind"])
JOBS_RECOVERED = Counter(
    "labelhub_jobs_recovered",
    "Jobs queued again after their worker died or they never reached the broker, by kind.",
    ["kind"],
)
JOBS_FENCED = Counter(
    "labelhub_jobs_fenced",
    "Job runs stopped because another run had taken their job over while they were stalled, by kind.",
    ["kind"],
)
JOBS_ENQUEUE_FAILED = Counter(
    "labelhub_jobs_enqueue_failed",
    "Times the broker refused a job (it stays queued for the sweep), by kind.",
    ["kind"],
)
JOB_DURATION = Histogram(
    "labelhub_job_duration_seconds",
    "Duration of a job run, by kind and outcome (succeeded or failed).",
    ["kind", "outcome"],
    buckets=(0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)
IMAGES_INGESTED = Counter("labelhub_images_ingested", "Images registered by finishing image sets.")
IMAGES_SKIPPED = Counter("labelhub_images_skipped", "Files skipped when finishing image sets (not an image, ...).")
OBJECTS_SUBMITTED = Counter("labelhub_objects_submitted", "Objects (boxes) stored by PUT /campaigns/{id}/objects.")
AUTH_FAILURES = Counter(
    "labelhub_api_key_auth_failures",
    "Requests refused because their API key headers were wrong, by reason.",
    ["reason"],
)
DOMAIN_GAUGE_FAILURES = Counter(
    "labelhub_domain_gauges_failures",
    "Scrapes that could not read the domain gauges from the database (they are left out of that scrape).",
)
# One entry for every process: the gauges read by one web worker serve the scrapes of all.
DOMAIN_GAUGES_CACHE_KEY = "labelhub:metrics:domain-gauges:v1"


def _never_raise(func):
    """Recording a metric must not break the request or job that records it."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            func(*args, **kwargs)
        except Exception:  # noqa: BLE001 - e.g. the multiprocess folder vanished
            logger.warning("could not record metric %s", func.__name__, exc_info=True)

    return wrapper


@_never_raise
def _initialise() -> None:
    # Series that exist from the start read 0 instead of being absent until the first event.
    for kind in JOB_KINDS:
        for counter in (JOBS_STARTED, JOBS_SUCCEEDED, JOBS_FAILED, JOBS_RECOVERED, JOBS_ENQUEUE_FAILED):
            counter.labels(kind)
    for reason in AUTH_FAILURE_REASONS:
        AUTH_FAILURES.labels(reason)


_initialise()


# --- what the application records ----------------------------------------------------------


@_never_raise
def request_finished(*, view: str, method: str, status: int, seconds: float) -> None:
    method = method if method in HTTP_METHODS else "other"
    REQUESTS.labels(view, method, str(status)).inc()
    REQUEST_DURATION.labels(view, method).observe(seconds)


@_never_raise
def job_succeeded(kind: str, seconds: float) -> None:
    JOBS_SUCCEEDED.labels(kind).inc()
    JOB_DURATION.labels(kind, "succeeded").observe(seconds)


@_never_raise
def job_failed(kind: str, seconds: float | None = None) -> None:
    """A failed job; ``seconds`` of its run, or ``None``/``0`` when it failed without running (no duration)."""
    JOBS_FAILED.labels(kind).inc()
    if seconds:
        JOB_DURATION.labels(kind, "failed").observe(seconds)


def _named(record: Callable, counter: Counter) -> Callable:
    record.__name__ = record.__qualname__ = counter.describe()[0].name  # named in the warning when it fails
    return record


def _per_kind(counter: Counter) -> Callable[[str], None]:
    """A recorder adding one to ``counter`` for a kind of job."""

    def record(kind: str) -> None:
        counter.labels(kind).inc()

    return _never_raise(_named(record, counter))


def _adding(counter: Counter) -> Callable[[int], None]:
    """A recorder adding a count (nothing for zero) to ``counter``."""

    def record(count: int) -> None:
        if count > 0:
            counter.inc(count)

    return _never_raise(_named(record, counter))


job_started = _per_kind(JOBS_STARTED)
job_recovered = _per_kind(JOBS_RECOVERED)
job_fenced = _per_kind(JOBS_FENCED)
job_enqueue_failed = _per_kind(JOBS_ENQUEUE_FAILED)
images_ingested = _adding(IMAGES_INGESTED)
images_skipped = _adding(IMAGES_SKIPPED)
objects_submitted = _adding(OBJECTS_SUBMITTED)


@_never_raise
def auth_failure(reason: str) -> None:
    AUTH_FAILURES.labels(reason if reason in AUTH_FAILURE_REASONS else "other").inc()


# --- read at scrape time ----------------------------------------------------------------


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


# Collectors read at scrape time that live with what they read (core.jobs: the job
# queue), registered from an AppConfig.ready(); built anew for every scrape.
_scrape_collectors: list[Callable[[], object]] = []


def register_scrape_collector(factory: Callable[[], object]) -> None:
    """Have every ``/metrics`` scrape also collect ``factory()`` (a prometheus-client collector)."""
    if factory not in _scrape_collectors:
        _scrape_collectors.append(factory)


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
            _domain_gauges_failed()
            logger.warning("could not read the domain gauges of %s for /metrics", reader.__qualname__, exc_info=True)
    if complete and seconds > 0:
        try:
            cache.set(DOMAIN_GAUGES_CACHE_KEY, gauges, seconds)
        except Exception:  # noqa: BLE001
            logger.warning("could not keep the domain gauges in the cache", exc_info=True)
    return gauges


@_never_raise
def _domain_gauges_failed() -> None:
    DOMAIN_GAUGE_FAILURES.inc()


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


def multiproc_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


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
        registry.register(REGISTRY)  # this process's metrics, plus its process and GC collectors
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


def prepare_multiproc_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` and empty it of metric files of earlier runs; call before starting the processes.

    Only prometheus-client's ``*.db`` files are removed, nothing else that
    may be in the folder.
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink(missing_ok=True)
    return folder
