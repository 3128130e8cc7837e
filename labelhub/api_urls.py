"""Every route of ``/api/v1``; each app contributes its own ``urls.py``."""

from django.urls import include, path
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView


class SchemaApi(SpectacularAPIView):
    """The OpenAPI 3 document: JSON by default, YAML with ``?format=yaml`` or ``/schema.yaml``."""

    renderer_classes = [OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2]


class YamlSchemaApi(SpectacularAPIView):
    renderer_classes = [OpenApiYamlRenderer, OpenApiYamlRenderer2]


urlpatterns = [
    path("schema", SchemaApi.as_view(), name="schema"),
    path("schema.yaml", YamlSchemaApi.as_view(), name="schema-yaml"),
    path("ui", SpectacularSwaggerView.as_view(url_name="v1:schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="v1:schema"), name="redoc"),
    path("", include("integrations.storage.urls")),
    path("", include("imagesets.urls")),
    path("", include("campaigns.urls")),
    path("", include("campaigns.export.urls")),
    path("", include("webhooks.urls")),
]
