"""The boxes drawn on the review page: colours, captions that read on them, where they go, what changed."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

from campaigns.matching import ADDED, KEPT, MOVED, RELABELED, REMOVED, match_boxes
from campaigns.models import BoundingBox
from imagesets.models import Image
from imagesets.orientation import box_to_display

# Saturated and distinct, so boxes stand out on photos; a label keeps its colour on every image and campaign.
PALETTE = (
    "#e6194b",
    "#3cb44b",
    "#ffe119",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#bfef45",
    "#469990",
    "#9a6324",
    "#800000",
    "#808000",
    "#000075",
)


def label_colour(label: str) -> str:
    return PALETTE[zlib.crc32(label.encode("utf-8")) % len(PALETTE)]


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#rrggbb``; WCAG relative luminance)."""
    channels = [int(background[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if luminance > 0.179 else "#ffffff"


@dataclass(frozen=True)
class Box:
    """A bounding box: its coordinates as sent (the file's pixel frame), where it is drawn, caption and colour.

    The contract's boxes are in the file's own pixel frame (the frame of
    ``file.dimensions``). A browser shows the image turned by its EXIF
    orientation, so ``shown`` is the box mapped into that displayed frame
    (``imagesets.orientation``); the page lists the coordinates as sent.
    """

    label: str
    label_original: str
    confidence: float | None
    xmin: int
    ymin: int
    xmax: int
    ymax: int
    colour: str
    shown: tuple[int, int, int, int]  # xmin, ymin, xmax, ymax as displayed
    change: str = ""  # compared with another revision: kept, moved, relabeled, removed or added

    @classmethod
    def of(cls, box: BoundingBox, image: Image) -> Box:
        corners = (box.xmin, box.ymin, box.xmax, box.ymax)
        if image.width and image.height and image.orientation:
            corners = box_to_display(*corners, image.width, image.height, image.orientation)
        return cls(
            box.label,
            box.label_original,
            box.confidence,
            box.xmin,
            box.ymin,
            box.xmax,
            box.ymax,
            label_colour(box.label),
            corners,
        )

    @property
    def x(self) -> int:
        return self.shown[0]

    @property
    def y(self) -> int:
        return self.shown[1]

    @property
    def width(self) -> int:
        return self.shown[2] - self.shown[0]

    @property
    def height(self) -> int:
        return self.shown[3] - self.shown[1]

    @property
    def caption(self) -> str:
        return self.label if self.confidence is None else f"{self.label} {self.confidence:.2f}"

    @property
    def caption_colour(self) -> str:
        return text_colour(self.colour)

    def at(self, size: tuple[int, int] | None) -> dict[str, float] | None:
        """Where the caption chip goes, in percent of the shown image (HTML over the SVG: legible at any scale)."""
        if not size:
            return None
        width, height = size
        return {"left": 100 * self.x / width, "top": 100 * self.y / height}


def compared(before: list[Box], after: list[Box]) -> tuple[list[Box], list[Box], dict[str, int]]:
    """The chosen revision's boxes marked by what changed, the previous revision's removed boxes, the counts."""
    marked = list(after)
    removed = []
    counts = {kind: 0 for kind in (KEPT, MOVED, RELABELED, ADDED, REMOVED)}
    for change in match_boxes(before, after):
        counts[change.kind] += 1
        if change.kind == REMOVED:
            removed.append(replace(before[change.before], change=REMOVED))
        else:
            marked[change.after] = replace(after[change.after], change=change.kind)
    return marked, removed, counts


def legend(boxes: list[Box]) -> list[dict]:
    """Each label once, with its colour and how many boxes carry it, by label."""
    legend: dict[str, dict] = {}
    for box in boxes:
        legend.setdefault(box.label, {"label": box.label, "colour": box.colour, "count": 0})["count"] += 1
    return sorted(legend.values(), key=lambda item: item["label"])
