"""Making a derived copy with Pillow: a stored image's bytes in, a small upright JPEG out.

Bounded: a JPEG is decoded at a reduced scale (Pillow's draft mode: the DCT
scales by 1/2, 1/4 or 1/8 while decoding, so a 24-megapixel photo becomes a
160 px thumbnail from a 750×500 decode); every other format is decoded whole,
and nothing whose decode would exceed ``Image.MAX_IMAGE_PIXELS`` is decoded at
all (Pillow itself refuses a header declaring more than twice that). The copy
is turned by the image's EXIF orientation (so it shows upright without the
browser turning it), keeps the aspect ratio, is never enlarged, carries no
EXIF, and has any transparency flattened onto white.
"""

from __future__ import annotations

from io import BytesIO
from typing import BinaryIO

from PIL import Image

# Pillow's ``Image.transpose`` step for each EXIF orientation (as ``ImageOps.exif_transpose``, and
# the frames of ``imagesets.orientation``: the copy shows what a browser shows of the original).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# What may be carried over to the JPEG as it is (anything else is converted first).
_JPEG_MODES = ("RGB", "L")
_EXIF_ORIENTATION = 0x0112


class Unrenderable(Exception):
    """The stored bytes are not an image Pillow can decode within the bounds (says why)."""


def render_derived(source: BinaryIO, *, longest_side: int, orientation: int | None, quality: int) -> bytes:
    """The JPEG bytes of ``source`` scaled into a ``longest_side`` square, upright.

    ``orientation`` is the image row's (``Image.orientation``, what the review
    page maps boxes with); ``None`` (not known) falls back to the file's own
    EXIF tag. Raises ``Unrenderable`` for anything Pillow cannot decode.
    """
    try:
        with Image.open(source) as im:
            return _render(im, longest_side=longest_side, orientation=orientation, quality=quality)
    except Unrenderable:
        raise
    except Exception as exc:  # Pillow raises anything from OSError to SyntaxError on a damaged file
        raise Unrenderable(f"{type(exc).__name__}: {exc}") from exc


def _render(im: Image.Image, *, longest_side: int, orientation: int | None, quality: int) -> bytes:
    if orientation is None:
        orientation = _file_orientation(im)
    target = _fitted(im.size, longest_side)
    if im.format in ("JPEG", "MPO"):
        # libjpeg's scaled inverse DCT: the smallest 1/1, 1/2, 1/4 or 1/8 scale still at least the target.
        im.draft("RGB", target)
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and im.size[0] * im.size[1] > limit:
        raise Unrenderable(f"{im.size[0]}×{im.size[1]} pixels to decode, more than Image.MAX_IMAGE_PIXELS ({limit})")
    im.load()
    # A colour profile stays with pixels left as they were (an sRGB or P3 photo keeps its colours);
    # converted pixels (CMYK, transparency, 16 bits) would not match it.
    icc = im.info.get("icc_profile") if im.mode in _JPEG_MODES else None
    im = _flattened(im)
    if im.size != target:
        im = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if orientation in _TRANSPOSE:
        im = im.transpose(_TRANSPOSE[orientation])
    out = BytesIO()
    options = {"icc_profile": icc} if icc else {}
    im.save(out, "JPEG", quality=quality, optimize=True, progressive=max(im.size) > 400, **options)
    return out.getvalue()


def _fitted(size: tuple[int, int], longest_side: int) -> tuple[int, int]:
    """``size`` scaled so its longer side is ``longest_side`` at most (never enlarged)."""
    width, height = size
    scale = min(1.0, longest_side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _file_orientation(im: Image.Image) -> int | None:
    try:
        value = im.getexif().get(_EXIF_ORIENTATION)
    except Exception:  # a broken EXIF block: shown as stored, as the finish job reads it
        return None
    return value if isinstance(value, int) else None


def _flattened(im: Image.Image) -> Image.Image:
    """RGB or L, transparency composed onto white, 16-bit and float pixels scaled (not clipped) to 8 bits."""
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit greyscale (a PNG or TIFF from a scientific camera): 0..65535 onto 0..255.
        im = im.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif im.mode == "1":
        im = im.convert("L")
    if im.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        im = background
    elif im.mode not in _JPEG_MODES:
        im = im.convert("RGB")  # CMYK, YCbCr, LAB, HSV, F, ...
    return im
