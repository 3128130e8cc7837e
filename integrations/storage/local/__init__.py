"""The ``local`` backend: files under ``MEDIA_ROOT``, URLs signed with ``django.core.signing``.

Layout: ``MEDIA_ROOT/<container>/<key>``, the same paths as the Azure backend.
A dropbox is the folder ``MEDIA_ROOT/<name>``. Files are written to
``MEDIA_ROOT/.partial/`` first and renamed into place, so a reader never sees
half a file and an interrupted upload leaves nothing behind.

Read and upload URLs are site-relative and carry a signed token holding the
path (or dropbox name and the set's ``dropbox_key``) and an expiry time;
labelhub's own views serve them. An upload token is only honoured while an
image set with that key exists and is ``created`` (the upload view checks it
under the set's row lock, after the body has been staged and before the file
is moved into the dropbox), so deleting or finishing the set closes it, and a
new set with the same title never accepts the old set's URL.
"""

from integrations.storage.local.backend import CHUNK_SIZE, PARTIAL_DIR, LocalStorage, StagedUpload
from integrations.storage.local.names import check_container_name, check_file_name, guess_content_type
from integrations.storage.local.tokens import (
    DropboxToken,
    sign_dropbox_token,
    sign_read_token,
    unsign_dropbox_token,
    unsign_read_token,
)

__all__ = [
    "CHUNK_SIZE",
    "PARTIAL_DIR",
    "DropboxToken",
    "LocalStorage",
    "StagedUpload",
    "check_container_name",
    "check_file_name",
    "guess_content_type",
    "sign_dropbox_token",
    "sign_read_token",
    "unsign_dropbox_token",
    "unsign_read_token",
]
