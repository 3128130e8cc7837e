"""Every Prometheus counter and histogram of labelhub, and the small functions that record them.

Callers use the functions (``metrics.job_started("imageset_finish")``,
``metrics.objects_submitted(12)``); they never raise into the caller, whatever
goes wrong with recording.

Several processes serve labelhub (gunicorn workers, django-q2 workers), so a
scrape must see the sum of all of them: with ``PROMETHEUS_MULTIPROC_DIR`` set
(``manage.py serve`` sets it) every process writes its values to files in
that folder and ``/metrics`` merges them (prometheus-client's multiprocess
mode). The variable must be set before the process starts, because
prometheus-client reads it once, at import. Unset, one process's own values
are served.

What is read at scrape time lives in the submodules, which import this module
(never the other way round):

- ``gauges``: the domain gauges (images awaiting labeling, labeled images,
  boxes, ...: ``DomainGaugeCollector``), which the apps that own the tables
  register with ``register_domain_gauges`` and which are cached for a scrape
  interval;
- ``scrape``: what ``/metrics`` answers (``scrape``), with the collectors
  registered by ``register_scrape_collector`` (queue depth and the age of the
  oldest queued job, read from the job tables: ``core.jobs.gauges``);
- ``multiprocess``: the multiprocess folder (``prepare_multiproc_dir``).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus-client writes this process's values there as soon as metrics are defined below.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import Counter, Histogram, disable_created_metrics  # noqa: E402

logger = logging.getLogger(__name__)
# No "<name>_created" series (multiprocess mode has none either): one shape in both modes.
disable_created_metrics()

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


@_never_raise
def domain_gauges_failed() -> None:
    """A scrape that could not read the domain gauges (``gauges.read_domain_gauges``)."""
    DOMAIN_GAUGE_FAILURES.inc()
