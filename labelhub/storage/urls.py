from django.urls import path

from labelhub.storage.views import FileReadApi

urlpatterns = [
    path("files/<str:token>", FileReadApi.as_view(), name="storage-file"),
]
