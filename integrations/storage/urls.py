from django.urls import path

from integrations.storage.views import FileReadApi

urlpatterns = [
    path("files/<str:token>", FileReadApi.as_view(), name="storage-file"),
]
