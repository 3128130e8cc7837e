"""``GET /api/v1/files/<token>``: the signed, expiring read URL of the local backend."""

from __future__ import annotations

import time

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from core.exceptions import NotFound, TokenRejected
from core.negotiation import ForcedNegotiationMixin
from integrations.storage import InvalidToken, ObjectNotFound, get_storage
from integrations.storage.local import guess_content_type, unsign_read_token


class FileReadApi(ForcedNegotiationMixin, APIView):
    """Streams the one file the token was signed for; the token is the only credential."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="file_read",
        summary="Read one stored file through a signed, expiring URL (local storage)",
        description="The target of the `GET /images/{id}` redirect with local storage. "
        "The token in the path is the only credential.",
        auth=[],
        responses={
            (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The stored bytes"),
            403: OpenApiResponse(description="Forged or expired token"),
            404: OpenApiResponse(description="The file is gone"),
        },
    )
    def get(self, request, token: str):
        try:
            path, expires = unsign_read_token(token)
        except InvalidToken as exc:
            raise TokenRejected(str(exc)) from None
        try:
            stream = get_storage().open(path)
        except ObjectNotFound:
            raise NotFound("File not found") from None
        response = FileResponse(stream, content_type=guess_content_type(path) or "application/octet-stream")
        # A browser may keep it for the rest of the link's life, at most an hour.
        response["Cache-Control"] = f"private, max-age={max(0, min(3600, int(expires - time.time())))}"
        # Uploaded files are served from labelhub's origin: never let one run script there.
        response["Content-Security-Policy"] = "sandbox"
        return response
