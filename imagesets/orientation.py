"""EXIF orientation: how a file's pixels are turned for display, and a point of the file's frame in the shown one.

The stored ``width``/``height`` and every bounding box of the contract are in
the file's own pixel frame (the frame a decoder that ignores EXIF shows, and
the one the agencies' tools label in). A browser turns an image by its
orientation before showing it (CSS ``image-orientation: from-image``, the
default), so a box drawn over a shown image is first mapped with ``to_display``.

1 as stored · 2 mirrored left-right · 3 turned 180° · 4 mirrored top-bottom ·
5 transposed · 6 turned 90° clockwise · 7 transversed · 8 turned 90° anticlockwise.
"""

from __future__ import annotations

# Orientations whose display swaps width and height (they transpose).
SWAPS_SIDES = frozenset({5, 6, 7, 8})


def display_size(width: int | None, height: int | None, orientation: int | None) -> tuple[int | None, int | None]:
    """The size as shown: width and height swapped for orientations 5-8."""
    if orientation in SWAPS_SIDES:
        return height, width
    return width, height


# Each orientation as steps from the file's frame to the shown one: transpose (swap x and y), then mirror
# left-right, then mirror top-bottom (in the transposed frame).
_STEPS = {
    1: (False, False, False),
    2: (False, True, False),
    3: (False, True, True),
    4: (False, False, True),
    5: (True, False, False),
    6: (True, True, False),
    7: (True, True, True),
    8: (True, False, True),
}


def to_display(x: float, y: float, width: int, height: int, orientation: int | None) -> tuple[float, float]:
    """A point of the file's frame (``width``×``height``) in the displayed frame."""
    transpose, mirror_x, mirror_y = _STEPS.get(orientation, _STEPS[1])
    if transpose:
        x, y, width, height = y, x, height, width
    return (width - x if mirror_x else x), (height - y if mirror_y else y)


def box_to_display(
    xmin: float, ymin: float, xmax: float, ymax: float, width: int, height: int, orientation: int | None
) -> tuple[float, float, float, float]:
    """A box of the file's frame as ``(xmin, ymin, xmax, ymax)`` of the displayed frame."""
    x1, y1 = to_display(xmin, ymin, width, height, orientation)
    x2, y2 = to_display(xmax, ymax, width, height, orientation)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)
