from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path

from labelhub import views

# The staff application is labelhub's, not "Django administration"; it has no public site to "view".
admin.site.site_header = "labelhub"
admin.site.site_title = "labelhub"
admin.site.index_title = "Staff administration"
admin.site.site_url = None


def favicon(request):
    """Browsers ask every site for ``/favicon.ico``: the icon in the static files (served by WhiteNoise)."""
    return HttpResponsePermanentRedirect(static("labelhub/favicon.ico"))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(("labelhub.api_urls", "v1"), namespace="v1")),
    # Unknown API paths answer JSON even with DEBUG on (handler404 is skipped then).
    re_path(r"^api/", views.not_found, name="api-not-found"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.prometheus_metrics, name="metrics"),
    path("favicon.ico", favicon, name="favicon"),
]

handler404 = "labelhub.views.not_found"
handler500 = "labelhub.views.server_error"
