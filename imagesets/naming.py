"""Where an image set lives in storage."""

import secrets

from django.conf import settings


def dropbox_name(title: str) -> str:
    """The container clients upload to while the set is ``created``."""
    return f"dropbox-{title}"


def final_folder(title: str) -> str:
    """``<container>/<folder>/<title>``, the set's home once finished."""
    parts = [settings.AZURE_STORAGE_IMAGESET_CONTAINER, settings.AZURE_STORAGE_IMAGESET_FOLDER, title]
    return "/".join(part.strip("/") for part in parts if part and part.strip("/"))


def new_dropbox_key() -> str:
    """A new set's random ``dropbox_key``: its upload URLs are tied to it, not to the title.

    Azure uses it as the id of the dropbox container's stored access policy
    (at most 64 characters); local storage signs it into the upload token.
    """
    return secrets.token_hex(16)
