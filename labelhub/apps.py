from django.apps import AppConfig


class LabelhubConfig(AppConfig):
    name = "labelhub"
    verbose_name = "labelhub"
