"""Camera-sized test images (1-5 MB) that compress like photos: structure at every scale, sensor-like noise.

Made once per test process (``functools.cache``): a few seconds of Pillow in all.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO

from PIL import Image


def photo(width: int, height: int, *, seed: int = 0) -> Image.Image:
    """An RGB image of coarse blobs, finer detail and grain (each channel its own octaves of noise)."""
    channels = []
    for channel in range(3):
        layer = None
        for divisor, weight in ((64, 0.45), (16, 0.3), (4, 0.15), (1, 0.1)):
            small = (max(1, width // divisor), max(1, height // divisor))
            sigma = 50 + 5 * ((seed + channel) % 4)
            noise = Image.effect_noise(small, sigma).resize((width, height), Image.Resampling.BICUBIC)
            layer = noise if layer is None else Image.blend(layer, noise, weight / (weight + 0.5))
        channels.append(layer)
    return Image.merge("RGB", channels)


def encode(im: Image.Image, fmt: str, **options) -> bytes:
    out = BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


@cache
def camera_files() -> dict[str, bytes]:
    """Four files as cameras and phones write them, 1-5 MB each: name -> bytes."""
    turned = Image.Exif()
    turned[0x0112] = 6  # a phone held upright: stored landscape, shown portrait
    return {
        "camera.jpg": encode(photo(4000, 3000, seed=1), "JPEG", quality=90),
        "phone-upright.jpg": encode(photo(3264, 2448, seed=2), "JPEG", quality=90, exif=turned.tobytes()),
        "drone.jpg": encode(photo(2400, 1600, seed=3), "JPEG", quality=95),
        "screenshot.png": encode(photo(1200, 900, seed=4), "PNG"),
    }
