"""Small image files of every format the finish job must read, made with Pillow."""

from __future__ import annotations

import random
from io import BytesIO

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from imagesets.probe import HEADER_BYTES


def _image(width: int, height: int, mode: str = "RGB") -> Image.Image:
    im = Image.new(mode, (width, height))
    # A little structure so encoders produce real data, not a constant block.
    for x in range(0, width, 7):
        for y in range(0, height, 5):
            im.putpixel((x, y), (x * 3 % 256, y * 5 % 256, 128) if mode == "RGB" else (x + y) % 256)
    return im


def encode(im: Image.Image, fmt: str, **options) -> bytes:
    buffer = BytesIO()
    im.save(buffer, fmt, **options)
    return buffer.getvalue()


def png(width=40, height=30) -> bytes:
    return encode(_image(width, height), "PNG")


def jpeg(width=64, height=48) -> bytes:
    return encode(_image(width, height), "JPEG", quality=85)


def jpeg_progressive(width=72, height=40) -> bytes:
    return encode(_image(width, height), "JPEG", quality=85, progressive=True)


def jpeg_large_exif(width=50, height=70) -> bytes:
    """A JPEG whose header (EXIF + ICC profile before the frame) is longer than 64 KiB."""
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription: one EXIF segment of ~60 KB
    icc = b"\0" * 20_000  # spread over APP2 segments after it
    data = encode(_image(width, height), "JPEG", exif=exif.tobytes(), icc_profile=icc)
    assert data.index(b"\xff\xc0") > HEADER_BYTES, "the frame header must lie past the ranged read"
    return data


def noise_png(width=256, height=256) -> bytes:
    """A PNG larger than the ranged read (random pixels do not compress)."""
    im = Image.frombytes("RGB", (width, height), random.Random(42).randbytes(width * height * 3))
    data = encode(im, "PNG")
    assert len(data) > HEADER_BYTES
    return data


def gif(width=33, height=21) -> bytes:
    return encode(_image(width, height, "L").convert("P"), "GIF")


def webp(width=30, height=31) -> bytes:
    return encode(_image(width, height), "WEBP", quality=80)


def tiff(width=25, height=26) -> bytes:
    return encode(_image(width, height), "TIFF")


# name -> (bytes, expected (filetype, width, height) or None when skipped)
def dropbox_files() -> dict[str, tuple[bytes, tuple[str, int, int] | None]]:
    return {
        "car.png": (png(40, 30), ("PNG", 40, 30)),
        "baseline.jpg": (jpeg(64, 48), ("JPEG", 64, 48)),
        "progressive.jpeg": (jpeg_progressive(72, 40), ("JPEG", 72, 40)),
        "big exif.jpg": (jpeg_large_exif(50, 70), ("JPEG", 50, 70)),
        "noise.png": (noise_png(256, 256), ("PNG", 256, 256)),
        "anim.gif": (gif(33, 21), ("GIF", 33, 21)),
        "photo.webp": (webp(30, 31), ("WEBP", 30, 31)),
        "scan.tiff": (tiff(25, 26), ("TIFF", 25, 26)),
        "sub/straße café ü.png": (png(12, 13), ("PNG", 12, 13)),
        "notes.txt": (b"not an image\n" * 10, None),
        "empty.png": (b"", None),
    }


# --- files with EXIF facts: date taken, GPS position, orientation ---------------------------------------------

# 2024-03-14 10:20:30 at +02:00; 52°22'12.5" N, 4°53'0" W; turned 90° clockwise.
TAKEN_AT = "2024:03:14 10:20:30"
TAKEN_UTC = "2024-03-14T08:20:30Z"
LAT, LON = 52.3701389, -4.8833333


def exif_block(
    *,
    taken: str | None = TAKEN_AT,
    offset: str | None = "+02:00",
    lat=(52, 22, (125, 10)),
    lat_ref="N",
    lon=(4, 53, 0),
    lon_ref="W",
    orientation: int | None = 6,
    maker_note: bytes | None = None,
) -> Image.Exif:
    """An EXIF block as a camera writes it; ``None`` leaves a tag out, any value is written as given."""
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    if taken is not None:
        sub[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    if maker_note is not None:
        sub[ExifTags.Base.MakerNote] = maker_note
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    for tag, value in (
        (ExifTags.GPS.GPSLatitudeRef, lat_ref),
        (ExifTags.GPS.GPSLatitude, _rationals(lat)),
        (ExifTags.GPS.GPSLongitudeRef, lon_ref),
        (ExifTags.GPS.GPSLongitude, _rationals(lon)),
    ):
        if value is not None:
            gps[tag] = value
    return exif


def _rationals(dms):
    if dms is None or isinstance(dms, str):
        return dms
    return tuple(IFDRational(*part) if isinstance(part, tuple) else IFDRational(part) for part in dms)


def jpeg_with_exif(width=64, height=48, **exif) -> bytes:
    return encode(_image(width, height), "JPEG", quality=85, exif=exif_block(**exif).tobytes())


def tiff_with_exif(width=25, height=26, **exif) -> bytes:
    return encode(_image(width, height), "TIFF", exif=exif_block(**exif).tobytes())


def webp_with_exif(width=30, height=31, **exif) -> bytes:
    return encode(_image(width, height), "WEBP", quality=80, exif=exif_block(**exif).tobytes())


def png_with_exif(width=40, height=30, **exif) -> bytes:
    """A PNG with an ``eXIf`` chunk (before its pixel data, as Pillow writes it)."""
    data = encode(_image(width, height), "PNG", exif=exif_block(**exif).tobytes())
    assert data.index(b"eXIf") < data.index(b"IDAT")
    return data


def jpeg_with_large_maker_note(width=50, height=70) -> bytes:
    """A JPEG whose EXIF segment (a maker note fills it to the segment's limit) ends past the first 64 KiB."""
    data = jpeg_with_exif(width, height, maker_note=b"\x01" * 65_300)
    segment = data.index(b"\xff\xe1")
    end = segment + 2 + int.from_bytes(data[segment + 2 : segment + 4], "big")
    assert end > HEADER_BYTES, "the EXIF block must end past the ranged read"
    return data
