"""Format and size of a stored image from its first bytes.

Pillow's ``Image.open`` parses only the header (``.size`` and ``.format`` are
known without decoding pixels), so the first 64 KiB of a file are enough for
nearly every image. Only when the header does not fit (a JPEG with a large
EXIF block, a TIFF whose directory sits at the end) is the whole file read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, UnidentifiedImageError

logger = logging.getLogger(__name__)

HEADER_BYTES = 64 * 1024

# Pillow reports a JPEG with an MPF extension (many cameras write one) as MPO.
_FORMAT_ALIASES = {"MPO": "JPEG"}


@dataclass(frozen=True)
class ImageInfo:
    filetype: str
    width: int
    height: int
    content_type: str | None


class NotAnImage(Exception):
    """The bytes are not an image Pillow can identify."""


def identify(data: bytes) -> ImageInfo:
    """Format and size from the bytes of a file (a prefix is fine if the header fits).

    Raises ``NotAnImage`` when Pillow cannot parse a header from ``data``.
    """
    try:
        with Image.open(BytesIO(data)) as im:
            # .size and .format come from the header; .load() is never called.
            width, height = im.size
            fmt = im.format or ""
    except Image.DecompressionBombError:
        # Raised from the header alone (a huge pixel count); we never decode,
        # so the size is still what we need: read it from the plugin.
        return _identify_without_bomb_check(data)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        raise NotAnImage(str(exc) or type(exc).__name__) from exc
    return _info(fmt, width, height)


def _info(fmt: str, width: int, height: int) -> ImageInfo:
    fmt = _FORMAT_ALIASES.get(fmt, fmt)
    if not fmt or width <= 0 or height <= 0:
        raise NotAnImage("no format or size in the header")
    return ImageInfo(filetype=fmt, width=width, height=height, content_type=Image.MIME.get(fmt))


def _identify_without_bomb_check(data: bytes) -> ImageInfo:
    """Open with each registered plugin directly (skips Pillow's decompression-bomb check)."""
    Image.init()
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        accepted = not accept or accept(data[:16])
        if not accepted or isinstance(accepted, str):
            continue
        try:
            im = factory(BytesIO(data), "")
        except Exception:  # noqa: BLE001 - a plugin that cannot parse the bytes just declines
            continue
        try:
            return _info(im.format or fmt, *im.size)
        finally:
            im.close()
    raise NotAnImage("cannot identify image file")


def probe(storage, path: str, size: int) -> ImageInfo | None:
    """Image facts of the stored file at ``path``, or ``None`` if it is not a readable image.

    Reads at most ``HEADER_BYTES`` with a ranged read; reads the whole file
    only when the header is longer than that.
    """
    if size <= 0:
        return None
    head = storage.read_range(path, 0, HEADER_BYTES)
    try:
        return identify(head)
    except NotAnImage:
        if len(head) >= size or size <= HEADER_BYTES:
            return None  # that was the whole file
    logger.debug("header of %s does not fit in %d bytes; reading it whole", path, HEADER_BYTES)
    with storage.open(path) as stream:
        data = stream.read()
    try:
        return identify(data)
    except NotAnImage:
        return None
