"""The TIFF structure of an EXIF block, read as Pillow 13 reads it: the nine tags the facts come from.

An EXIF block is a small TIFF file: a header (byte order, classic or
BigTIFF, where the first directory, IFD0, starts), then directories of
entries, each a tag, a type, a count and a value that is inline when it
fits the entry, elsewhere in the block when it does not. IFD0 holds the
orientation and the offsets of the Exif IFD (date taken) and the GPS IFD.

``block_start`` reads the header, ``read_directory`` finds the wanted tags'
entries in one directory, ``read_value`` gives an entry's value and
``read_offset`` a sub-directory's offset. They follow Pillow's
``ImageFileDirectory_v2.load`` and its value conversions, so a crafted or
damaged block reads as Pillow reads it (``imagesets/tests/test_exif_reader.py``
compares the two). What a value means is ``imagesets.exif.values``'s business.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from operator import truediv
from struct import Struct

ORIENTATION = 0x0112
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
DATE_TIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE = 1, 2, 3, 4

# The tags wanted from each directory.
IFD0_TAGS = (ORIENTATION, EXIF_IFD, GPS_IFD)
EXIF_TAGS = (DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL)
GPS_TAGS = (GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE)

# Bytes per value of each type Pillow reads; an entry of any other type is skipped.
_UNIT = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
_NUMBER = {3: "H", 4: "L", 6: "b", 8: "h", 9: "l", 11: "f", 12: "d", 13: "L", 16: "Q"}
_BYTES, _ASCII, _RATIONAL, _UNDEFINED, _SIGNED_RATIONAL = 1, 2, 5, 7, 10


class Unreadable(Exception):
    """The block is not a TIFF structure (where Pillow's ``getexif()`` raises)."""


@dataclass(frozen=True)
class Layout:
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


def _layout(endian: str, big: bool) -> Layout:
    tag = Struct(endian + "H")
    return Layout(
        endian=endian,
        count=Struct(endian + ("Q" if big else "H")),
        entry=Struct(endian + ("HHQQ" if big else "HHLL")),
        value_at=12 if big else 8,
        inline=8 if big else 4,
        tags={group: tuple((t, tag.pack(t)) for t in group) for group in (IFD0_TAGS, EXIF_TAGS, GPS_TAGS)},
        one={kind: _values_struct(endian, kind, 1) for kind in (*_NUMBER, _RATIONAL, _SIGNED_RATIONAL)},
    )


# By byte order (``b"II"``, ``b"MM"``) and BigTIFF or not.
LAYOUTS = {
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


def block_start(block: bytes) -> tuple[int, Layout | None, int]:
    """Where the TIFF structure of an EXIF block starts, its layout and where its IFD0 is."""
    start = 0
    while start < 12 and block.startswith(b"Exif\x00\x00", start):  # Pillow drops up to two of these
        start += 6
    if start == len(block):
        return start, None, 0  # nothing after the prefix: no tags (Pillow reads no directory)
    head = block[start : start + 8]
    order = _HEADERS.get(head[:4])
    if order is None or len(head) < 8:
        raise Unreadable
    return start, LAYOUTS[order, False], _IFD0_AT[order].unpack_from(head, 4)[0]


def read_directory(data: bytes, base: int, layout: Layout, at: int, wanted: tuple[int, ...]) -> dict[int, tuple]:
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


def read_value(data: bytes, layout: Layout, entry: tuple | None, *, single: bool = False, most: int = 0):
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


def read_offset(data: bytes, layout: Layout, entry: tuple | None) -> int | None:
    """A sub-directory's offset: Pillow follows only a non-negative whole number."""
    offset = read_value(data, layout, entry, single=True) if entry else None
    return offset if isinstance(offset, int) and offset >= 0 else None
