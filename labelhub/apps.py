from django.apps import AppConfig


class LabelhubConfig(AppConfig):
    """The project package as an app: for its ``serve`` command and the migrations of tables that moved out."""

    name = "labelhub"
    verbose_name = "labelhub"
