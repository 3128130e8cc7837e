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
"""

from __future__ import annotations

import logging
import math
import numbers
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from PIL import ExifTags, Image

logger = logging.getLogger(__name__)

_DATE_TIME_ORIGINAL = ExifTags.Base.DateTimeOriginal
_OFFSET_TIME_ORIGINAL = ExifTags.Base.OffsetTimeOriginal
_ORIENTATION = ExifTags.Base.Orientation
_GPS = ExifTags.GPS
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class ExifFacts:
    # Named as Image's columns: the finish job stores them as they are (``asdict``).
    date_taken: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    orientation: int | None = None


NO_FACTS = ExifFacts()


def read_facts(im: Image.Image) -> ExifFacts:
    """The facts of an opened (never decoded) image; ``NO_FACTS`` when its EXIF cannot be read."""
    try:
        exif = _exif_of(im)
        if exif is None:
            return NO_FACTS
        sub = _ifd(exif, ExifTags.IFD.Exif)
        lat, lon = gps_position(_ifd(exif, ExifTags.IFD.GPSInfo))
        return ExifFacts(
            date_taken=exif_datetime(sub.get(_DATE_TIME_ORIGINAL), sub.get(_OFFSET_TIME_ORIGINAL)),
            lat=lat,
            lon=lon,
            orientation=_orientation(exif.get(_ORIENTATION)),
        )
    except Exception as exc:  # noqa: BLE001 - a crafted EXIF block may break the parser any way it likes
        logger.debug("unreadable EXIF (%s): registered without its facts", type(exc).__name__)
        return NO_FACTS


def _exif_of(im: Image.Image) -> Image.Exif | None:
    """The EXIF block from what the header parse kept; never ``im.load()`` (no pixel is decoded).

    JPEG, WebP and PNG (an ``eXIf`` chunk before the pixel data) keep the
    block in ``info["exif"]``; a TIFF is itself one (its IFD0, whose
    sub-IFDs are read from the bytes held, so an offset past them reads
    nothing). ``getexif()`` is called only then: a PNG without the chunk
    would decode its pixels looking for one. Pillow caches the parsed block
    (its JPEG plugin has already parsed it for the resolution), so it is
    parsed once.
    """
    raw = im.info.get("exif")
    if (isinstance(raw, bytes) and raw) or hasattr(im, "tag_v2"):  # tag_v2: a TIFF
        return im.getexif()
    return None


def _ifd(exif: Image.Exif, tag: int) -> dict:
    try:
        ifd = exif.get_ifd(tag)
    except Exception:  # noqa: BLE001 - a sub-IFD pointing anywhere: that IFD is unknown, the rest may be fine
        return {}
    return ifd if isinstance(ifd, dict) else {}


def exif_datetime(value, offset=None) -> datetime | None:
    """``"YYYY:MM:DD HH:MM:SS"`` (+ ``"+HH:MM"``) as an aware datetime; see the module docstring for no offset."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    try:
        naive = datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:  # "    :  :     :  :  " (unknown), or garbage
        return None
    zone = _zone(offset)
    if zone is None:
        return naive.replace(tzinfo=UTC)  # the camera's clock reading, offset unknown
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _zone(offset) -> timezone | None:
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    match = _OFFSET.match(offset.strip("\x00 ")) if isinstance(offset, str) else None
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14):
        return None
    return timezone(-delta if sign == "-" else delta)


def gps_position(gps: dict) -> tuple[float | None, float | None]:
    """Signed decimal degrees from the GPS IFD; ``(None, None)`` unless both are present and valid."""
    lat = _degrees(gps.get(_GPS.GPSLatitude), gps.get(_GPS.GPSLatitudeRef), positive="N", negative="S", limit=90)
    lon = _degrees(gps.get(_GPS.GPSLongitude), gps.get(_GPS.GPSLongitudeRef), positive="E", negative="W", limit=180)
    if lat is None or lon is None:
        return None, None
    return lat, lon


def _degrees(dms, ref, *, positive: str, negative: str, limit: int) -> float | None:
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    ref = ref.strip("\x00 ").upper() if isinstance(ref, str) else ""
    if isinstance(dms, numbers.Real):  # one rational (decimal degrees) is read as a number, not a tuple
        dms = (dms,)
    if ref not in (positive, negative) or not isinstance(dms, tuple) or not 1 <= len(dms) <= 3:
        return None
    try:
        parts = [float(part) for part in dms]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(math.isfinite(part) and part >= 0 for part in parts) or any(part >= 60 for part in parts[1:]):
        return None  # a rational x/0 is nan; minutes and seconds are below 60
    value = sum(part / 60**index for index, part in enumerate(parts))
    if value > limit:
        return None
    return round(-value if ref == negative else value, 7)  # ~1 cm: more digits are noise


def _orientation(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 8 else None
