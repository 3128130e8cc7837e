"""Project-level views: health check and JSON error pages for the API."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


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
    if _is_api(request):
        return JsonResponse({"detail": "Internal server error", "status": 500}, status=500)
    return html_server_error(request)
