"""HTTP endpoints of image sets and images (``/api/v1``), thin over services and selectors.

- ``imagesets``: ``/image_sets``, ``/image_sets/{imageset_id}`` and its ``/images``;
- ``images``: ``/images`` and ``/images/{image_id}`` (a redirect to the file);
- ``dropbox``: ``PUT /dropbox/{token}/{filename}``, the local storage's upload URL.
"""

from imagesets.apis.dropbox import DropboxUploadApi
from imagesets.apis.images import ImageDetailApi, ImageListApi
from imagesets.apis.imagesets import ImageSetDetailApi, ImageSetImagesApi, ImageSetListCreateApi, ImageSetUploadUrlApi

__all__ = [
    "DropboxUploadApi",
    "ImageDetailApi",
    "ImageListApi",
    "ImageSetDetailApi",
    "ImageSetImagesApi",
    "ImageSetListCreateApi",
    "ImageSetUploadUrlApi",
]
