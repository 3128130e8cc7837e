"""What apps above imagesets plug into it, so that imagesets never imports them.

Dependencies run one way (campaigns -> imagesets -> accounts -> labelhub).
Where imagesets needs an answer only a higher app knows (may this labeler
read this image? what does the image admin show of campaigns?), the higher
app registers it here from its ``AppConfig.ready()`` or its admin module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

# ``reader(*, user, image_id)``: whether this labeler may read the image (one query at most).
ImageReader = Callable[..., bool]

_image_readers: list[ImageReader] = []


def register_image_reader(reader: ImageReader) -> ImageReader:
    """Let ``reader`` grant labelers image reads; registering the same reader twice keeps it once."""
    if reader not in _image_readers:
        _image_readers.append(reader)
    return reader


def image_readable_by_labeler(*, user, image_id: int) -> bool:
    """Whether any registered reader lets this labeler read the image; no reader, no read."""
    return any(reader(user=user, image_id=image_id) for reader in _image_readers)


@dataclass(frozen=True)
class ImageAdminExtension:
    """What another app adds to the image admin (``imagesets.admin.image.ImageAdmin``).

    ``list_filters``: ``list_filter`` entries (a ``SimpleListFilter`` class, a field name).
    ``actions``: admin actions, ``func(modeladmin, request, queryset)`` with ``@admin.action``.
    ``readonly_fields``: change-page fields, ``func(obj)`` with ``@admin.display``.
    """

    list_filters: Sequence = ()
    actions: Sequence[Callable] = ()
    readonly_fields: Sequence[Callable] = ()


_image_admin_extensions: list[ImageAdminExtension] = []


def register_image_admin_extension(extension: ImageAdminExtension) -> None:
    if extension not in _image_admin_extensions:
        _image_admin_extensions.append(extension)


def image_admin_extensions() -> ImageAdminExtension:
    """Every registered extension merged into one, in registration order.

    Read it per request (``get_list_filter``, ``get_actions``, ...), not at
    import time: the admin modules load before every app is ready.
    """
    return ImageAdminExtension(
        **{
            field.name: tuple(item for ext in _image_admin_extensions for item in getattr(ext, field.name))
            for field in fields(ImageAdminExtension)
        }
    )
