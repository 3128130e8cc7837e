"""The export of a finished campaign: files in storage, then Azure ML data assets.

``campaign_export_run`` is the body of the background job (and of
``manage.py export_campaign``). It writes, all under
``<AZURE_STORAGE_IMAGESET_CONTAINER>/label_sets/``:

* ``<title>_labels.csv`` — the contract's labels CSV;
* ``<title>_automl/<title>_automl.jsonl`` and ``<title>_automl/MLTable`` —
  AutoML object detection training data (an MLTable is a folder holding a
  file named ``MLTable``, so each campaign gets its own folder);
* ``<title>_coco.json`` — the same labels as COCO;
* ``<title>_images/MLTable`` — the campaign's image files on the datastore.

and then, when all ``AZURE_ML_*`` settings are set, registers
``<title>_images`` (mltable), ``<title>_labels`` (uri_file) and
``<title>_automl`` (mltable). ``AZURE_ML_DATASTORE`` must be a datastore on
the image container: paths on it are the paths inside that container.

A rerun overwrites its own files with the same bytes and, through the content
hashes in the assets' tags, registers no duplicate versions.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from campaigns.export import formats
from campaigns.models import BoundingBox, Campaign, CampaignImage, CampaignJob
from labelhub import azureml
from labelhub.exceptions import Conflict, NotFound
from labelhub.jobs import job_run
from labelhub.storage import get_storage

logger = logging.getLogger(__name__)

# Files, then Azure ML: the job's progress counts these steps.
STEPS = ("labels_csv", "automl", "coco", "images_mltable", "azureml")
UNSIZED_LISTED = 100
# The kind of job registered in campaigns.apps.
EXPORT_JOB = "campaign_export"


@dataclass(frozen=True)
class ExportPaths:
    """Where the export of one campaign goes: storage paths ``<container>/<key>``."""

    container: str
    title: str

    @classmethod
    def for_campaign(cls, campaign: Campaign) -> ExportPaths:
        return cls(container=settings.AZURE_STORAGE_IMAGESET_CONTAINER, title=campaign.title)

    def key(self, name: str) -> str:
        return f"label_sets/{name}"

    def path(self, name: str) -> str:
        return f"{self.container}/{self.key(name)}"

    @property
    def labels_csv_name(self) -> str:
        return f"{self.title}_labels.csv"

    @property
    def automl_folder(self) -> str:
        return f"{self.title}_automl"

    @property
    def automl_jsonl_name(self) -> str:
        return f"{self.title}_automl.jsonl"

    @property
    def coco_name(self) -> str:
        return f"{self.title}_coco.json"

    @property
    def images_folder(self) -> str:
        return f"{self.title}_images"

    @property
    def labels_csv(self) -> str:
        return self.path(self.labels_csv_name)

    @property
    def automl_jsonl(self) -> str:
        return self.path(f"{self.automl_folder}/{self.automl_jsonl_name}")

    @property
    def automl_mltable(self) -> str:
        return self.path(f"{self.automl_folder}/MLTable")

    @property
    def coco_json(self) -> str:
        return self.path(self.coco_name)

    @property
    def images_mltable(self) -> str:
        return self.path(f"{self.images_folder}/MLTable")


def _write(storage, path: str, chunks: Iterable[str], *, content_type: str, written: list[dict]) -> dict:
    """Stream text chunks into storage as UTF-8, hashing on the way; appends the file's record to ``written``."""
    digest = hashlib.sha256()

    def hashed():
        for chunk in formats.encoded(chunks):
            digest.update(chunk)
            yield chunk

    size = storage.write(path, hashed(), content_type=content_type)
    record = {"path": path, "size": size, "sha256": digest.hexdigest()}
    written.append(record)
    logger.info("export wrote %s (%d bytes)", path, size)
    return record


