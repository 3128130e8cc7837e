"""Date taken, GPS position and orientation read from the header bytes of files made here with Pillow."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
from PIL import ExifTags, Image

from imagesets.exif import NO_FACTS
from imagesets.exif.values import exif_datetime
from imagesets.probe import identify
from imagesets.tests import samples

TAKEN = datetime(2024, 3, 14, 8, 20, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("make", "filetype"),
    [
        (samples.jpeg_with_exif, "JPEG"),
        (samples.png_with_exif, "PNG"),
        (samples.tiff_with_exif, "TIFF"),
        (
            lambda **kw: samples.encode(Image.new("RGB", (9, 9)), "WEBP", exif=samples.exif_block(**kw).tobytes()),
            "WEBP",
        ),
    ],
)
def test_date_position_and_orientation_are_read_from_every_format_that_carries_exif(make, filetype):
    info = identify(make())

    assert info.filetype == filetype
    assert info.facts.date_taken == TAKEN  # 10:20:30 at +02:00
    assert (info.facts.lat, info.facts.lon) == (samples.LAT, samples.LON)
    assert info.facts.orientation == 6


def test_a_turned_tiff_keeps_the_size_of_its_own_pixel_frame():
    # Pillow reports a TIFF turned by 90° with width and height swapped; the stored size is the file's.
    info = identify(samples.tiff_with_exif(25, 40, orientation=6))
    assert (info.width, info.height, info.facts.orientation) == (25, 40, 6)


@pytest.mark.parametrize(
    ("lat", "lat_ref", "lon", "lon_ref", "expected"),
    [
        ((33, 51, (216, 10)), "S", (151, 12, (468, 10)), "E", (-33.8560, 151.2130)),  # Sydney
        ((0, 0, 0), "N", (0, 0, 0), "E", (0.0, 0.0)),
        ((90, 0, 0), "N", (180, 0, 0), "W", (90.0, -180.0)),
        (((5243, 100),), "N", ((45, 10),), "E", (52.43, 4.5)),  # decimal degrees in one rational
    ],
)
def test_gps_degrees_minutes_seconds_and_hemispheres_become_signed_degrees(lat, lat_ref, lon, lon_ref, expected):
    facts = identify(samples.jpeg_with_exif(lat=lat, lat_ref=lat_ref, lon=lon, lon_ref=lon_ref)).facts
    assert facts.lat == pytest.approx(expected[0], abs=1e-4)
    assert facts.lon == pytest.approx(expected[1], abs=1e-4)


@pytest.mark.parametrize(
    "gps",
    [
        {"lat": (95, 0, 0)},  # past the pole
        {"lon": (181, 0, 0)},
        {"lat": (52, 60, 0)},  # 60 minutes
        {"lat": (52, 10, 75)},  # 75 seconds
        {"lat": ((52, 0), 0, 0)},  # x/0: not a number
        {"lat_ref": "Q"},
        {"lon_ref": None},  # no hemisphere: the sign is unknown
        {"lon": None},  # a latitude alone is not a position
        {"lat": (52, 22, 12, 1)},  # four parts
    ],
)
def test_malformed_gps_values_give_no_location_and_keep_the_other_facts(gps):
    info = identify(samples.jpeg_with_exif(**gps))

    assert (info.facts.lat, info.facts.lon) == (None, None)
    assert info.facts.date_taken == TAKEN
    assert info.facts.orientation == 6


def test_without_an_offset_the_date_is_the_cameras_clock_reading_stored_as_utc():
    facts = identify(samples.jpeg_with_exif(offset=None)).facts
    assert facts.date_taken == datetime(2024, 3, 14, 10, 20, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "offset", "expected"),
    [
        ("2024:03:14 10:20:30", "-05:30", datetime(2024, 3, 14, 15, 50, 30, tzinfo=UTC)),
        (b"2024:03:14 10:20:30\x00", b"+00:00", datetime(2024, 3, 14, 10, 20, 30, tzinfo=UTC)),
        ("2024:03:14 10:20:30", "+99:00", datetime(2024, 3, 14, 10, 20, 30, tzinfo=UTC)),  # absurd offset: none
        ("    :  :     :  :  ", None, None),  # the standard's "unknown"
        ("2024:02:30 10:20:30", None, None),  # no such day
        ("yesterday", None, None),
        (20240314, None, None),
    ],
)
def test_exif_dates_are_parsed_strictly(value, offset, expected):
    assert exif_datetime(value, offset) == expected


@pytest.mark.parametrize("orientation", [0, 9, 65535])
def test_an_orientation_outside_1_to_8_is_unknown(orientation):
    assert identify(samples.jpeg_with_exif(orientation=orientation)).facts.orientation is None


def test_files_without_exif_have_no_facts():
    for data in (samples.png(), samples.jpeg(), samples.gif(), samples.tiff(), samples.webp()):
        assert identify(data).facts == NO_FACTS


@pytest.mark.parametrize(
    "block",
    [
        b"Exif\x00\x00garbage",
        b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff",  # IFD0 offset past the end
        b"Exif\x00\x00II\x2a\x00\x08\x00\x00\x00\xff\xff",  # 65535 entries announced, none there
    ],
)
def test_a_broken_exif_block_gives_no_facts_and_the_image_still_registers(block):
    info = identify(samples.encode(Image.new("RGB", (12, 10)), "JPEG", exif=block))
    assert (info.filetype, info.width, info.height) == ("JPEG", 12, 10)
    assert info.facts == NO_FACTS


def test_a_tiff_whose_exif_lies_past_the_bytes_read_has_only_the_facts_of_its_first_directory():
    data = samples.tiff_with_exif()
    with Image.open(BytesIO(data)) as im:
        exif_at = min(im.tag_v2[ExifTags.IFD.Exif], im.tag_v2[ExifTags.IFD.GPSInfo])

    info = identify(data[:exif_at])  # the bytes read end where the EXIF directories begin

    assert (info.filetype, info.width, info.height) == ("TIFF", 25, 26)
    assert (info.facts.date_taken, info.facts.lat, info.facts.lon) == (None, None, None)
    assert info.facts.orientation == 6  # a tag of the first directory, which was read
