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

The block is read here, not with Pillow's ``getexif()``/``get_ifd()``: a
small reader of the nine tags needed, straight from the bytes, costs a
quarter of Pillow's generic parse of every tag. It reads them exactly as
Pillow 13 does (``ImageFileDirectory_v2.load`` and its value conversions),
so a crafted or damaged block gives the facts it gave before;
``imagesets/tests/test_exif_reader.py`` compares the two on generated files.
Pillow still locates the block while it opens the image (``info["exif"]``:
a JPEG's APP1 segments, a PNG's ``eXIf`` chunk, a WebP's ``EXIF`` chunk);
a TIFF is itself the block.
"""

from __future__ import annotations

import logging
import math
import numbers
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from operator import truediv
from struct import Struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)

_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATE_TIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_GPS_LATITUDE_REF, _GPS_LATITUDE, _GPS_LONGITUDE_REF, _GPS_LONGITUDE = 1, 2, 3, 4

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class ExifFacts:
    # Named as Image's columns: the finish job stores them as they are (``asdict``).
    date_taken: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    orientation: int | None = None


NO_FACTS = ExifFacts()


class _Unreadable(Exception):
    """The block is not a TIFF structure (where Pillow's ``getexif()`` raises)."""


def read_facts(im: Image.Image, data: bytes | None = None) -> ExifFacts:
    """The facts of an opened (never decoded) image; ``NO_FACTS`` when its EXIF cannot be read.

    ``data`` is what the image was opened from; only a TIFF needs it (its
    directories are read from the file itself), and without it the image's
    own file object is read.
    """
    try:
        raw = im.info.get("exif")
        if isinstance(raw, bytes) and raw:
            return _facts(im, raw, *_block_start(raw))
        if hasattr(im, "tag_v2"):  # a TIFF: the file is the block
            if raw is not None:  # an empty ``info["exif"]``: Pillow reads that, not the file
                return _facts(im, raw, *_block_start(raw))
            if data is None:
                im.fp.seek(0)
                data = im.fp.read()
            return _facts(im, data, 0, _LAYOUTS[data[:2], data[2] == 43], im.tag_v2.offset)
        return NO_FACTS
    except Exception as exc:  # noqa: BLE001 - a crafted EXIF block may break the parser any way it likes
        logger.debug("unreadable EXIF (%s): registered without its facts", type(exc).__name__)
        return NO_FACTS


# Bytes per value of each type Pillow reads; an entry of any other type is skipped.
_UNIT = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
_NUMBER = {3: "H", 4: "L", 6: "b", 8: "h", 9: "l", 11: "f", 12: "d", 13: "L", 16: "Q"}
_BYTES, _ASCII, _RATIONAL, _UNDEFINED, _SIGNED_RATIONAL = 1, 2, 5, 7, 10

_IFD0_TAGS = (_ORIENTATION, _EXIF_IFD, _GPS_IFD)
_EXIF_TAGS = (_DATE_TIME_ORIGINAL, _OFFSET_TIME_ORIGINAL)
_GPS_TAGS = (_GPS_LATITUDE_REF, _GPS_LATITUDE, _GPS_LONGITUDE_REF, _GPS_LONGITUDE)


# --- the TIFF structure -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """One byte order and TIFF flavour (classic: 12-byte entries; BigTIFF: 20-byte entries)."""

    endian: str
    count: Struct  # entries in a directory
    entry: Struct  # tag, type, count, value or offset (as an unsigned number)
    value_at: int  # where an entry's inline value starts
    inline: int  # values up to this size are inline
    tags: dict[tuple[int, ...], tuple[tuple[int, bytes], ...]]  # each tag as written, to look for it quickly
    one: dict[int, Struct]  # one value of each number type
    directory: tuple = ()  # (count, entry, value_at, inline, tags): what each directory read takes, at once

    def __post_init__(self):
        object.__setattr__(self, "directory", (self.count, self.entry, self.value_at, self.inline, self.tags))

    def values(self, kind: int, count: int) -> Struct:
        """The ``Struct`` of ``count`` values of a number type (a rational is two)."""
        return self.one[kind] if count == 1 else _values_struct(self.endian, kind, count)


@lru_cache(maxsize=256)
def _values_struct(endian: str, kind: int, count: int) -> Struct:
    if kind == _RATIONAL or kind == _SIGNED_RATIONAL:
        return Struct(f"{endian}{2 * count}{'L' if kind == _RATIONAL else 'l'}")
    return Struct(f"{endian}{count}{_NUMBER[kind]}")


def _layout(endian: str, big: bool) -> _Layout:
    tag = Struct(endian + "H")
    return _Layout(
        endian=endian,
        count=Struct(endian + ("Q" if big else "H")),
        entry=Struct(endian + ("HHQQ" if big else "HHLL")),
        value_at=12 if big else 8,
        inline=8 if big else 4,
        tags={group: tuple((t, tag.pack(t)) for t in group) for group in (_IFD0_TAGS, _EXIF_TAGS, _GPS_TAGS)},
        one={kind: _values_struct(endian, kind, 1) for kind in (*_NUMBER, _RATIONAL, _SIGNED_RATIONAL)},
    )


_LAYOUTS = {
    (b"II", False): _layout("<", big=False),
    (b"MM", False): _layout(">", big=False),
    (b"II", True): _layout("<", big=True),
    (b"MM", True): _layout(">", big=True),
}
# The headers Pillow accepts (two of them are malformed ones it tolerates); bytes 4-8 locate IFD0.
# Pillow takes "MM\x00\x2b" (big-endian BigTIFF) for a classic header; "II\x2b\x00" it cannot read here.
_HEADERS = {
    b"II\x2a\x00": b"II",
    b"II\x00\x2a": b"II",
    b"MM\x00\x2a": b"MM",
    b"MM\x2a\x00": b"MM",
    b"MM\x00\x2b": b"MM",
}
_IFD0_AT = {b"II": Struct("<L"), b"MM": Struct(">L")}


def _block_start(block: bytes) -> tuple[int, _Layout | None, int]:
    """Where the TIFF structure of an EXIF block starts, its layout and where its IFD0 is."""
    start = 0
    while start < 12 and block.startswith(b"Exif\x00\x00", start):  # Pillow drops up to two of these
        start += 6
    if start == len(block):
        return start, None, 0  # nothing after the prefix: no tags (Pillow reads no directory)
    head = block[start : start + 8]
    order = _HEADERS.get(head[:4])
    if order is None or len(head) < 8:
        raise _Unreadable
    return start, _LAYOUTS[order, False], _IFD0_AT[order].unpack_from(head, 4)[0]


def _directory(data: bytes, base: int, layout: _Layout, at: int, wanted: tuple[int, ...]) -> dict[int, tuple]:
    """The entries of ``wanted`` tags in the directory ``at`` bytes past ``base``: tag -> (type, count, position).

    Follows ``ImageFileDirectory_v2.load``: the first stored entry of a tag
    counts; an entry of an unknown type or with no value is skipped; one
    whose value lies past the end stops the directory there (what came
    before stays); once out-of-line values add up to more than the stream
    holds, every further one is skipped. Each entry is read once, so a
    directory ends; it never follows a pointer to a next directory.
    """
    size = len(data) - base
    count_struct, entry_struct, value_at, inline, tags = layout.directory
    count_size = count_struct.size
    if at + count_size > size:
        return {}
    first = base + at + count_size
    entry_size = entry_struct.size
    entries = min(count_struct.unpack_from(data, base + at)[0], (size - at - count_size) // entry_size)
    end = first + entries * entry_size
    need = wanted
    if entries > 8:  # a tag's two bytes absent from a long table: its entry is absent (present: maybe)
        find = data.find
        need = {tag for tag, written in tags[wanted] if find(written, first, end) >= 0}
    found: dict[int, tuple] = {}
    if not need:
        return found
    stored = set()
    total = 0
    for index, (tag, kind, count, word) in enumerate(entry_struct.iter_unpack(data[first:end])):
        if tag in stored:
            continue
        unit = _UNIT.get(kind)
        if unit is None:
            continue
        length = count * unit
        if length > inline:
            if word >= 2**63:
                continue
            total += length
            if total > size:
                continue
            if word + length > size:
                break  # Pillow's read of this value fails: the rest of the directory is not read
            value = base + word
        elif length:
            value = first + index * entry_size + value_at
        else:
            continue
        stored.add(tag)
        if tag in need:
            found[tag] = (kind, count, value)
            if len(found) == len(need):
                break
    return found


def _value(data: bytes, layout: _Layout, entry: tuple | None, *, single: bool = False, most: int = 0):
    """An entry's value as Pillow gives it, or ``None`` without the entry.

    Bytes and undefined are ``bytes``, ASCII a ``str`` (one trailing NUL
    dropped), numbers a number, or a tuple of them when there are several
    (``single``: the first only, as Pillow does for tags defined with one
    value). A rational is its float (NaN for x/0), as Pillow's converts
    (its ``int()`` too: 32-bit terms never come close enough to a whole
    number for the float to round across it). ``most`` reads no more than
    that many values (the caller needs no more to reject a longer one).
    """
    if entry is None:
        return None
    kind, count, at = entry
    if kind == _ASCII:
        text = data[at : at + count]
        return (text[:-1] if text[-1:] == b"\x00" else text).decode("latin-1")
    if kind == _BYTES or kind == _UNDEFINED:
        return data[at : at + count]
    if single:
        count = 1
    elif most and count > most:
        count = most
    values = layout.values(kind, count).unpack_from(data, at)
    if kind == _RATIONAL or kind == _SIGNED_RATIONAL:
        numerators, denominators = values[::2], values[1::2]
        if 0 in denominators:
            values = tuple(n / d if d else math.nan for n, d in zip(numerators, denominators, strict=True))
        else:
            values = tuple(map(truediv, numerators, denominators))
    return values[0] if count == 1 else values


def _offset_of(data: bytes, layout: _Layout, entry: tuple | None) -> int | None:
    """A sub-directory's offset: Pillow follows only a non-negative whole number."""
    offset = _value(data, layout, entry, single=True) if entry else None
    return offset if isinstance(offset, int) and offset >= 0 else None


def _facts(im: Image.Image, data: bytes, base: int, layout: _Layout | None, ifd0_at: int) -> ExifFacts:
    if layout is None:  # an empty block
        return ExifFacts(orientation=_orientation(_xmp_orientation(im.info)))
    ifd0 = _directory(data, base, layout, ifd0_at, _IFD0_TAGS)
    entry = ifd0.get(_ORIENTATION)
    orientation = _value(data, layout, entry, single=True) if entry else _xmp_orientation(im.info)
    at = _offset_of(data, layout, ifd0.get(_EXIF_IFD))
    sub = _directory(data, base, layout, at, _EXIF_TAGS) if at is not None else {}
    at = _offset_of(data, layout, ifd0.get(_GPS_IFD))
    gps = _directory(data, base, layout, at, _GPS_TAGS) if at is not None else {}
    lat = lon = None
    if len(gps) == 4:  # a position needs all four
        lat = _degrees(
            _value(data, layout, gps[_GPS_LATITUDE], most=4),
            _value(data, layout, gps[_GPS_LATITUDE_REF]),
            positive="N",
            negative="S",
            limit=90,
        )
        lon = _degrees(
            _value(data, layout, gps[_GPS_LONGITUDE], most=4),
            _value(data, layout, gps[_GPS_LONGITUDE_REF]),
            positive="E",
            negative="W",
            limit=180,
        )
        if lat is None or lon is None:
            lat = lon = None
    return ExifFacts(
        date_taken=exif_datetime(
            _value(data, layout, sub.get(_DATE_TIME_ORIGINAL)), _value(data, layout, sub.get(_OFFSET_TIME_ORIGINAL))
        )
        if sub
        else None,
        lat=lat,
        lon=lon,
        orientation=_orientation(orientation),
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


# --- values -----------------------------------------------------------------------------------------------------


def exif_datetime(value, offset=None) -> datetime | None:
    """``"YYYY:MM:DD HH:MM:SS"`` (+ ``"+HH:MM"``) as an aware datetime; see the module docstring for no offset."""
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
    lat = _degrees(gps.get(_GPS_LATITUDE), gps.get(_GPS_LATITUDE_REF), positive="N", negative="S", limit=90)
    lon = _degrees(gps.get(_GPS_LONGITUDE), gps.get(_GPS_LONGITUDE_REF), positive="E", negative="W", limit=180)
    if lat is None or lon is None:
        return None, None
    return lat, lon


def _degrees(dms, ref, *, positive: str, negative: str, limit: int) -> float | None:
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


def _orientation(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 8 else None
