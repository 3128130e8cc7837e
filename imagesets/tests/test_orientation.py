"""Mapping the file's pixel frame into the displayed one agrees with how Pillow turns an image by its orientation."""

from __future__ import annotations

import pytest
from PIL import Image, ImageOps

from imagesets.orientation import box_to_display, display_size, to_display


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_pixel_lands_where_exif_transpose_puts_it(orientation):
    width, height, x, y = 7, 4, 5, 1
    im = Image.new("L", (width, height))
    im.putpixel((x, y), 255)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.info["exif"] = exif.tobytes()

    shown = ImageOps.exif_transpose(im)

    assert shown.size == display_size(width, height, orientation)
    cx, cy = to_display(x + 0.5, y + 0.5, width, height, orientation)  # the pixel's centre
    assert shown.getpixel((int(cx - 0.5), int(cy - 0.5))) == 255


@pytest.mark.parametrize(
    ("orientation", "expected"),
    [
        (None, (20, 10, 50, 40)),
        (1, (20, 10, 50, 40)),
        (3, (150, 60, 180, 90)),
        (6, (60, 20, 90, 50)),
        (8, (10, 150, 40, 180)),
    ],
)
def test_a_box_keeps_its_corners_ordered_in_the_displayed_frame(orientation, expected):
    assert box_to_display(20, 10, 50, 40, 200, 100, orientation) == expected


def test_only_orientations_5_to_8_swap_the_sides():
    assert [display_size(640, 480, o) for o in (None, 1, 2, 3, 4)] == [(640, 480)] * 5
    assert [display_size(640, 480, o) for o in (5, 6, 7, 8)] == [(480, 640)] * 4
    assert display_size(None, None, 6) == (None, None)
