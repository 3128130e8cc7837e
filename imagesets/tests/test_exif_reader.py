"""The EXIF reader against crafted blocks, and against Pillow's parser on generated ones.

Blocks are written byte by byte here (``tiff_block``), so a directory can
hold what no encoder writes: any type, any count, offsets anywhere.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from imagesets.exif import NO_FACTS, ExifFacts, read_facts
from imagesets.probe import identify
from imagesets.tests import samples
from imagesets.tests.exif_reference import pillow_read_facts

# Pillow warns about every damaged block it opens; these are damaged on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.*")

ORIENTATION, EXIF_IFD, GPS_IFD, DATE, OFFSET = 0x0112, 0x8769, 0x8825, 0x9003, 0x9011
LAT_REF, LAT, LON_REF, LON = 1, 2, 3, 4
BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED, SSHORT, SLONG, SRATIONAL, FLOAT, DOUBLE = range(1, 13)
IFD, LONG8 = 13, 16
FORMATS = {BYTE: "B", SHORT: "H", LONG: "L", SBYTE: "b", SSHORT: "h", SLONG: "l", FLOAT: "f", DOUBLE: "d"}
FORMATS |= {IFD: "L", LONG8: "Q", RATIONAL: "L", SRATIONAL: "l"}

TAKEN = datetime(2024, 3, 14, 8, 20, 30, tzinfo=UTC)
FULL = ExifFacts(date_taken=TAKEN, lat=samples.LAT, lon=samples.LON, orientation=6)


@dataclass
class Entry:
    tag: int
    type: int
    values: tuple | bytes = ()  # numbers (a rational is two), or the bytes of BYTE/ASCII/UNDEFINED
    count: int | None = None  # what the entry announces (default: what the values hold)
    word: int | None = None  # the value/offset word as written (default: inline, or where the data is put)
    to: int | None = None  # a pointer to directory ``to`` (its offset is the value)


def tiff_block(directories: list[list[Entry]], *, order: str = "<", header: bytes | None = None) -> bytes:
    """A TIFF structure: directory 0 right after the header, then the others, then out-of-line values."""
    e = order
    sizes = [2 + 12 * len(entries) + 4 for entries in directories]
    starts = [8 + sum(sizes[:index]) for index in range(len(directories))]
    heap = bytearray()
    heap_at = 8 + sum(sizes)
    tables = bytearray()
    for entries in directories:
        tables += struct.pack(e + "H", len(entries))
        for entry in entries:
            if entry.to is not None:
                payload = struct.pack(e + "L", starts[entry.to])
                count = 1
            elif isinstance(entry.values, bytes):
                payload = entry.values
                count = len(payload)
            else:
                payload = struct.pack(f"{e}{len(entry.values)}{FORMATS[entry.type]}", *entry.values)
                count = len(entry.values) // (2 if entry.type in (RATIONAL, SRATIONAL) else 1)
            count = count if entry.count is None else entry.count
            if entry.word is not None:
                word = struct.pack(e + "L", entry.word)
            elif len(payload) <= 4:
                word = payload.ljust(4, b"\0")
            else:
                word = struct.pack(e + "L", heap_at + len(heap))
                heap += payload
            tables += struct.pack(e + "HHL", entry.tag, entry.type, count & 0xFFFFFFFF) + word
        tables += b"\0\0\0\0"
    if header is None:
        header = (b"II\x2a\x00" if e == "<" else b"MM\x00\x2a") + struct.pack(e + "L", 8)
    return header + bytes(tables) + bytes(heap)


def camera_directories(**replace: Entry | None) -> list[list[Entry]]:
    """IFD0 -> Exif IFD (1) and GPS IFD (2), holding the sample facts; ``replace`` swaps (or drops) an entry by name."""
    entries = {
        "orientation": Entry(ORIENTATION, SHORT, (6,)),
        "exif": Entry(EXIF_IFD, LONG, to=1),
        "gps": Entry(GPS_IFD, LONG, to=2),
        "date": Entry(DATE, ASCII, b"2024:03:14 10:20:30\0"),
        "offset": Entry(OFFSET, ASCII, b"+02:00\0"),
        "lat_ref": Entry(LAT_REF, ASCII, b"N\0"),
        "lat": Entry(LAT, RATIONAL, (52, 1, 22, 1, 125, 10)),
        "lon_ref": Entry(LON_REF, ASCII, b"W\0"),
        "lon": Entry(LON, RATIONAL, (4, 1, 53, 1, 0, 1)),
    }
    entries.update(replace)
    layout = [["orientation", "exif", "gps"], ["date", "offset"], ["lat_ref", "lat", "lon_ref", "lon"]]
    return [[entries[name] for name in names if entries[name] is not None] for names in layout]


_PLAIN_JPEG = samples.jpeg(16, 12)


def jpeg_with_block(block: bytes, *, prefix: bytes = b"Exif\x00\x00", xmp: bytes | None = None) -> bytes:
    """A JPEG with ``block`` as its EXIF segment (and an XMP one), spliced in right after SOI."""
    segments = b""
    for payload in (prefix + block, None if xmp is None else b"http://ns.adobe.com/xap/1.0/\x00" + xmp):
        if payload is not None:
            segments += b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return _PLAIN_JPEG[:2] + segments + _PLAIN_JPEG[2:]


def both_readers(data: bytes) -> tuple[ExifFacts, ExifFacts]:
    """(this reader's facts, Pillow's) for one file; each gets its own freshly opened image."""
    with Image.open(BytesIO(data)) as im:
        ours = read_facts(im, data)
    with Image.open(BytesIO(data)) as im:
        theirs = pillow_read_facts(im)
    return ours, theirs


def facts_of_block(block: bytes, **options) -> ExifFacts:
    ours, theirs = both_readers(jpeg_with_block(block, **options))
    assert ours == theirs, "the reader and Pillow disagree"
    return ours


# --- crafted blocks --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["<", ">"])
def test_both_byte_orders_give_every_fact(order):
    assert facts_of_block(tiff_block(camera_directories(), order=order)) == FULL


@pytest.mark.parametrize(
    "header",
    [
        b"II\x00\x2a\x08\x00\x00\x00",  # malformed magic numbers Pillow tolerates
        b"MM\x2a\x00\x00\x00\x00\x08",
        b"MM\x00\x2b\x00\x00\x00\x08",  # big-endian "BigTIFF": read as a classic header
    ],
)
def test_the_headers_pillow_tolerates_are_read_as_it_reads_them(header):
    order = "<" if header.startswith(b"II") else ">"
    assert facts_of_block(tiff_block(camera_directories(), order=order, header=header)) == FULL


@pytest.mark.parametrize(
    "block",
    [
        b"",
        b"II*",  # shorter than a header
        b"II\x2b\x00\x08\x00\x00\x00",  # BigTIFF inside a block
        b"XX\x2a\x00\x08\x00\x00\x00",
        b"II\x2a\x00\x08\x00",
    ],
)
def test_a_block_without_a_readable_header_has_no_facts(block):
    assert facts_of_block(block) == NO_FACTS


def test_two_exif_prefixes_are_dropped_as_pillow_drops_them():
    block = tiff_block(camera_directories())
    assert facts_of_block(block, prefix=b"Exif\x00\x00Exif\x00\x00") == FULL
    assert facts_of_block(block, prefix=b"Exif\x00\x00" * 3) == NO_FACTS  # a third is the header


@pytest.mark.parametrize("cut", [8, 9, 10, 20, 30, 44, 47, 60, 100, -40, -10, -1])
@pytest.mark.parametrize("order", ["<", ">"])
def test_a_block_cut_anywhere_keeps_the_entries_before_the_cut(cut, order):
    block = tiff_block(camera_directories(), order=order)
    facts_of_block(block[:cut])  # the same as Pillow's, whatever that is


def test_a_directory_announcing_more_entries_than_it_holds_keeps_those_it_holds():
    block = bytearray(tiff_block(camera_directories()))
    block[8:10] = struct.pack("<H", 0xFFFF)  # IFD0: 65535 entries announced, 3 there, then the others' bytes
    facts = facts_of_block(bytes(block))
    assert facts.orientation == 6


@pytest.mark.parametrize(
    "replace",
    [
        {"exif": Entry(EXIF_IFD, LONG, (0xFFFFFFF0,))},  # past the end
        {"gps": Entry(GPS_IFD, LONG, (10**6,))},
        {"date": Entry(DATE, ASCII, b"2024:03:14 10:20:30\0", word=0xFFFFFFF0)},  # value past the end
        {"lat": Entry(LAT, RATIONAL, (52, 1, 22, 1, 125, 10), word=60_000)},
        {"offset": Entry(OFFSET, ASCII, b"+02:00\0", count=0xFFFFFFFF)},  # a count of 2**32-1
        {"date": Entry(DATE, ASCII, b"2024:03:14 10:20:30\0", count=0xFFFFFFFF, word=0)},
        {"orientation": Entry(ORIENTATION, SHORT, (6,), count=0xFFFFFFFF)},
        {"lat": Entry(LAT, RATIONAL, (52, 1), count=0xFFFFFFFF)},
        {"exif": Entry(EXIF_IFD, LONG, (0,), count=0xFFFFFFFF)},
    ],
)
def test_offsets_and_counts_past_the_end_lose_only_what_they_hide(replace):
    facts = facts_of_block(tiff_block(camera_directories(**replace)))
    assert facts != FULL
    assert facts.orientation == (None if "orientation" in replace else 6)


@pytest.mark.parametrize(
    "replace",
    [
        {"exif": Entry(EXIF_IFD, LONG, to=0)},  # the Exif IFD is IFD0
        {"gps": Entry(GPS_IFD, LONG, to=0), "exif": Entry(EXIF_IFD, LONG, to=2)},
        {"date": Entry(EXIF_IFD, LONG, to=1)},  # the Exif IFD points at itself
        {"lat_ref": Entry(GPS_IFD, LONG, to=2), "date": Entry(GPS_IFD, LONG, to=1)},  # GPS <-> Exif
    ],
)
def test_directories_pointing_at_each_other_are_each_read_once(replace):
    facts_of_block(tiff_block(camera_directories(**replace)))  # ends, and as Pillow reads it


def test_the_first_stored_entry_of_a_tag_counts_and_unknown_types_are_skipped():
    directories = camera_directories()
    directories[0][:0] = [Entry(ORIENTATION, 99, b"\x03\0", count=1), Entry(ORIENTATION, SHORT, (3,), count=0)]
    directories[0].append(Entry(ORIENTATION, SHORT, (8,)))  # a second stored one: ignored
    assert facts_of_block(tiff_block(directories)).orientation == 6


NUMBERS = {BYTE: (6,), SHORT: (6,), LONG: (6,), SBYTE: (6,), SSHORT: (6,), SLONG: (6,), LONG8: (6,), IFD: (6,)}
NUMBERS |= {FLOAT: (6.5,), DOUBLE: (6.5,), RATIONAL: (13, 2), SRATIONAL: (-13, -2)}
EVERY_TYPE = [
    *NUMBERS.items(),
    (ASCII, b"6\0"),
    (UNDEFINED, b"6"),
    (BYTE, b"6"),  # the digit: Pillow's int() of bytes reads it
    (SHORT, (6, 3)),  # two values where one is defined
    (RATIONAL, (6, 0)),
    (DOUBLE, (float("inf"),)),  # Pillow's int() fails otherwise: no facts at all
    (UNDEFINED, b""),
    (0, (6,)),
    (14, (6,)),
]


@pytest.mark.parametrize(("kind", "values"), EVERY_TYPE)
@pytest.mark.parametrize(
    "name",
    ["orientation", "exif", "gps", "date", "offset", "lat_ref", "lat", "lon_ref", "lon"],
)
def test_each_tag_of_each_type_is_read_as_pillow_reads_it(name, kind, values):
    tag = {"orientation": ORIENTATION, "exif": EXIF_IFD, "gps": GPS_IFD, "date": DATE, "offset": OFFSET}.get(name)
    tag = tag or {"lat_ref": LAT_REF, "lat": LAT, "lon_ref": LON_REF, "lon": LON}[name]
    if kind in (0, 14):
        entry = Entry(tag, kind, b"\x00\x06", count=1)
    elif isinstance(values, bytes):
        entry = Entry(tag, kind, values)
    else:
        entry = Entry(tag, kind, values if kind in FORMATS else (), count=None if kind in FORMATS else 1)
    for order in ("<", ">"):
        facts_of_block(tiff_block(camera_directories(**{name: entry}), order=order))


def test_date_strings_of_every_shape_are_read_as_strptime_reads_them():
    for text in [
        b"2024:03:14 10:20:30",
        b"2024:3:14 10:20:30",  # one-digit month: strptime takes it
        b"2024:03:14  10:20:3",
        b"2024:02:29 23:59:59",
        b"2023:02:29 23:59:59",
        b"2024:03:14 10:20:60",
        b"0001:01:01 00:00:00",  # at +02:00 this is before year 1 in UTC: no facts, as before
        b"9999:12:31 23:59:59",
        b"2024:03:14 10:20:30.123",
        b"2024:03:14T10:20:30",
        b"\xb2024:03:14 10:20:30",
        b"    :  :     :  :  ",
    ]:
        facts_of_block(tiff_block(camera_directories(date=Entry(DATE, ASCII, text + b"\0"))))


def test_without_an_orientation_tag_the_xmp_packet_gives_it_as_pillow_does():
    block = tiff_block(camera_directories(orientation=None))
    xmp = b'<x:xmpmeta><rdf:Description tiff:Orientation="3"/></x:xmpmeta>'
    assert facts_of_block(block, xmp=xmp).orientation == 3
    assert facts_of_block(tiff_block(camera_directories()), xmp=xmp).orientation == 6  # the tag wins


def test_a_tiff_whose_orientation_is_in_its_first_directory_only_is_read_from_the_file():
    data = samples.tiff_with_exif(orientation=3)
    ours, theirs = both_readers(data)
    assert ours == theirs
    assert ours.orientation == 3
    with Image.open(BytesIO(data)) as im:
        assert read_facts(im) == ours  # without the bytes: read from the image's file


# --- the reader agrees with Pillow on generated blocks ---------------------------------------------------------

WANTED = [ORIENTATION, EXIF_IFD, GPS_IFD, DATE, OFFSET, LAT_REF, LAT, LON_REF, LON]
OTHER_TAGS = [0x010F, 0x0128, 0x011A, 0x9000, 0x927C, 5, 6]
KINDS = [BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED, SSHORT, SLONG, SRATIONAL, FLOAT, DOUBLE, IFD, LONG8]

texts = st.one_of(
    st.sampled_from([b"2024:03:14 10:20:30", b"+02:00", b"-05:30", b"N", b"S", b"E", b"W", b"w", b"Q", b"    "]),
    st.builds(
        lambda y, mo, d, h, mi, s: f"{y:04d}:{mo:02d}:{d:02d} {h:02d}:{mi:02d}:{s:02d}".encode(),
        st.integers(0, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 24),
        st.integers(0, 60),
        st.integers(0, 61),
    ),
    st.binary(max_size=24),
)


@st.composite
def entries(draw, tags: list[int], directory_count: int) -> Entry:
    tag = draw(st.sampled_from(tags + OTHER_TAGS))
    kind = draw(st.one_of(st.sampled_from(KINDS), st.integers(0, 20)))
    if draw(st.integers(0, 9)) == 0 and directory_count:  # a pointer to any directory, whatever the tag
        return Entry(tag, kind if kind in (LONG, SHORT, SLONG, IFD) else LONG, to=draw(st.integers(0, 2)))
    if kind in (BYTE, ASCII, UNDEFINED):
        values = draw(texts) + draw(st.sampled_from([b"\0", b""]))
    elif kind in (RATIONAL, SRATIONAL):
        pairs = draw(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 12)), min_size=0, max_size=4))
        values = tuple(part for pair in pairs for part in pair)
        if kind == SRATIONAL and values and draw(st.booleans()):
            values = (-values[0], *values[1:])
    elif kind in FORMATS:
        low = {SBYTE: -128, SSHORT: -(2**15), SLONG: -(2**31)}.get(kind, 0)
        numbers = st.integers(low, min(2**16, 2 ** (8 * struct.calcsize(FORMATS[kind])) - 1) + low)
        if kind in (FLOAT, DOUBLE):
            numbers = st.floats(allow_nan=True, allow_infinity=True, width=32 if kind == FLOAT else 64)
        values = tuple(draw(st.lists(numbers, min_size=0, max_size=4)))
    else:  # an unknown type
        return Entry(tag, kind, b"", count=draw(st.integers(0, 8)), word=draw(st.integers(0, 2**32 - 1)))
    count = draw(st.one_of(st.none(), st.none(), st.sampled_from([0, 1, 2, 3, 255, 2**31, 2**32 - 1])))
    word = draw(st.one_of(st.none(), st.none(), st.none(), st.integers(0, 2**32 - 1), st.integers(0, 300)))
    return Entry(tag, kind, values, count=count, word=word)


@st.composite
def blocks(draw) -> tuple[bytes, bytes | None]:
    """A block from sensible to mangled: real facts with some entries swapped, added or cut."""
    order = draw(st.sampled_from("<>"))
    directories = camera_directories()
    tags = [WANTED[:3], WANTED[3:5], WANTED[5:]]
    for index, directory in enumerate(directories):
        for _ in range(draw(st.integers(0, 3))):
            action = draw(st.sampled_from(["replace", "insert", "drop"]))
            if action == "drop" and directory:
                directory.pop(draw(st.integers(0, len(directory) - 1)))
                continue
            entry = draw(entries(tags[index], len(directories)))
            if action == "replace" and directory:
                directory[draw(st.integers(0, len(directory) - 1))] = entry
            else:
                directory.insert(draw(st.integers(0, len(directory))), entry)
    block = tiff_block(directories, order=order)
    if draw(st.integers(0, 4)) == 0:
        block = block[: draw(st.integers(0, len(block)))]
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, max(0, len(block) - 1)))
        block = block[:at] + draw(st.binary(min_size=1, max_size=4)) + block[at + 4 :]
    xmp = draw(st.sampled_from([None, None, b'<rdf:Description tiff:Orientation="8"/>', b"<tiff:Orientation>2<"]))
    return block, xmp


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks())
def test_the_reader_and_pillow_agree_on_every_generated_block(generated):
    block, xmp = generated
    ours, theirs = both_readers(jpeg_with_block(block, xmp=xmp))
    assert ours == theirs


@settings(max_examples=60, deadline=None)
@given(
    orientation=st.one_of(st.none(), st.integers(0, 9)),
    taken=st.sampled_from([None, "2024:03:14 10:20:30", "2024:13:01 00:00:00", "nonsense"]),
    offset=st.sampled_from([None, "+02:00", "-11:30", "+15:00", "2"]),
    lat=st.sampled_from([None, (52, 22, (125, 10)), ((5243, 100),), (91, 0, 0), ((1, 0), 0, 0)]),
    lat_ref=st.sampled_from([None, "N", "S", "X"]),
    fmt=st.sampled_from(["JPEG", "TIFF", "PNG", "WEBP"]),
)
def test_the_reader_and_pillow_agree_on_files_pillow_writes(orientation, taken, offset, lat, lat_ref, fmt):
    exif = samples.exif_block(orientation=orientation, taken=taken, offset=offset, lat=lat, lat_ref=lat_ref)
    data = samples.encode(Image.new("RGB", (9, 7)), fmt, exif=exif.tobytes())
    ours, theirs = both_readers(data)
    assert ours == theirs
    assert identify(data).facts == ours
