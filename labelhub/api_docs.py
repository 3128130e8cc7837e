"""OpenAPI annotations that endpoints of several apps share: paginated lists and "add images" bodies.

Written once so that two endpoints doing the same job are documented the
same way (the shared responses and ``errors()`` themselves are in
``labelhub.schema``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view

from labelhub.schema import errors, ok

TOO_MANY_IMAGES = (
    "More than `IMAGES_PER_REQUEST_MAX` (default 10,000) images listed (send them in several "
    "requests), or a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` bytes. Nothing is stored."
)


def list_endpoint(
    operation_id: str,
    serializer,
    *,
    items_key: str,
    tag: str,
    summary: str,
    parameters=(),
    not_found=None,
    bad_request=None,
):
    """Declare a paginated list view (a ``ListAPIView``): its items, their key and its ``GET`` schema.

    Sets ``serializer_class`` and ``items_key`` (the answer's list, e.g.
    ``"images"``); the operation's description is the view's docstring.
    ``not_found``: ``(404, description)`` for a list under an object that may not exist;
    ``bad_request``: ``(400, description, examples)`` for a list whose filters have rules of their own.
    """
    responses = {200: serializer(many=True), **errors(bad_request or 400, 401, *filter(None, [not_found]))}
    schema = extend_schema(
        operation_id=operation_id, tags=[tag], summary=summary, parameters=list(parameters), responses=responses
    )

    def declare(view):
        view.serializer_class = serializer
        view.items_key = items_key
        return extend_schema_view(get=schema)(view)

    return declare


def add_images_responses(*, to: str, conflict: str, unknown: str = "") -> dict:
    """The answers of a ``POST`` adding images named by id or path (``[{"id": n} | {"filepath": "..."}]``).

    ``to`` names the object the images are added to (``"image set"``), ``conflict``
    its 409, ``unknown`` what the 404's body tells beyond the detail.
    """
    not_found = (
        f"The {to}, or one of the listed images, does not exist ({unknown}an `id` outside 1..2^63-1 "
        'included). `id` must be a JSON integer: `"1"` and `1.0` are a 400.'
    )
    return {
        200: ok(f"The images are in the {to.split()[-1]}."),  # "image set": "in the set"
        **errors(400, 401, (404, not_found), (409, conflict), (413, TOO_MANY_IMAGES)),
    }
