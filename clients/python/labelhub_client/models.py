"""Typed views of the API's bodies: frozen dataclasses built with ``from_dict``.

Every model built from an answer keeps the whole body it came from in ``raw``
(fields this version of the client does not know included), so nothing the
server sends is lost. Timestamps become timezone-aware ``datetime`` objects.
A field a view does not carry (an agency reads less of a campaign than staff)
is ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

from .errors import LabelhubError

T = TypeVar("T")
M = TypeVar("M", bound="Model")

JOB_ENDED = frozenset({"succeeded", "failed"})


def _datetime(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp (``...Z``) as an aware datetime; Python 3.10's parser does not take ``Z``."""
    if value is None:
        return None
    return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)


def _optional(build: Callable[[Any], T], value: Any) -> T | None:
    return None if value is None else build(value)


@dataclass(frozen=True, kw_only=True)
class Model:
    """Base of the models read from answers: ``raw`` is the body as received."""

    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls: type[M], d: Mapping[str, Any]) -> M:
        """The model of ``d``, an answer's JSON object."""
        return cls._build(d)

    @classmethod
    def _build(cls: type[M], d: Mapping[str, Any], **converted: Any) -> M:
        """Every field from ``d`` by name (``None`` when absent), ``converted`` ones as given, ``raw=d``."""
        values = {f.name: d.get(f.name) for f in fields(cls) if f.name != "raw" and f.name not in converted}
        return cls(**{**values, **converted}, raw=d)


@dataclass(frozen=True, kw_only=True)
class Progress(Model):
    """Items done out of the total (labeled images of a campaign, files of a job)."""

    done: int
    total: int


@dataclass(frozen=True, kw_only=True)
class Job(Model):
    """The last background job of an image set (finish) or a campaign (export)."""

    status: str
    progress: Progress | None = None
    error: str | None = None
    date_queued: datetime | None = None
    date_started: datetime | None = None
    date_done: datetime | None = None
    attempts: int | None = None

    @classmethod
    def from_dict(cls: type[M], d: Mapping[str, Any]) -> M:
        return cls._build(d, **cls._converted(d))

    @classmethod
    def _converted(cls, d: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "progress": _optional(Progress.from_dict, d.get("progress")),
            "date_queued": _datetime(d.get("date_queued")),
            "date_started": _datetime(d.get("date_started")),
            "date_done": _datetime(d.get("date_done")),
        }

    @property
    def ended(self) -> bool:
        """Whether the job is over (``succeeded`` or ``failed``)."""
        return self.status in JOB_ENDED


@dataclass(frozen=True, kw_only=True)
class ImageSetJob(Job):
    """An image set's finish job: also the uploaded files that are not images, and why."""

    skipped: list[str] = field(default_factory=list)
    skipped_reasons: dict[str, str] = field(default_factory=dict)

    @classmethod
    def _converted(cls, d: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **super()._converted(d),
            "skipped": list(d.get("skipped") or []),
            "skipped_reasons": dict(d.get("skipped_reasons") or {}),
        }


@dataclass(frozen=True, kw_only=True)
class ImageSet(Model):
    """An image set: ``created`` while files are uploaded to its dropbox, then ``finished``."""

    imageset_id: int
    title: str
    status: str
    metadata: Any = None
    blobstorage_path: str | None = None
    date_created: datetime | None = None
    date_finished: datetime | None = None
    created_by: str | None = None
    job: ImageSetJob | None = None

    @classmethod
    def from_dict(cls: type[M], d: Mapping[str, Any]) -> M:
        return cls._build(
            d,
            date_created=_datetime(d.get("date_created")),
            date_finished=_datetime(d.get("date_finished")),
            job=_optional(ImageSetJob.from_dict, d.get("job")),
        )


@dataclass(frozen=True, kw_only=True)
class CreatedImageSet(ImageSet):
    """The answer to creating an image set: the set and the URL its files are uploaded to."""

    dropbox_url: str


@dataclass(frozen=True, kw_only=True)
class Image(Model):
    """An image as staff list it; ``file`` facts flattened (``None`` when unknown)."""

    image_id: int
    blobstorage_path: str
    imageset_id: int | None = None
    date_taken: datetime | None = None
    metadata: Any = None
    filetype: str | None = None
    filesize: int | None = None
    width: int | None = None
    height: int | None = None
    orientation: int | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Image:
        file = d.get("file") or {}
        dimensions = file.get("dimensions") or {}
        return cls._build(
            d,
            imageset_id=(d.get("imageset") or {}).get("imageset_id"),
            date_taken=_datetime(d.get("date_taken")),
            filetype=file.get("filetype"),
            filesize=file.get("filesize"),
            width=dimensions.get("width"),
            height=dimensions.get("height"),
        )

    @property
    def name(self) -> str:
        """The file name: the last part of ``blobstorage_path``."""
        return self.blobstorage_path.rsplit("/", 1)[-1]


