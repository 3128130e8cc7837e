"""Which file and container names the local backend stores: safe relative keys only."""

from __future__ import annotations

import mimetypes

from integrations.storage import InvalidFileName

MAX_NAME_LENGTH = 1024  # Azure's limit for a blob name
MAX_SEGMENT_BYTES = 255  # a file name on common file systems


def check_file_name(name: str) -> str:
    """``name`` if it is a safe relative key (``a.jpg``, ``sub/a.jpg``), else ``InvalidFileName``."""
    if not isinstance(name, str) or not name:
        raise InvalidFileName("The file name is empty.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidFileName(f"The file name is longer than {MAX_NAME_LENGTH} characters.")
    if "\\" in name:
        raise InvalidFileName("The file name contains a backslash.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidFileName("The file name contains a NUL or control character.")
    if name.startswith("/"):
        raise InvalidFileName("The file name starts with '/'.")
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidFileName("The file name contains an empty, '.' or '..' segment.")
        try:
            encoded = segment.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidFileName("The file name is not valid UTF-8.") from None
        if len(encoded) > MAX_SEGMENT_BYTES:
            raise InvalidFileName(f"A part of the file name is longer than {MAX_SEGMENT_BYTES} bytes.")
    return name


def check_container_name(name: str) -> str:
    """A container (or dropbox) name is one safe path segment that does not start with a dot."""
    check_file_name(name)
    if "/" in name or name.startswith("."):
        raise InvalidFileName(f"Invalid container name {name!r}.")
    return name


def guess_content_type(name: str) -> str | None:
    return mimetypes.guess_type(name, strict=False)[0]
