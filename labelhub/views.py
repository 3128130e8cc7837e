"""Project-level views: liveness, readiness, metrics and JSON error pages for the API."""

from __future__ import annotations

import hmac
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error

from core.metrics.scrape import scrape

logger = logging.getLogger(__name__)

# How long /readyz waits for the storage backend and the broker each.
READY_CHECK_TIMEOUT = 3.0
# Storage and broker pings run here, so one that hangs cannot hold the request past the timeout.
_ping_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


def healthz(request):
    """Liveness: the process answers and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _ping_storage() -> None:
    from integrations.storage import get_storage

    get_storage().ping(timeout=READY_CHECK_TIMEOUT)


def _check_storage() -> None:
    _ping_pool.submit(_ping_storage).result(timeout=READY_CHECK_TIMEOUT)


def _ping_broker() -> None:
    from django_q.brokers import get_broker

    if not get_broker().ping():
        raise ConnectionError("the broker did not answer the ping")


def _check_broker() -> None:
    from django_q.conf import Conf

    if Conf.ORM:
        # The ORM broker is a table of the database: it is up when its table answers.
        from django_q.models import OrmQ

        OrmQ.objects.using(Conf.ORM).exists()
        return
    _ping_pool.submit(_ping_broker).result(timeout=READY_CHECK_TIMEOUT)


def _run_check(name: str, check) -> str:
    try:
        check()
    except FutureTimeout:
        logger.warning("readiness: %s did not answer within %s s", name, READY_CHECK_TIMEOUT)
        return "down"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", never a 500
        logger.warning("readiness: %s is down: %s: %s", name, type(exc).__name__, exc)
        return "down"
    return "ok"


READY_CHECKS = {"database": _check_database, "storage": _check_storage, "broker": _check_broker}


def _method_not_allowed(request):
    response = JsonResponse({"detail": f'Method "{request.method}" not allowed.', "status": 405}, status=405)
    response["Allow"] = "GET, HEAD"
    return response


@never_cache
def readyz(request):
    """Readiness: the database, the storage backend and the job broker all answer.

    200 ``{"status": "ok", "checks": {...}}``, else 503 with the contract's
    error body naming what is down (the reason is logged, not shown: this
    URL is public).
    """
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request)
    checks = {name: _run_check(name, check) for name, check in READY_CHECKS.items()}
    down = [name for name, state in checks.items() if state != "ok"]
    if down:
        return JsonResponse(
            {"detail": f"Not ready: {', '.join(down)} down", "status": 503, "checks": checks}, status=503
        )
    return JsonResponse({"status": "ok", "checks": checks})


@never_cache
def prometheus_metrics(request):
    """Prometheus text format, for ``Authorization: Bearer <METRICS_TOKEN>`` only; 404 when no token is set."""
    expected = settings.METRICS_TOKEN
    if not expected:
        return JsonResponse({"detail": "Not found", "status": 404}, status=404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        response = JsonResponse(
            {"detail": "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>", "status": 401}, status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request)
    try:
        body, content_type = scrape(request.headers.get("Accept", ""))
    except (OSError, ValueError) as exc:  # e.g. PROMETHEUS_MULTIPROC_DIR removed under a running server
        logger.error("metrics: cannot read the metrics: %s", exc)
        return JsonResponse({"detail": "Metrics are unavailable", "status": 503}, status=503)
    return HttpResponse(body, content_type=content_type)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


# Also the catch-all of unknown /api/ paths: a PUT or POST there (an API client sends no
# CSRF cookie) must get the JSON 404 too, not CSRF's 403 page.
@csrf_exempt
def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found", "status": 404}, status=404)
    return page_not_found(request, exception)


def server_error(request):
    """handler500. A request that found every pooled database connection busy (in a
    middleware or a plain Django view; DRF views answer it themselves) is a 503, not a 500."""
    from core.exceptions import DatabaseBusy, is_pool_exhausted

    if is_pool_exhausted(sys.exc_info()[1]):
        response = JsonResponse({"detail": DatabaseBusy.default_detail, "status": 503}, status=503)
        response["Retry-After"] = "1"
        return response
    if _is_api(request):
        return JsonResponse({"detail": "Internal server error", "status": 500}, status=500)
    return html_server_error(request)
