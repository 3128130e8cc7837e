"""Tag values turned into facts: a date taken, a GPS position, an orientation; ``None`` for any other value.

The values are what Pillow gives for a tag (``imagesets.exif.tiff.read_value``,
or Pillow's own parser in the tests' reference): a ``str`` or ``bytes``, a
number or a tuple of them, whatever a damaged block holds. Which tags and
the rules for each fact: ``imagesets.exif``.
"""

from __future__ import annotations

import math
import numbers
import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from imagesets.exif.tiff import GPS_LATITUDE, GPS_LATITUDE_REF, GPS_LONGITUDE, GPS_LONGITUDE_REF

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def exif_datetime(value, offset=None) -> datetime | None:
    """``"YYYY:MM:DD HH:MM:SS"`` (+ ``"+HH:MM"``) as an aware datetime; see ``imagesets.exif`` for no offset."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ")[:19]
    naive = None
    if len(value) == 19 and value[4] == value[7] == value[13] == value[16] == ":" and value[10] == " ":
        try:  # the form cameras write: what strptime reads from it, at a tenth of the cost
            naive = datetime.fromisoformat(value[:10].replace(":", "-") + value[10:])
        except ValueError:
            pass  # not all digits, or no such day: strptime decides, as it always did
    if naive is None:
        try:
            naive = datetime.strptime(value, "%Y:%m:%d %H:%M:%S")
        except ValueError:  # "    :  :     :  :  " (unknown), a day that does not exist, or garbage
            return None
    zone = _zone(offset)
    if zone is None:
        return naive.replace(tzinfo=UTC)  # the camera's clock reading, offset unknown
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _zone(offset) -> timezone | None:
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    if not isinstance(offset, str):
        return None
    offset = offset.strip("\x00 ")
    return _zone_of(offset) if len(offset) <= 7 else None  # "+hh:mm", perhaps with a newline: no longer


@lru_cache(maxsize=64)  # a few zones recur over a whole image set
def _zone_of(offset: str) -> timezone | None:
    match = _OFFSET.match(offset)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14):
        return None
    return timezone(-delta if sign == "-" else delta)


_SIXTIETHS = (1, 60, 3600)


def gps_position(gps: dict) -> tuple[float | None, float | None]:
    """Signed decimal degrees from the GPS IFD; ``(None, None)`` unless both are present and valid."""
    lat = gps_degrees(gps.get(GPS_LATITUDE), gps.get(GPS_LATITUDE_REF), positive="N", negative="S", limit=90)
    lon = gps_degrees(gps.get(GPS_LONGITUDE), gps.get(GPS_LONGITUDE_REF), positive="E", negative="W", limit=180)
    if lat is None or lon is None:
        return None, None
    return lat, lon


def gps_degrees(dms, ref, *, positive: str, negative: str, limit: int) -> float | None:
    """Degrees, minutes, seconds and their reference as signed decimal degrees; ``None`` unless all are valid."""
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if not isinstance(ref, str):
        return None
    ref = ref.strip("\x00 ").upper()
    if ref != positive and ref != negative:
        return None
    if isinstance(dms, tuple):
        if not 1 <= len(dms) <= 3:
            return None
    elif isinstance(dms, numbers.Real):  # one rational (decimal degrees) is read as a number, not a tuple
        dms = (dms,)
    else:
        return None
    try:
        parts = [float(part) for part in dms]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = 0
    for index, part in enumerate(parts):
        if not 0 <= part < (60 if index else math.inf):
            return None  # a rational x/0 is nan; minutes and seconds are below 60
        value += part / _SIXTIETHS[index]
    if value > limit:
        return None
    return round(-value if ref == negative else value, 7)  # ~1 cm: more digits are noise


def exif_orientation(value) -> int | None:
    """EXIF orientation 1-8 (``imagesets.orientation``); ``None`` for anything else."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 8 else None
