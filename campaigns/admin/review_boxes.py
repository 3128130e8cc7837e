"""The boxes drawn on the review page: colours, captions that read on them, where they go, what changed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from campaigns.matching import ADDED, KEPT, MOVED, RELABELED, REMOVED, match_boxes
from campaigns.models import BoundingBox
from imagesets.models import Image
from imagesets.orientation import box_to_display

# Tableau 10, then the light tones of Tableau 20: colours designed to be told apart (by the colour-blind too),
# saturated enough to stand out on photos. A label without a colour in the campaign's schema takes the next one
# in the order of the schema, then of the campaign's labels: the same colour on every image of the campaign.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#a0cbe8",
    "#ffbe7d",
    "#ff9d9a",
    "#8cd17d",
    "#f1ce63",
    "#86bcb6",
    "#fabfd2",
    "#d4a6c8",
    "#d7b5a6",
    "#79706e",
)
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# From this many boxes on an image, captions are short (the label's abbreviation, no confidence).
CROWDED = 20


def label_colours(*, schema: list[dict] | None, labels: Iterable[str]) -> dict[str, str]:
    """The colour of each label: the schema's ``colour`` where it has one, else the palette's next colour.

    The palette is dealt in order: the schema's labels first (as listed), then ``labels`` (the campaign's labels,
    then any other shown, in the order given), skipping colours the schema gives explicitly; past the
    palette's end it starts again.
    """
    explicit = {
        item["name"]: item["colour"].lower()
        for item in schema or []
        if isinstance(item.get("colour"), str) and COLOUR.fullmatch(item["colour"])
    }
    free = [colour for colour in PALETTE if not any(_close(colour, taken) for taken in explicit.values())]
    free = free or list(PALETTE)
    colours: dict[str, str] = {}
    for label in [item["name"] for item in schema or []] + list(labels):
        if label in colours:
            continue
        colours[label] = explicit.get(label) or free[sum(1 for name in colours if name not in explicit) % len(free)]
    return colours


def _close(a: str, b: str) -> bool:
    """Whether two ``#rrggbb`` colours are hard to tell apart on a photo (near in RGB, weighted for the eye)."""
    channels = [(int(a[i : i + 2], 16) - int(b[i : i + 2], 16)) for i in (1, 3, 5)]
    return (2 * channels[0] ** 2 + 4 * channels[1] ** 2 + 3 * channels[2] ** 2) ** 0.5 < 110


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#rrggbb``; WCAG relative luminance)."""
    channels = [int(background[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if luminance > 0.179 else "#ffffff"


def _candidates(label: str) -> Iterable[str]:
    if len(label) <= 4:
        yield label
    words = [word for word in re.split(r"[\s_\-/.]+", label) if word]
    if len(words) > 1:
        yield "".join(word[0] for word in words).upper()  # "Fishing line" -> "FL"
        yield words[0][:2].capitalize() + "".join(word[0] for word in words[1:]).upper()
    for length in range(3, len(label)):
        yield label[:length]


def abbreviations(labels: Iterable[str]) -> dict[str, str]:
    """A short caption for each label, distinct from the others': initials of several words, else a prefix."""
    short: dict[str, str] = {}
    taken: set[str] = set()
    for label in labels:
        if label in short:
            continue
        choice = next((c for c in _candidates(label) if c not in taken and c not in short), label)
        short[label] = choice
        taken.add(choice)
    return short


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
    short: str = ""  # the label's abbreviation, for crowded images

    @classmethod
    def of(cls, box: BoundingBox, image: Image, *, colours: dict[str, str], short: dict[str, str]) -> Box:
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
            colours.get(box.label, PALETTE[0]),
            corners,
            short=short.get(box.label, box.label),
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
        """Where the box is, in percent of the shown image: its caption chip goes at its top left corner (HTML
        over the SVG: legible at any scale), and the page hides it when the box is too small on screen."""
        if not size:
            return None
        width, height = size
        return {
            "left": 100 * self.x / width,
            "top": 100 * self.y / height,
            "width": 100 * self.width / width,
            "height": 100 * self.height / height,
        }


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


def legend(boxes: list[Box], *, order: Iterable[str] = ()) -> list[dict]:
    """Each label once, with its colour, abbreviation and how many boxes carry it: in ``order`` (the schema's and
    the campaign's labels), then by label."""
    legend: dict[str, dict] = {}
    for box in boxes:
        item = {"label": box.label, "colour": box.colour, "short": box.short, "count": 0}
        legend.setdefault(box.label, item)["count"] += 1
    rank = {label: index for index, label in enumerate(order)}
    return sorted(legend.values(), key=lambda item: (rank.get(item["label"], len(rank)), item["label"]))
