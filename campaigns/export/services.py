"""The export of a finished campaign: files in storage, then Azure ML data assets.

``campaign_export_run`` is the body of the background job (and of
``manage.py export_campaign``). It writes, all under
``<AZURE_STORAGE_IMAGESET_CONTAINER>/label_sets/``:

* ``<title>_labels.csv`` — the contract's labels CSV;
* ``<title>_automl/<title>_automl.jsonl`` and ``<title>_automl/MLTable`` —
  AutoML object detection training data (an MLTable is a folder holding a
  file named ``MLTable``, so each campaign gets its own folder);
* ``<title>_coco.json`` — the same labels as COCO;
* ``<title>_images/MLTable`` — the campaign's image files on the datastore;
* ``<title>_yolo.zip`` and ``<title>_voc.zip`` — YOLO and Pascal VOC labels
  (``campaigns/export/yolo.py``, ``voc.py``), when ``EXPORT_EXTRA_FORMATS``
  names them;
* ``<title>_predictions.jsonl`` — what the agency did with a model's
  predictions, per box (``campaigns/export/predictions.py``), when the
  campaign has predictions;
* ``<title>_consensus.json`` — COCO of the boxes this campaign's agency and
  that of the campaign it is compared with (``consensus_with``) both drew on
  their shared images, corners averaged (``campaigns/export/consensus.py``),
  when the campaign names one;

and then, when all ``AZURE_ML_*`` settings are set, registers
``<title>_images`` (mltable), ``<title>_labels`` (uri_file) and
``<title>_automl`` (mltable). ``AZURE_ML_DATASTORE`` must be a datastore on
the image container: paths on it are the paths inside that container.

A rerun overwrites its own files with the same bytes and, through the content
hashes in the assets' tags, registers no duplicate versions.

Fenced (``core.jobs``): progress after each step is a conditional UPDATE
of the job row, each chunk written checks that the heartbeat has not found
the job taken over, and Azure ML is called only after asking the database. A
run stalled until another took the job over stops there; the one write it
may finish is the file in flight, with the bytes the other run wrote.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Iterable
from functools import partial

from django.conf import settings

from campaigns.export import formats
from campaigns.export.consensus import consensus_coco_chunks
from campaigns.export.predictions import predictions_jsonl_chunks
from campaigns.export.voc import voc_zip_chunks
from campaigns.export.yolo import yolo_zip_chunks
from campaigns.models import BoundingBox, Campaign, CampaignImage, CampaignJob, Submission
from campaigns.scoring import figures
from core.exceptions import Conflict, NotFound
from core.jobs import job_run
from integrations import azureml
from integrations.storage import get_storage

logger = logging.getLogger(__name__)

# Files, then Azure ML: the job's progress counts these steps (each a method of ``_Export``).
STEPS = ("labels_csv", "automl", "coco", "images_mltable", "yolo", "voc", "predictions", "consensus", "azureml")
# The steps ``EXPORT_EXTRA_FORMATS`` may leave out.
EXTRA_FORMATS = ("yolo", "voc")
ZIP = "application/zip"
CSV = "text/csv; charset=utf-8"
JSONL = "application/jsonl; charset=utf-8"
JSON = "application/json; charset=utf-8"
YAML = "application/yaml; charset=utf-8"
UNSIZED_LISTED = 100
# The kind of job registered in campaigns.apps.
EXPORT_JOB = "campaign_export"


class ExportPaths:
    """Where the export of one campaign goes: storage paths ``<container>/label_sets/<title>...``."""

    def __init__(self, *, container: str, title: str):
        self.container = container
        self.title = title
        self.automl_jsonl_name = f"{title}_automl.jsonl"
        self.labels_csv = self.path(f"{title}_labels.csv")
        self.automl_jsonl = self.path(f"{title}_automl/{self.automl_jsonl_name}")
        self.automl_mltable = self.path(f"{title}_automl/MLTable")
        self.coco_json = self.path(f"{title}_coco.json")
        self.images_mltable = self.path(f"{title}_images/MLTable")
        self.yolo_zip = self.path(f"{title}_yolo.zip")
        self.voc_zip = self.path(f"{title}_voc.zip")
        self.predictions_jsonl = self.path(f"{title}_predictions.jsonl")
        self.consensus_json = self.path(f"{title}_consensus.json")

    @classmethod
    def for_campaign(cls, campaign: Campaign) -> ExportPaths:
        return cls(container=settings.AZURE_STORAGE_IMAGESET_CONTAINER, title=campaign.title)

    def key(self, name: str) -> str:
        """A file's or folder's key inside the container."""
        return f"label_sets/{name}"

    def path(self, name: str) -> str:
        return f"{self.container}/{self.key(name)}"


def _register(campaign: Campaign, paths: ExportPaths, hashes: dict[str, str]) -> dict:
    if not azureml.azureml_configured():
        return {"status": "skipped", "reason": "Azure ML is not configured (AZURE_ML_* settings)"}
    title = campaign.title
    tags = {"labelhub_campaign": title, "labelhub_campaign_id": str(campaign.pk)}
    # (asset, its type, the folder or file on the datastore, its content hash, what it holds)
    assets = [
        (f"{title}_images", "mltable", f"{title}_images/", hashes["images_mltable"], "The images"),
        (f"{title}_labels", "uri_file", f"{title}_labels.csv", hashes["labels_csv"], "The labels CSV"),
        (f"{title}_automl", "mltable", f"{title}_automl/", hashes["automl"], "AutoML object detection data"),
    ]
    specs = [
        azureml.DataAssetSpec(
            name=name,
            type=kind,
            path=azureml.datastore_uri(paths.key(where)),
            content_hash=content_hash,
            description=f"{what} of labelhub campaign {title}",
            tags=tags,
        )
        for name, kind, where, content_hash, what in assets
    ]
    registered = azureml.data_assets_register(specs)
    return {"status": "registered", "assets": [asset.as_dict() for asset in registered]}


def _counts(campaign: Campaign) -> dict:
    images = CampaignImage.objects.filter(campaign=campaign)
    return {
        "images": images.count(),
        "labeled_images": images.filter(labeled=True).count(),
        "objects": BoundingBox.objects.current().filter(campaign_image__campaign=campaign).count(),
    }


class _Export:
    """One run of the export: each step writes its files (recorded in ``written``, hashed) in turn."""

    def __init__(self, campaign: Campaign, job: CampaignJob, written: list[dict]):
        self.campaign = campaign
        self.job = job
        self.written = written
        self.storage = get_storage()
        self.paths = ExportPaths.for_campaign(campaign)
        self.datastore = settings.AZURE_ML_DATASTORE
        self.hashes: dict[str, str] = {}
        self.unsized = formats.SkippedImages(limit=UNSIZED_LISTED)
        self.registration: dict = {}
        self.extra_formats: dict[str, dict] = {}
        self.predictions_summary: dict = {"status": "skipped", "reason": "no predictions were loaded"}
        self.consensus_summary: dict = {"status": "skipped", "reason": "the campaign is compared with no other"}

    def _write(self, path: str, chunks: Iterable[str] | Iterable[bytes], content_type: str, *, binary=False) -> str:
        """Stream text chunks (or ``binary`` ones) into storage as UTF-8, hashing on the way; returns the SHA-256."""
        digest = hashlib.sha256()

        def hashed():
            for chunk in chunks if binary else formats.encoded(chunks):
                self.job.raise_if_fenced()  # taken over: the upload fails before it is committed
                digest.update(chunk)
                yield chunk

        size = self.storage.write(path, hashed(), content_type=content_type)
        self.written.append({"path": path, "size": size, "sha256": digest.hexdigest()})
        logger.info("export wrote %s (%d bytes)", path, size)
        return digest.hexdigest()

    def labels_csv(self) -> None:
        chunks = formats.labels_csv_chunks(campaign_id=self.campaign.pk)
        self.hashes["labels_csv"] = self._write(self.paths.labels_csv, chunks, CSV)

    def automl(self) -> None:
        chunks = formats.automl_jsonl_chunks(
            campaign_id=self.campaign.pk,
            datastore=self.datastore,
            unsized=self.unsized,
            review_required=self.campaign.review_required,
        )
        jsonl = self._write(self.paths.automl_jsonl, chunks, JSONL)
        mltable = self._write(
            self.paths.automl_mltable, [formats.automl_mltable(jsonl_name=self.paths.automl_jsonl_name)], YAML
        )
        self.hashes["automl"] = hashlib.sha256(f"{jsonl}\n{mltable}".encode()).hexdigest()

    def coco(self) -> None:
        chunks = formats.coco_json_chunks(campaign_id=self.campaign.pk, review_required=self.campaign.review_required)
        self._write(self.paths.coco_json, chunks, JSON)

    def images_mltable(self) -> None:
        chunks = formats.images_mltable_chunks(campaign_id=self.campaign.pk, datastore=self.datastore)
        self.hashes["images_mltable"] = self._write(self.paths.images_mltable, chunks, YAML)

    def _extra_format(self, name: str, path: str, make_chunks) -> bool:
        """Write one of ``EXTRA_FORMATS`` unless ``EXPORT_EXTRA_FORMATS`` leaves it out; whether it was written."""
        if name not in settings.EXPORT_EXTRA_FORMATS:
            self.extra_formats[name] = {"status": "skipped", "reason": "not in EXPORT_EXTRA_FORMATS"}
            return False
        self._write(path, make_chunks(), ZIP, binary=True)
        self.extra_formats[name] = {"status": "written", "path": path}
        return True

    def yolo(self) -> None:
        unsized = formats.SkippedImages(limit=UNSIZED_LISTED)
        chunks = partial(yolo_zip_chunks, campaign_id=self.campaign.pk, unsized=unsized)
        if self._extra_format("yolo", self.paths.yolo_zip, chunks):
            self.extra_formats["yolo"]["unsized_images"] = unsized.as_dict()

    def voc(self) -> None:
        self._extra_format("voc", self.paths.voc_zip, partial(voc_zip_chunks, campaign_id=self.campaign.pk))

    def predictions(self) -> None:
        if not BoundingBox.objects.filter(
            campaign_image__campaign=self.campaign, submission__source=Submission.Source.MODEL
        ).exists():
            return
        summary = Counter()
        chunks = predictions_jsonl_chunks(campaign_id=self.campaign.pk, summary=summary)
        self._write(self.paths.predictions_jsonl, chunks, JSONL)
        self.predictions_summary = {"status": "written", "path": self.paths.predictions_jsonl, **summary}

    def consensus(self) -> None:
        other_id = self.campaign.consensus_with_id
        if other_id is None:
            return
        summary = Counter()
        chunks = consensus_coco_chunks(campaign_id=self.campaign.pk, other_id=other_id, summary=summary)
        self._write(self.paths.consensus_json, chunks, JSON)
        pooled = figures(tp=summary["tp"], fp=summary["fp"], fn=summary["fn"])
        self.consensus_summary = {
            "status": "written",
            "path": self.paths.consensus_json,
            "with_campaign_id": other_id,
            "images": summary["images"],
            "boxes": summary["boxes"],
            "agreement_f1": round(pooled["f1"], 6) if summary["images"] else None,
        }

    def azureml(self) -> None:
        self.job.check_claim()  # another run registers them, if it has the job
        self.registration = _register(self.campaign, self.paths, self.hashes)

    def run(self) -> dict:
        """Every step in ``STEPS`` order, the job's progress counting them; the job's result."""
        seconds: dict[str, float] = {}
        for done, name in enumerate(STEPS, start=1):
            self.job.raise_if_fenced()
            started = time.monotonic()
            getattr(self, name)()
            seconds[name] = round(time.monotonic() - started, 3)
            self.job.set_progress(done=done)
        return {
            **_counts(self.campaign),
            "files": self.written,
            "unsized_images": self.unsized.as_dict(),
            "azureml": self.registration,
            "formats": self.extra_formats,
            "predictions": self.predictions_summary,
            "consensus": self.consensus_summary,
            "seconds": seconds,
        }


def campaign_export_run(*, campaign_id: int, force: bool = False, queued: bool = False) -> CampaignJob | None:
    """Export a finished campaign now, through the shared job lifecycle (``core.jobs.job_run``).

    Called directly (``manage.py export_campaign``, the admin) it runs the
    export again whatever the job's state, but not while a worker runs it
    unless ``force``. The queued task passes ``queued=True``: it runs the job
    it was queued for, and a duplicate delivery does nothing. ``NotFound``
    for an unknown campaign, ``Conflict`` when it is not finished. A failure
    of the export itself is stored on the job (``failed`` with the error, the
    files written so far in ``result``) and raised again; the campaign stays
    ``finished``. Returns the job, or ``None`` when there was nothing to run.
    """
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} not found")
    if campaign.status != Campaign.Status.FINISHED:
        raise Conflict(f"Campaign {campaign_id} is {campaign.status}; only a finished campaign is exported")
    job, _ = CampaignJob.objects.get_or_create(campaign=campaign)
    if not queued and job.status == CampaignJob.Status.RUNNING and not force and not job.is_stuck:
        raise Conflict(f"An export of campaign {campaign.pk} is already running")

    def body(job: CampaignJob) -> dict:
        job.set_progress(done=0, total=len(STEPS))
        written: list[dict] = []
        try:
            return _Export(campaign, job, written).run()
        except Exception:
            job.result = {"files": written}
            raise

    return job_run(EXPORT_JOB, campaign.pk, body, force=not queued)