def _register(campaign: Campaign, paths: ExportPaths, hashes: dict[str, str]) -> dict:
    if not azureml.azureml_configured():
        return {"status": "skipped", "reason": "Azure ML is not configured (AZURE_ML_* settings)"}
    tags = {"labelhub_campaign": campaign.title, "labelhub_campaign_id": str(campaign.pk)}
    specs = [
        azureml.DataAssetSpec(
            name=f"{campaign.title}_images",
            type="mltable",
            path=azureml.datastore_uri(paths.key(paths.images_folder) + "/"),
            content_hash=hashes["images_mltable"],
            description=f"The images of labelhub campaign {campaign.title}",
            tags=tags,
        ),
        azureml.DataAssetSpec(
            name=f"{campaign.title}_labels",
            type="uri_file",
            path=azureml.datastore_uri(paths.key(paths.labels_csv_name)),
            content_hash=hashes["labels_csv"],
            description=f"The labels CSV of labelhub campaign {campaign.title}",
            tags=tags,
        ),
        azureml.DataAssetSpec(
            name=f"{campaign.title}_automl",
            type="mltable",
            path=azureml.datastore_uri(paths.key(paths.automl_folder) + "/"),
            content_hash=hashes["automl"],
            description=f"AutoML object detection data of labelhub campaign {campaign.title}",
            tags=tags,
        ),
    ]
    assets = azureml.data_assets_register(specs)
    return {"status": "registered", "assets": [asset.as_dict() for asset in assets]}


def _counts(campaign: Campaign) -> dict:
    images = CampaignImage.objects.filter(campaign=campaign)
    return {
        "images": images.count(),
        "labeled_images": images.filter(labeled=True).count(),
        "objects": BoundingBox.objects.current().filter(campaign_image__campaign=campaign).count(),
    }


def _export(campaign: Campaign, job: CampaignJob, written: list[dict]) -> dict:
    storage = get_storage()
    paths = ExportPaths.for_campaign(campaign)
    datastore = settings.AZURE_ML_DATASTORE
    hashes: dict[str, str] = {}
    seconds: dict[str, float] = {}
    unsized = formats.SkippedImages(limit=UNSIZED_LISTED)

    def step(name: str, run) -> None:
        started = time.monotonic()
        run()
        seconds[name] = round(time.monotonic() - started, 3)
        job.set_progress(done=STEPS.index(name) + 1)

    def labels_csv():
        hashes["labels_csv"] = _write(
            storage,
            paths.labels_csv,
            formats.labels_csv_chunks(campaign_id=campaign.pk),
            content_type="text/csv; charset=utf-8",
            written=written,
        )["sha256"]

    def automl():
        jsonl = _write(
            storage,
            paths.automl_jsonl,
            formats.automl_jsonl_chunks(campaign_id=campaign.pk, datastore=datastore, unsized=unsized),
            content_type="application/jsonl; charset=utf-8",
            written=written,
        )
        mltable = _write(
            storage,
            paths.automl_mltable,
            [formats.automl_mltable(jsonl_name=paths.automl_jsonl_name)],
            content_type="application/yaml; charset=utf-8",
            written=written,
        )
        hashes["automl"] = hashlib.sha256(f"{jsonl['sha256']}\n{mltable['sha256']}".encode()).hexdigest()

    def coco():
        _write(
            storage,
            paths.coco_json,
            formats.coco_json_chunks(campaign_id=campaign.pk),
            content_type="application/json; charset=utf-8",
            written=written,
        )

    def images_mltable():
        hashes["images_mltable"] = _write(
            storage,
            paths.images_mltable,
            formats.images_mltable_chunks(campaign_id=campaign.pk, datastore=datastore),
            content_type="application/yaml; charset=utf-8",
            written=written,
        )["sha256"]

    registration: dict = {}

    def register():
        registration.update(_register(campaign, paths, hashes))

    for name, run in zip(STEPS, (labels_csv, automl, coco, images_mltable, register), strict=False):
        step(name, run)

    return {
        **_counts(campaign),
        "files": written,
        "unsized_images": unsized.as_dict(),
        "azureml": registration,
        "seconds": seconds,
    }


def campaign_export_run(*, campaign_id: int, force: bool = False, queued: bool = False) -> CampaignJob | None:
    """Export a finished campaign now, through the shared job lifecycle (``labelhub.jobs.job_run``).

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
            return _export(campaign, job, written)
        except Exception:
            job.result = {"files": written}
            raise

    return job_run(EXPORT_JOB, campaign.pk, body, force=not queued)
