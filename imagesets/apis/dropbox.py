"""The local dropbox's upload endpoint (local storage only; Azure clients upload to Azure)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import BadRequest, DropboxClosed, LengthRequired, NotFound, PayloadTooLarge
from core.negotiation import ForcedNegotiationMixin
from imagesets import openapi, services
from integrations.storage import (
    FileTooLarge,
    InvalidFileName,
    InvalidToken,
    ObjectNotFound,
    get_storage,
    unsign_dropbox_token,
)


class DropboxUploadApi(ForcedNegotiationMixin, APIView):
    """``PUT /dropbox/<token>/<filename>`` with the raw file as body, as Azure's Put Blob.

    The signed token is the credential (no API key): forged or expired 403,
    a set that is no longer ``created`` 409 (gone, or a new set with the same
    title: 403), a bad name 400, a body over ``LOCAL_DROPBOX_MAX_FILE_SIZE``
    413. The body is streamed to a temporary file, never held in memory, and
    moved into the dropbox under the set's row lock only if the set is still
    ``created`` (``imageset_dropbox_store``); otherwise it is dropped and the
    answer is 409/403. ``x-ms-blob-type`` is accepted and ignored.
    """

    authentication_classes: list = []
    permission_classes: list = []

    @openapi.DROPBOX_UPLOAD
    def put(self, request, token: str, filename: str):
        try:
            dropbox, key = unsign_dropbox_token(token)
        except InvalidToken:
            raise DropboxClosed() from None
        storage = get_storage()
        if not hasattr(storage, "stage_dropbox_file"):
            raise DropboxClosed("This server does not accept local uploads")
        try:
            # Early, so no body is streamed for a closed dropbox; checked again before it lands.
            services.imageset_dropbox_check(dropbox_key=key, dropbox=dropbox)
        except NotFound:
            raise DropboxClosed() from None

        max_size = settings.LOCAL_DROPBOX_MAX_FILE_SIZE
        raw_length = request.META.get("CONTENT_LENGTH") or ""
        if not raw_length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # WSGI reads no chunked body; Azure's Put Blob also wants a length.
            raise LengthRequired()
        try:
            length = int(raw_length or 0)  # no length and no chunks: an empty body
        except ValueError:
            raise BadRequest("Invalid Content-Length") from None
        if length < 0:
            raise BadRequest("Invalid Content-Length")
        if length > max_size:
            raise PayloadTooLarge(f"File too large: at most {max_size} bytes")
        try:
            # The Django request itself: a stream limited to Content-Length.
            staged = storage.stage_dropbox_file(dropbox, filename, request._request, max_size=max_size)
            with staged:  # removed unless it lands in the dropbox
                if staged.size != length:
                    raise BadRequest(f"The body ended after {staged.size} of {length} bytes")
                services.imageset_dropbox_store(dropbox_key=key, dropbox=dropbox, upload=staged)
        except InvalidFileName as exc:
            raise BadRequest(f"Invalid file name: {exc}") from None
        except FileTooLarge:
            raise PayloadTooLarge(f"File too large: at most {max_size} bytes") from None
        except (ObjectNotFound, NotFound):
            raise DropboxClosed() from None
        return Response(status=status.HTTP_201_CREATED)
