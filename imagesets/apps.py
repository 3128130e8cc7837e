from django.apps import AppConfig


class ImagesetsConfig(AppConfig):
    name = "imagesets"
    verbose_name = "Image sets"