@dataclass(frozen=True, kw_only=True)
class Label(Model):
    """One label of a campaign's label schema."""

    name: str
    colour: str | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class Campaign(Model):
    """A labeling campaign. Staff read every field; its agency only id, title, status, progress and labels."""

    campaign_id: int
    title: str
    status: str
    progress: Progress | None = None
    label_translations: dict[str, str] | None = None
    labels: list[Label] | None = None
    metadata: Any = None
    review_required: bool | None = None
    aql: float | None = None
    date_created: datetime | None = None
    date_started: datetime | None = None
    date_completed: datetime | None = None
    date_finished: datetime | None = None
    created_by: str | None = None
    job: Job | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Campaign:
        return cls._build(d, **_campaign_fields(d))


def _campaign_fields(d: Mapping[str, Any]) -> dict[str, Any]:
    labels = d.get("labels")
    return {
        "progress": _optional(Progress.from_dict, d.get("progress")),
        "labels": None if labels is None else [Label.from_dict(label) for label in labels],
        "date_created": _datetime(d.get("date_created")),
        "date_started": _datetime(d.get("date_started")),
        "date_completed": _datetime(d.get("date_completed")),
        "date_finished": _datetime(d.get("date_finished")),
        "job": _optional(Job.from_dict, d.get("job")),
    }


@dataclass(frozen=True, kw_only=True)
class AccessToken(Model):
    """The agency's key, handed out when a campaign is created.

    ``apisecret`` is shown this once (``None`` when the agency already had a key); it is left out of ``repr``.
    """

    apikey: str
    apisecret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class CreatedCampaign(Campaign):
    """The answer to creating a campaign: the campaign and its agency's key."""

    access_token: AccessToken

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CreatedCampaign:
        return cls._build(d, **_campaign_fields(d), access_token=AccessToken.from_dict(d["access_token"]))


@dataclass(frozen=True, kw_only=True)
class Review(Model):
    """The decision on an image's current revision (a rejection tells the agency why)."""

    decision: str
    reason: str = ""
    reason_code: str = ""
    date: datetime | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Review:
        return cls._build(
            d, reason=d.get("reason") or "", reason_code=d.get("reason_code") or "", date=_datetime(d.get("date"))
        )


@dataclass(frozen=True, kw_only=True)
class CampaignImage(Model):
    """An image of a campaign: ``url`` is relative to the API base (``/images/<id>``).

    ``width`` and ``height``: the file's size in pixels, the frame boxes are given in (``None`` when unknown).
    """

    image_id: int
    url: str
    labeled: bool = False
    review: Review | None = None
    width: int | None = None
    height: int | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CampaignImage:
        return cls._build(d, labeled=bool(d.get("labeled")), review=_optional(Review.from_dict, d.get("review")))


@dataclass(frozen=True, kw_only=True)
class BoundingBox(Model):
    """Pixels from the image's top left corner: ``xmin <= xmax``, ``ymin <= ymax``."""

    xmin: int
    xmax: int
    ymin: int
    ymax: int

    def to_dict(self) -> dict[str, int]:
        return {"xmin": self.xmin, "xmax": self.xmax, "ymin": self.ymin, "ymax": self.ymax}


@dataclass(frozen=True, kw_only=True)
class NewObject(Model):
    """An object found on an image, as submitted (``PUT /campaigns/{id}/objects``)."""

    label: str
    bounding_box: BoundingBox
    confidence: float | None = None
    label_translated: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NewObject:
        return cls._build(d, bounding_box=BoundingBox.from_dict(d["bounding_box"]))

    def to_dict(self) -> dict[str, Any]:
        """The request body of this object; optional fields left out when ``None``."""
        body: dict[str, Any] = {"label": self.label, "bounding_box": self.bounding_box.to_dict()}
        if self.confidence is not None:
            body["confidence"] = self.confidence
        if self.label_translated is not None:
            body["label_translated"] = self.label_translated
        return body


@dataclass(frozen=True, kw_only=True)
class ExportFile(Model):
    """A file a campaign's export wrote; ``url`` is a short-lived read URL (``None`` when none could be made)."""

    path: str
    size: int | None = None
    sha256: str | None = None
    url: str | None = None


@dataclass(frozen=True, kw_only=True)
class Export(Model):
    """A campaign's export: its job and the files it wrote."""

    campaign_id: int
    job: Job | None = None
    files: list[ExportFile] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Export:
        return cls._build(
            d,
            job=_optional(Job.from_dict, d.get("job")),
            files=[ExportFile.from_dict(f) for f in d.get("files") or []],
        )


@dataclass(frozen=True)
class FailedChunk:
    """One request of a bulk submission that stored nothing: its images and why."""

    image_ids: list[int]
    error: LabelhubError


@dataclass(frozen=True)
class SubmitReport:
    """What a bulk submission stored (image ids) and which requests failed (each stored nothing)."""

    stored: list[int] = field(default_factory=list)
    failed: list[FailedChunk] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every image was stored."""
        return not self.failed

    def raise_for_failures(self) -> None:
        """Raise the error of the first failed request, if any (``failed`` lists every one)."""
        if self.failed:
            raise self.failed[0].error
