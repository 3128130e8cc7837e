from django.contrib import admin
from django.urls import include, path, re_path

from labelhub import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(("labelhub.api_urls", "v1"), namespace="v1")),
    # Unknown API paths answer JSON even with DEBUG on (handler404 is skipped then).
    re_path(r"^api/", views.not_found, name="api-not-found"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.prometheus_metrics, name="metrics"),
]

handler404 = "labelhub.views.not_found"
handler500 = "labelhub.views.server_error"
