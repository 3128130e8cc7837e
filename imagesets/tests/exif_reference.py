"""The facts as Pillow's own EXIF parser gives them: how ``imagesets.exif`` read them before it had its reader.

Kept as the reference the reader is compared with (``test_exif_reader.py``)
and timed against (``bench/exif.py``); nothing else uses it.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta, timezone

from PIL import ExifTags, Image

from imagesets.exif import NO_FACTS, ExifFacts
from imagesets.exif.values import exif_orientation, gps_position

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def pillow_read_facts(im: Image.Image) -> ExifFacts:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about damaged blocks; what it reads is what counts
        try:
            raw = im.info.get("exif")
            if not ((isinstance(raw, bytes) and raw) or hasattr(im, "tag_v2")):
                return NO_FACTS
            exif = im.getexif()
            sub = _ifd(exif, ExifTags.IFD.Exif)
            gps = _ifd(exif, ExifTags.IFD.GPSInfo)
            lat, lon = gps_position(gps)
            return ExifFacts(
                date_taken=strptime_datetime(
                    sub.get(ExifTags.Base.DateTimeOriginal), sub.get(ExifTags.Base.OffsetTimeOriginal)
                ),
                lat=lat,
                lon=lon,
                orientation=exif_orientation(exif.get(ExifTags.Base.Orientation)),
            )
        except Exception:  # noqa: BLE001 - as the finish job: a block that breaks the parser has no facts
            return NO_FACTS


def _ifd(exif: Image.Exif, tag: int) -> dict:
    try:
        ifd = exif.get_ifd(tag)
    except Exception:  # noqa: BLE001
        return {}
    return ifd if isinstance(ifd, dict) else {}


def strptime_datetime(value, offset=None) -> datetime | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    try:
        naive = datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    match = _OFFSET.match(offset.strip("\x00 ")) if isinstance(offset, str) else None
    if match is None:
        return naive.replace(tzinfo=UTC)
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14):
        return naive.replace(tzinfo=UTC)
    return naive.replace(tzinfo=timezone(-delta if sign == "-" else delta)).astimezone(UTC)
