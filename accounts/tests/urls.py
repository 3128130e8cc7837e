"""A URLconf for authentication tests, independent of the real endpoints."""

from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.response import Response


@api_view(["GET"])
def admin_only(request):
    return Response({"email": request.user.email})


urlpatterns = [path("api/v1/admin-only", admin_only)]
