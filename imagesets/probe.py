"""Format and size of a stored image from its first bytes, never more than a bounded prefix.

Pillow's ``Image.open`` parses only the header (``.size`` and ``.format`` are
known without decoding pixels; the EXIF facts, ``imagesets.exif``, come from
the same bytes), so the first 64 KiB of a file are enough for
nearly every image. Only when they are not and the file starts like an image
Pillow knows (a JPEG with a large EXIF block, say) is a second ranged read
made, up to ``IMAGESET_PROBE_MAX_BYTES`` (1 MiB by default) in all. A file
that is not identified within that bound, is empty, or declares dimensions
no column can hold is not an image: ``NotAnImage`` says why, and the finish
job names it in ``job.skipped``. No file is ever read whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from io import BytesIO

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from core.validators import INTEGER_COLUMN_MAX
from imagesets.exif import NO_FACTS, ExifFacts, read_facts

logger = logging.getLogger(__name__)

HEADER_BYTES = 64 * 1024
# Width and height are stored in integer columns (PostgreSQL's integer).
DIMENSION_MAX = INTEGER_COLUMN_MAX

# Pillow reports a JPEG with an MPF extension (many cameras write one) as MPO.
_FORMAT_ALIASES = {"MPO": "JPEG"}


@dataclass(frozen=True)
class ImageInfo:
    filetype: str
    width: int
    height: int
    content_type: str | None
    # Date taken, GPS position, orientation: from the same bytes, each None when the file does not tell.
    facts: ExifFacts = NO_FACTS


class NotAnImage(Exception):
    """The bytes are not an image Pillow can identify."""


def identify(data: bytes) -> ImageInfo:
    """Format and size from the bytes of a file (a prefix is fine if the header fits).

    Raises ``NotAnImage`` with a reason when no header can be parsed from
    ``data`` or the header is absurd.
    """
    try:
        with Image.open(BytesIO(data)) as im:
            # .size and .format come from the header; .load() is never called.
            width, height = _file_size(im)
            fmt = im.format or ""
            facts = read_facts(im, data)
    except Image.DecompressionBombError:
        # Raised from the header alone (a huge pixel count); we never decode,
        # so the size is still what we need: read it from the plugin.
        return _identify_without_bomb_check(data)
    except UnidentifiedImageError as exc:
        raise NotAnImage("not an image Pillow can identify") from exc
    except Exception as exc:  # noqa: BLE001 - a crafted header may break a plugin any way it likes
        raise NotAnImage(f"unreadable image header ({type(exc).__name__})") from exc
    return _info(fmt, width, height, facts)


def _file_size(im: Image.Image) -> tuple[int, int]:
    """The size of the file's own pixel frame: Pillow reports a TIFF's turned by its orientation."""
    tags = getattr(im, "tag_v2", None)
    if tags is not None and isinstance(tags.get(256), int) and isinstance(tags.get(257), int):
        return tags[256], tags[257]  # ImageWidth, ImageLength
    return im.size


def _info(fmt: str, width: int, height: int, facts: ExifFacts = NO_FACTS) -> ImageInfo:
    fmt = _FORMAT_ALIASES.get(fmt, fmt)
    if not fmt or width <= 0 or height <= 0:
        raise NotAnImage("no format or size in the header")
    if width > DIMENSION_MAX or height > DIMENSION_MAX:
        raise NotAnImage(f"absurd dimensions {width}x{height} (at most {DIMENSION_MAX} a side)")
    return ImageInfo(filetype=fmt, width=width, height=height, content_type=Image.MIME.get(fmt), facts=facts)


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
            return _info(im.format or fmt, *_file_size(im), read_facts(im, data))
        finally:
            im.close()
    raise NotAnImage("not an image Pillow can identify")


def starts_like_an_image(data: bytes) -> bool:
    """Whether a format Pillow knows recognises its magic bytes at the start of ``data``."""
    Image.init()
    prefix = data[:16]
    for fmt in Image.ID:
        accept = Image.OPEN[fmt][1]
        if accept is None:
            continue  # a format without magic bytes would claim anything
        try:
            accepted = accept(prefix)
        except Exception:  # noqa: BLE001 - a plugin's check failing on garbage is a no
            continue
        if accepted and not isinstance(accepted, str):
            return True
    return False


def probe(storage, path: str, size: int) -> ImageInfo:
    """Image facts of the stored file at ``path``; ``NotAnImage`` (with the reason) if it is not one.

    Reads ``HEADER_BYTES`` with one ranged read; only a file that starts like
    an image but whose header does not fit is read further, with one more
    ranged read, to ``IMAGESET_PROBE_MAX_BYTES`` at most.
    """
    if size <= 0:
        raise NotAnImage("empty file")
    head = storage.read_range(path, 0, HEADER_BYTES)
    try:
        return identify(head)
    except NotAnImage:
        if len(head) >= size or size <= HEADER_BYTES:
            raise  # that was the whole file
        if not starts_like_an_image(head):
            raise NotAnImage("not an image (no known image format starts like this file)") from None
    limit = min(size, max(HEADER_BYTES, int(settings.IMAGESET_PROBE_MAX_BYTES)))
    if limit <= len(head):
        raise NotAnImage(f"image header not readable in the first {len(head)} bytes")
    logger.debug("header of %s does not fit in %d bytes; reading up to %d", path, len(head), limit)
    data = head + storage.read_range(path, len(head), limit - len(head))
    try:
        return identify(data)
    except NotAnImage:
        raise NotAnImage(f"image header not readable in the first {limit} bytes") from None
