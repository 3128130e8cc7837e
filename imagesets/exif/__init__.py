"""Facts a camera writes into the file: when it was taken, where, and which way up (EXIF).

Read by the finish job from the bytes ``imagesets.probe`` already holds (the
first 64 KiB, or the bounded second read of a long header): nothing here
asks storage for more. Every fact is optional: a file without EXIF, with a
broken block, with a value out of range or with a block that ends past the
bytes read gives ``None`` for what it cannot tell, never an error.

* ``date_taken``: ``DateTimeOriginal`` (not IFD0's ``DateTime``: editors
  rewrite that one when they save).
  With ``OffsetTimeOriginal`` (``+02:00``) it is an exact instant, stored in
  UTC. Without one the camera's wall-clock time is all the file says: it is
  stored as that clock reading labelled UTC ("naive local"), which the API
  documents; guessing a zone from the GPS position would be a guess.
* ``lat``/``lon``: the GPS IFD's degrees/minutes/seconds rationals with their
  ``N``/``S``/``E``/``W`` references, as signed decimal degrees; both or
  neither, each within its valid range.
* ``orientation``: EXIF tag 274, 1-8 (how the file's pixels are turned for
  display, see ``imagesets.orientation``).

The block is read by ``tiff``, not with Pillow's ``getexif()``/``get_ifd()``:
a small reader of the nine tags needed, straight from the bytes, costs a
quarter of Pillow's generic parse of every tag. It reads them exactly as
Pillow 13 does (``ImageFileDirectory_v2.load`` and its value conversions),
so a crafted or damaged block gives the facts it gave before;
``imagesets/tests/test_exif_reader.py`` compares the two on generated files.
``values`` turns what it reads into the facts above. Pillow still locates
the block while it opens the image (``info["exif"]``: a JPEG's APP1
segments, a PNG's ``eXIf`` chunk, a WebP's ``EXIF`` chunk); a TIFF is itself
the block. ``read_facts`` is the entry point.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from imagesets.exif.tiff import (
    DATE_TIME_ORIGINAL,
    EXIF_IFD,
    EXIF_TAGS,
    GPS_IFD,
    GPS_LATITUDE,
    GPS_LATITUDE_REF,
    GPS_LONGITUDE,
    GPS_LONGITUDE_REF,
    GPS_TAGS,
    IFD0_TAGS,
    LAYOUTS,
    OFFSET_TIME_ORIGINAL,
    ORIENTATION,
    Layout,
    block_start,
    read_directory,
    read_offset,
    read_value,
)
from imagesets.exif.values import exif_datetime, exif_orientation, gps_degrees

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExifFacts:
    # Named as Image's columns: the finish job stores them as they are (``asdict``).
    date_taken: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    orientation: int | None = None


NO_FACTS = ExifFacts()


def read_facts(im: Image.Image, data: bytes | None = None) -> ExifFacts:
    """The facts of an opened (never decoded) image; ``NO_FACTS`` when its EXIF cannot be read.

    ``data`` is what the image was opened from; only a TIFF needs it (its
    directories are read from the file itself), and without it the image's
    own file object is read.
    """
    try:
        raw = im.info.get("exif")
        if isinstance(raw, bytes) and raw:
            return _facts(im, raw, *block_start(raw))
        if hasattr(im, "tag_v2"):  # a TIFF: the file is the block
            if raw is not None:  # an empty ``info["exif"]``: Pillow reads that, not the file
                return _facts(im, raw, *block_start(raw))
            if data is None:
                im.fp.seek(0)
                data = im.fp.read()
            return _facts(im, data, 0, LAYOUTS[data[:2], data[2] == 43], im.tag_v2.offset)
        return NO_FACTS
    except Exception as exc:  # noqa: BLE001 - a crafted EXIF block may break the parser any way it likes
        logger.debug("unreadable EXIF (%s): registered without its facts", type(exc).__name__)
        return NO_FACTS


def _facts(im: Image.Image, data: bytes, base: int, layout: Layout | None, ifd0_at: int) -> ExifFacts:
    if layout is None:  # an empty block
        return ExifFacts(orientation=exif_orientation(_xmp_orientation(im.info)))
    ifd0 = read_directory(data, base, layout, ifd0_at, IFD0_TAGS)
    entry = ifd0.get(ORIENTATION)
    orientation = read_value(data, layout, entry, single=True) if entry else _xmp_orientation(im.info)
    at = read_offset(data, layout, ifd0.get(EXIF_IFD))
    sub = read_directory(data, base, layout, at, EXIF_TAGS) if at is not None else {}
    at = read_offset(data, layout, ifd0.get(GPS_IFD))
    gps = read_directory(data, base, layout, at, GPS_TAGS) if at is not None else {}
    lat = lon = None
    if len(gps) == 4:  # a position needs all four
        lat = gps_degrees(
            read_value(data, layout, gps[GPS_LATITUDE], most=4),
            read_value(data, layout, gps[GPS_LATITUDE_REF]),
            positive="N",
            negative="S",
            limit=90,
        )
        lon = gps_degrees(
            read_value(data, layout, gps[GPS_LONGITUDE], most=4),
            read_value(data, layout, gps[GPS_LONGITUDE_REF]),
            positive="E",
            negative="W",
            limit=180,
        )
        if lat is None or lon is None:
            lat = lon = None
    return ExifFacts(
        date_taken=exif_datetime(
            read_value(data, layout, sub.get(DATE_TIME_ORIGINAL)),
            read_value(data, layout, sub.get(OFFSET_TIME_ORIGINAL)),
        )
        if sub
        else None,
        lat=lat,
        lon=lon,
        orientation=exif_orientation(orientation),
    )


def _xmp_orientation(info: dict):
    """Without the EXIF tag Pillow takes ``tiff:Orientation`` from the XMP packet, if there is one."""
    xmp = info.get("XML:com.adobe.xmp")
    pattern: str | bytes = r'tiff:Orientation(="|>)([0-9])'
    if not xmp and (xmp := info.get("xmp")):
        pattern = rb'tiff:Orientation(="|>)([0-9])'
    if xmp:
        match = re.search(pattern, xmp)
        if match:
            return int(match[2])
    return None
