"""Every route of ``/api/v1``; each app contributes its own ``urls.py``."""

from django.urls import include, path

urlpatterns = [
    path("", include("labelhub.storage.urls")),
    path("", include("imagesets.urls")),
    path("", include("campaigns.urls")),
    path("", include("campaigns.export.urls")),
]
