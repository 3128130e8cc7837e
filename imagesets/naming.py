"""Where an image set lives in storage."""

from django.conf import settings


def dropbox_name(title: str) -> str:
    """The container clients upload to while the set is ``created``."""
    return f"dropbox-{title}"


def final_folder(title: str) -> str:
    """``<container>/<folder>/<title>``, the set's home once finished."""
    parts = [settings.AZURE_STORAGE_IMAGESET_CONTAINER, settings.AZURE_STORAGE_IMAGESET_FOLDER, title]
    return "/".join(part.strip("/") for part in parts if part and part.strip("/"))
