"""A URLconf exercising the project's API plumbing without real endpoints."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.exceptions import Conflict, InvalidName, NotFound
from integrations.storage import StorageError


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email"]


class UserList(ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = UserSerializer
    queryset = User.objects.order_by("id")
    items_key = "users"


class Echo(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    class Body(serializers.Serializer):
        title = serializers.CharField()
        count = serializers.IntegerField(min_value=1)

    def post(self, request):
        body = self.Body(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(body.validated_data)


def raiser(exc):
    class Raiser(APIView):
        permission_classes = [AllowAny]
        authentication_classes = []

        def get(self, request):
            raise exc

    return Raiser.as_view()


urlpatterns = [
    path("api/v1/users", UserList.as_view()),
    path("api/v1/echo", Echo.as_view()),
    path("api/v1/not-found", raiser(NotFound("Unknown image provided"))),
    path("api/v1/conflict", raiser(Conflict("Title already exists"))),
    path("api/v1/invalid-name", raiser(InvalidName())),
    path("api/v1/django-validation", raiser(DjangoValidationError("bad value"))),
    path("api/v1/storage-down", raiser(StorageError("connection refused"))),
    path("api/v1/crash", raiser(RuntimeError("bug"))),
]

handler404 = "labelhub.views.not_found"
handler500 = "labelhub.views.server_error"
