"""What both import formats share: the report of what matched, the refusal that carries it, the campaign's
images that file names are matched against, and the object parse every matched image goes through."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from campaigns.inputs import parse_object
from campaigns.models import CampaignImage
from core.exceptions import ApplicationError, Unprocessable
from integrations.storage.base import split_path

LISTED = 50


@dataclass
class ImportReport:
    """What an import matched, and what it could not (the first ``LISTED`` of each, and how many)."""

    images: int = 0
    objects: int = 0
    unmatched_files: list[str] = field(default_factory=list)
    unmatched_count: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def unmatched(self, name: str) -> None:
        self.unmatched_count += 1
        if len(self.unmatched_files) < LISTED:
            self.unmatched_files.append(name)

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < LISTED:
            self.problems.append(text)

    @property
    def ok(self) -> bool:
        return not self.unmatched_count and not self.problem_count

    def as_dict(self) -> dict:
        return {
            "images": self.images,
            "objects": self.objects,
            "unmatched_files": self.unmatched_files,
            "unmatched_count": self.unmatched_count,
            "problems": self.problems,
            "problem_count": self.problem_count,
        }

    def summary(self) -> str:
        parts = [f"{self.images} image(s), {self.objects} object(s) matched"]
        if self.unmatched_count:
            parts.append(f"{self.unmatched_count} file name(s) not in the campaign: {', '.join(self.unmatched_files)}")
        if self.problem_count:
            parts.append(f"{self.problem_count} problem(s): {'; '.join(self.problems)}")
        return "; ".join(parts)


class ImportRefused(Unprocessable):
    """The file does not fit the campaign; ``report`` says where. Nothing was stored."""

    def __init__(self, report: ImportReport):
        super().__init__(f"Nothing imported: {report.summary()}", extra={"report": report.as_dict()})
        self.report = report


@dataclass(frozen=True, slots=True)
class IndexedImage:
    """A campaign image as the index holds it: its id and its size, when known."""

    image_id: int
    width: int | None
    height: int | None


class CampaignImageIndex:
    """A campaign's images by path in container and by bare file name (``None`` when two share a name)."""

    def __init__(self, campaign_id: int):
        self.by_path: dict[str, IndexedImage] = {}
        self.by_name: dict[str, IndexedImage | None] = {}
        rows = (
            CampaignImage.objects.filter(campaign_id=campaign_id)
            .order_by("image_id")
            .values_list("image_id", "image__blobstorage_path", "image__width", "image__height")
        )
        for image_id, path, width, height in rows.iterator(chunk_size=5000):
            image = IndexedImage(image_id, width, height)
            in_container = split_path(path)[1]
            self.by_path[in_container] = image
            name = posixpath.basename(in_container)
            self.by_name[name] = None if name in self.by_name else image

    def find(self, file_name: str) -> IndexedImage | None:
        image = self.by_path.get(file_name.lstrip("/"))
        if image is None:
            image = self.by_name.get(posixpath.basename(file_name))
        return image


def to_pixel(value: Any) -> int | Any:
    """A coordinate rounded to a whole pixel; anything else is left for ``parse_object`` to refuse."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) < 2**53:
        return round(value)
    return value


def add_image_objects(
    image: IndexedImage, raw_objects: list[dict], report: ImportReport, objects_by_image: dict
) -> None:
    """Parse one image's objects as ``PUT .../objects`` does; a refusal becomes a problem of the report."""
    if len(raw_objects) > settings.OBJECTS_PER_IMAGE_MAX:
        report.problem(
            f"image {image.image_id}: {len(raw_objects)} objects, at most {settings.OBJECTS_PER_IMAGE_MAX} per image"
        )
        return
    parsed = []
    for index, raw in enumerate(raw_objects):
        try:
            parsed.append(parse_object(image.image_id, index, raw))
        except ApplicationError as exc:
            report.problem(exc.detail)
            return
    if image.image_id in objects_by_image:
        report.problem(f"image {image.image_id} is listed more than once")
        return
    objects_by_image[image.image_id] = parsed
    report.images += 1
    report.objects += len(parsed)


def all_numbers(values: Iterable) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def too_large_message() -> str:
    return f"The file is larger than the {settings.IMPORT_MAX_BYTES:,} bytes an import may have (IMPORT_MAX_BYTES)"
