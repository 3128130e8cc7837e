"""Error reports to Sentry: unhandled request errors and failed jobs, every secret scrubbed before sending.

Settings calls ``error_reports_init`` only when ``SENTRY_DSN`` is set; unset,
sentry-sdk is never imported and ``job_failure_report`` does nothing.

What leaves the process passes ``scrub`` (``before_send`` for events,
``before_breadcrumb`` for breadcrumbs), which walks the whole event and
replaces with ``[Filtered]``:

- the value of any key whose name says secret (``Authentication-Secret``,
  ``Authorization``, cookies and session ids, passwords, tokens, signatures,
  connection strings), wherever it sits: headers, request bodies, log extras;
- in every string: SAS ``sig=`` values, ``whsec_`` webhook secrets, the
  secret parts of connection strings (``AccountKey=``, ``Password=``...), the
  password of a URL (``postgres://user:...@``, ``redis://:...@``), bearer
  tokens, the token in a local storage read or dropbox URL, and the values
  settings hands over (``DJANGO_SECRET_KEY``, ``METRICS_TOKEN``...).

Local variables are never sent (``include_local_variables=False``): any
variable may hold a secret under a name that does not say so.

A failed job is reported where every job failure is stored (``Job.mark_failed``),
tagged ``job_kind``, ``job_id`` and its owner's id. Not through django-q2's
``error_reporter`` hook: it sees only a task that raised inside a worker (not
a job run inline by ``finish_imageset`` or ``export_campaign``, nor one given
up after its worker died), knows no job kind or id, fires for webhook
deliveries as well, and needs a plugin package of its own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date, time
from typing import Any

logger = logging.getLogger(__name__)

FILTERED = "[Filtered]"

# Normalised (lower case, "-" as "_"). "Authentication-Key" is not among them: the key
# only names the API key (the admin lists it); the secret is what authenticates.
_SECRET_NAME = re.compile(
    r"secret|passw|pwd|token|authoriz|cookie|session|csrf|signature|credential|pepper"
    r"|private_?key|account_?key|access_?key|connection_?string|^sig$|^sas|^dsn$"
)

_SECRET_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Azure SAS signature, also URL-encoded inside another URL's query.
    (re.compile(r"(?i)\b(sig(?:=|%3D))[^&\s\"'<>]+"), rf"\1{FILTERED}"),
    # Standard Webhooks signing secrets.
    (re.compile(r"whsec_[A-Za-z0-9+/=_-]*"), FILTERED),
    # The secret parts of a connection string (Azure: AccountKey, SharedAccessSignature; ADO.NET style: Password).
    (
        re.compile(r"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|ClientSecret)=[^;\s\"'<>]+"),
        rf"\1={FILTERED}",
    ),
    # scheme://user:password@host (PostgreSQL, Redis, proxies).
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@\"'<>]*:)[^\s@/\"'<>]+@"), rf"\1{FILTERED}@"),
    (re.compile(r"(?i)\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {FILTERED}"),
    # The signed token of a local storage read URL or dropbox URL is the key to the file or dropbox.
    (re.compile(r"(/api/v1/(?:files|dropbox)/)[^/?#\s\"'<>]+"), rf"\1{FILTERED}"),
]

# A value this short could be part of anything: replacing it would shred the report.
_KNOWN_SECRET_MIN_LENGTH = 8

_enabled = False
# The names of the kinds of job (core.jobs.registry adds each as it is registered): a
# django-q failure line naming one of their tasks duplicates the job's own report.
_job_names: set[str] = set()


def job_name_register(name: str) -> None:
    _job_names.add(name)


_known_secrets: tuple[str, ...] = ()


def error_reports_init(
    *,
    dsn: str,
    environment: str,
    release: str | None,
    server_name: str | None,
    secrets: Iterable[str | None] = (),
) -> None:
    """Start reporting to ``dsn``. ``secrets`` are values (keys, tokens, passwords) never to send, wherever they occur.

    ``release`` ``None``: events carry none (sentry-sdk would otherwise guess one
    from the git checkout). ``server_name`` ``None``: the host name.
    """
    global _enabled, _known_secrets

    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    _known_secrets = _expand_secrets(secrets)
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or "",
        server_name=server_name,
        # No send_default_pii (deprecated; unset is False): no user, no client address, and
        # sentry-sdk's own scrubber filters Authorization, cookies and the session before ours.
        include_local_variables=False,
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        # Errors only: performance tracing is not wanted (and would send every request's URL).
        traces_sample_rate=None,
        # Transactions named by route ("/api/v1/files/{token}"), never by the URL itself. The default
        # logging integration stays: log lines are breadcrumbs, ERROR records are events.
        integrations=[DjangoIntegration(transaction_style="url")],
    )
    _enabled = True


def _expand_secrets(values: Iterable[str | None]) -> tuple[str, ...]:
    """The values themselves, and the secret parts inside them (an account key inside a connection string)."""
    found: set[str] = set()
    for value in values:
        if not value:
            continue
        found.add(value)
        found.update(re.findall(r"(?i)\b(?:AccountKey|SharedAccessKey|Password|Pwd)=([^;\s]+)", value))
    # Longest first: a secret that contains another is replaced whole.
    return tuple(sorted((s for s in found if len(s) >= _KNOWN_SECRET_MIN_LENGTH), key=len, reverse=True))


def scrub_text(text: str) -> str:
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, FILTERED)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _is_secret_name(name: Any) -> bool:
    return isinstance(name, str) and _SECRET_NAME.search(name.lower().replace("-", "_")) is not None


def scrub(value: Any) -> Any:
    """``value`` with every secret replaced, walked recursively; anything that is not JSON becomes its scrubbed repr."""
    from sentry_sdk.utils import AnnotatedValue, safe_repr

    if isinstance(value, str):
        return scrub_text(value)
    if value is None or isinstance(value, (bool, int, float, date, time)):
        return value  # a breadcrumb's timestamp is a datetime until it is serialised
    if isinstance(value, dict):
        return {key: FILTERED if _is_secret_name(key) else scrub(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    if isinstance(value, AnnotatedValue):
        value.value = scrub(value.value)
        return value
    # Serialised later by its repr, which can hold anything (a URL, a settings dict).
    return scrub_text(safe_repr(value))


def before_send(event: dict, hint: dict) -> dict | None:
    if _repeats_a_job_failure(hint.get("log_record")):
        return None
    event = scrub(event)
    if not event.get("release"):
        event.pop("release", None)  # "" is how no release is asked for (see error_reports_init)
    return event


def before_breadcrumb(crumb: dict, hint: dict) -> dict | None:
    return scrub(crumb)


def _repeats_a_job_failure(record: logging.LogRecord | None) -> bool:
    """django-q2's "Failed '<task>' (<task name>) - <error>" line for a job's task.

    The job's failure was reported by ``job_failure_report`` in the worker, with
    its kind and id; this line (from the cluster's monitor process) would be a
    second, untagged report, each one its own issue (the message holds the
    task's name and traceback).
    """
    if record is None or record.name != "django-q" or record.levelno != logging.ERROR:
        return False
    message = record.getMessage()
    return any(f"({name}-" in message for name in _job_names)


def job_failure_report(kind, job, failure: BaseException | str) -> None:
    """Report a failed job, tagged with its kind, id and owner: the exception it raised, or why it was given up."""
    if not _enabled:
        return
    import sentry_sdk

    try:
        _capture_job_failure(sentry_sdk, kind, job, failure)
    except Exception:  # noqa: BLE001 - a report never costs the job its stored outcome
        logger.warning("reporting the failure of %s job %s failed", kind.name, job.pk, exc_info=True)


def _capture_job_failure(sentry_sdk, kind, job, failure: BaseException | str) -> None:
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("job_kind", kind.name)
        scope.set_tag("job_id", str(job.pk))
        scope.set_tag(kind.owner_field, str(getattr(job, kind.owner_field)))
        scope.set_context("job", {"attempts": job.attempts, "worker": job.worker})
        if isinstance(failure, BaseException):
            sentry_sdk.capture_exception(failure)
        else:
            # One issue per kind, whatever the attempt count or worker in the reason.
            scope.fingerprint = ["job-given-up", kind.name]
            sentry_sdk.capture_message(f"{kind.name} job {job.pk} failed: {failure}", level="error")
