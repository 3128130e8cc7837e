"""The export job: file contents, both storage backends, Azure ML registration, failures and retries."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys

import pytest
import yaml

from campaigns.export import formats
from campaigns.export.services import STEPS, ExportPaths, campaign_export_run
from campaigns.models import Campaign, CampaignImage, CampaignJob, ReviewState
from campaigns.tasks import campaign_export_run as export_task
from campaigns.tests import fake_azureml
from campaigns.tests.export_data import EXPECTED_CSV, label_image, make_exportable_campaign, obj
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory
from core.exceptions import Conflict, NotFound
from imagesets.tests.factories import ImageFactory
from integrations import azureml
from integrations.storage import StorageError, get_storage

pytestmark = pytest.mark.django_db


def read(storage, path: str) -> str:
    with storage.open(path) as stream:
        return stream.read().decode("utf-8")


def csv_text(campaign) -> str:
    return "".join(formats.labels_csv_chunks(campaign_id=campaign.pk))


@pytest.fixture
def ml_workspace(settings, monkeypatch):
    """Azure ML configured, the real SDK talking HTTP to an in-process fake workspace."""
    settings.AZURE_ML_SUBSCRIPTION_ID = fake_azureml.SUBSCRIPTION
    settings.AZURE_ML_RESOURCE_GROUP = fake_azureml.RESOURCE_GROUP
    settings.AZURE_ML_WORKSPACE_NAME = fake_azureml.WORKSPACE
    settings.AZURE_ML_DATASTORE = fake_azureml.DATASTORE
    adapter = fake_azureml.FakeAzureML()
    monkeypatch.setattr(azureml, "client_options", lambda: fake_azureml.fake_client_options(adapter))
    yield adapter
    assert adapter.unexpected == [], "the SDK made requests the fake does not play"


@pytest.fixture
def no_azureml(settings):
    for name in azureml.SETTINGS:
        setattr(settings, name, "")


# --- the labels CSV -----------------------------------------------------------------


def test_labels_csv_matches_the_hand_computed_file():
    campaign, _ = make_exportable_campaign()

    assert csv_text(campaign) == EXPECTED_CSV


def test_labels_csv_rows_follow_image_ids_and_the_labelers_object_order():
    campaign, images = make_exportable_campaign()

    rows = list(csv.DictReader(io.StringIO(csv_text(campaign))))

    assert [r["image_url"] for r in rows] == [
        images[k].path_in_container for k in sorted(images, key=lambda k: images[k].pk)
    ]
    first = rows[0]
    assert [box["label"] for box in json.loads(first["label"])] == ["Plastic", "Glass"]
    assert json.loads(first["label_confidence"]) == [0.9, None]


def test_labels_csv_has_empty_lists_for_an_image_labeled_empty_and_an_unlabeled_image():
    campaign, images = make_exportable_campaign()

    rows = {r["image_url"]: r for r in csv.DictReader(io.StringIO(csv_text(campaign)))}

    for key in ("b", "c"):
        row = rows[images[key].path_in_container]
        assert (json.loads(row["label"]), json.loads(row["label_confidence"])) == ([], [])


def test_labels_csv_exports_only_the_current_revision_with_its_translated_label():
    campaign, images = make_exportable_campaign()

    row = {r["image_url"]: r for r in csv.DictReader(io.StringIO(csv_text(campaign)))}["uploads/set-b/d.png"]

    assert json.loads(row["label"]) == [{"label": "PET", "topX": 0.1, "topY": 0.1, "bottomX": 0.2, "bottomY": 0.3}]
    assert "Old" not in csv_text(campaign) and "Other" not in csv_text(campaign)


def test_labels_csv_keeps_objects_of_an_image_of_unknown_size_with_null_coordinates():
    campaign = CampaignFactory(title="unsized")
    image = ImageFactory(blobstorage_path="images/x/unsized.png", width=None, height=None)
    label_image(CampaignImageFactory(campaign=campaign, image=image), [obj("Can", 0.3, 1, 2, 3, 4)])

    rows = list(csv.DictReader(io.StringIO(csv_text(campaign))))

    assert json.loads(rows[0]["label"]) == [
        {"label": "Can", "topX": None, "topY": None, "bottomX": None, "bottomY": None}
    ]
    assert json.loads(rows[0]["label_confidence"]) == [0.3]


def test_labels_csv_keeps_quotes_commas_and_non_ascii_labels_intact():
    campaign = CampaignFactory(title="quotes")
    image = ImageFactory(blobstorage_path="images/x/q.png", width=10, height=10)
    label = 'Blik, "groot" — ü'
    label_image(CampaignImageFactory(campaign=campaign, image=image), [obj(label, 1.0, 0, 0, 5, 5)])

    row = next(csv.DictReader(io.StringIO(csv_text(campaign))))

    assert json.loads(row["label"])[0]["label"] == label


def test_hand_written_box_json_is_what_json_dumps_writes():
    import random

    from campaigns.export.selectors import ExportImage, ExportObject

    rng = random.Random(7)
    labels = ["Plastic", 'a "quoted", label', "ü ß \\ / \t", "\u2028", ""]
    for _ in range(300):
        width = rng.choice([None, 0, 1, 3, 7, 1920, 4000])
        height = rng.choice([None, 0, 1, 3, 1080, 2999])
        objects = [
            ExportObject(
                rng.choice(labels),
                rng.choice([None, 0.0, 1.0, rng.random()]),
                *(rng.randrange(0, 5000) for _ in range(4)),
            )
            for _ in range(rng.randrange(0, 4))
        ]
        image = ExportImage(1, "images/x.png", "PNG", width, height, True, objects)

        def fraction(value, side):
            return value / side if side else None

        expected = [
            {
                "label": o.label,
                "topX": fraction(o.xmin, width),
                "topY": fraction(o.ymin, height),
                "bottomX": fraction(o.xmax, width),
                "bottomY": fraction(o.ymax, height),
            }
            for o in objects
        ]
        assert formats.boxes_json(image) == json.dumps(expected, ensure_ascii=False)
        assert formats.confidences_json(image) == json.dumps([o.confidence for o in objects])


def test_labels_csv_comes_in_bounded_chunks(monkeypatch):
    monkeypatch.setattr(formats, "CHUNK_CHARS", 200)
    campaign = CampaignFactory(title="chunks")
    for n in range(12):
        image = ImageFactory(blobstorage_path=f"images/c/{n:03}.png", width=100, height=100)
        label_image(CampaignImageFactory(campaign=campaign, image=image), [obj("Can", 0.5, 1, 1, 50, 50)])

    chunks = list(formats.labels_csv_chunks(campaign_id=campaign.pk))

    assert len(chunks) > 3
    assert all(len(chunk) < 200 + 200 for chunk in chunks)  # one row past the threshold at most
    assert "".join(chunks).count("\n") == 13


def test_labels_csv_reads_the_campaign_in_one_query(django_assert_num_queries):
    campaign, _ = make_exportable_campaign()

    with django_assert_num_queries(1):
        csv_text(campaign)


# --- the AutoML JSONL, COCO and MLTables ----------------------------------------------


def test_automl_jsonl_has_one_line_per_labeled_image_with_datastore_urls():
    campaign, _ = make_exportable_campaign()

    lines = [
        json.loads(line)
        for line in "".join(formats.automl_jsonl_chunks(campaign_id=campaign.pk, datastore="imgstore")).splitlines()
    ]

    assert lines == [
        {
            "image_url": "azureml://datastores/imgstore/paths/uploads/set-a/a.png",
            "image_details": {"format": "png", "width": 200, "height": 100},
            "label": [
                {"label": "Plastic", "topX": 0.1, "topY": 0.1, "bottomX": 0.25, "bottomY": 0.4, "isCrowd": 0},
                {"label": "Glass", "topX": 0.5, "topY": 0.0, "bottomX": 1.0, "bottomY": 1.0, "isCrowd": 0},
            ],
        },
        {
            "image_url": "azureml://datastores/imgstore/paths/uploads/set-a/b.JPG",
            "image_details": {"format": "jpg", "width": 400, "height": 300},
            "label": [],
        },
        {
            "image_url": "azureml://datastores/imgstore/paths/uploads/set-b/d.png",
            "image_details": {"format": "png", "width": 300, "height": 150},
            "label": [{"label": "PET", "topX": 0.1, "topY": 0.1, "bottomX": 0.2, "bottomY": 0.3, "isCrowd": 0}],
        },
    ]


def test_automl_jsonl_leaves_out_and_counts_images_of_unknown_size():
    campaign = CampaignFactory(title="unsized")
    image = ImageFactory(blobstorage_path="images/x/unsized.png", width=None, height=None)
    label_image(CampaignImageFactory(campaign=campaign, image=image), [obj("Can", 0.3, 1, 2, 3, 4)])
    skipped = formats.SkippedImages()

    text = "".join(formats.automl_jsonl_chunks(campaign_id=campaign.pk, datastore="ds", unsized=skipped))

    assert text == ""
    assert skipped.as_dict() == {"count": 1, "image_ids": [image.pk]}


def test_automl_mltable_reads_the_jsonl_with_image_url_as_stream():
    from azure.ai.ml.entities._data.mltable_metadata import MLTableMetadata

    document = yaml.safe_load(formats.automl_mltable(jsonl_name="beach_automl.jsonl"))

    assert document["type"] == "mltable"
    assert document["paths"] == [{"file": "./beach_automl.jsonl"}]
    assert document["transformations"] == [
        {"read_json_lines": {"encoding": "utf8", "invalid_lines": "error", "include_path_column": False}},
        {"convert_column_types": [{"columns": "image_url", "column_type": "stream_info"}]},
    ]
    assert MLTableMetadata._load(document, None).referenced_uris() == ["./beach_automl.jsonl"]


def test_images_mltable_lists_exactly_the_campaign_images_on_the_datastore():
    from azure.ai.ml.entities._data.mltable_metadata import MLTableMetadata

    campaign, _ = make_exportable_campaign()

    document = yaml.safe_load("".join(formats.images_mltable_chunks(campaign_id=campaign.pk, datastore="imgstore")))

    assert MLTableMetadata._load(document, None).referenced_uris() == [
        "azureml://datastores/imgstore/paths/uploads/set-a/a.png",
        "azureml://datastores/imgstore/paths/uploads/set-a/b.JPG",
        "azureml://datastores/imgstore/paths/uploads/set-a/c.png",
        "azureml://datastores/imgstore/paths/uploads/set-b/d.png",
    ]


def test_images_mltable_quotes_file_names_that_yaml_would_misread():
    campaign = CampaignFactory(title="odd-names")
    names = ["images/x/#1: a, b.png", "images/x/'quoted' \"name\".png", "images/x/ü ß.png"]
    for name in names:
        CampaignImageFactory(campaign=campaign, image=ImageFactory(blobstorage_path=name))

    document = yaml.safe_load("".join(formats.images_mltable_chunks(campaign_id=campaign.pk, datastore="ds")))

    assert [p["file"] for p in document["paths"]] == [
        f"azureml://datastores/ds/paths/{name.split('/', 1)[1]}" for name in names
    ]


def test_coco_json_holds_labeled_images_pixel_boxes_and_sorted_categories():
    campaign, images = make_exportable_campaign()

    coco = json.loads("".join(formats.coco_json_chunks(campaign_id=campaign.pk)))

    assert coco["categories"] == [
        {"id": 1, "name": "Glass", "supercategory": ""},
        {"id": 2, "name": "PET", "supercategory": ""},
        {"id": 3, "name": "Plastic", "supercategory": ""},
    ]
    assert coco["images"] == [
        {"id": images["a"].pk, "file_name": "uploads/set-a/a.png", "width": 200, "height": 100},
        {"id": images["b"].pk, "file_name": "uploads/set-a/b.JPG", "width": 400, "height": 300},
        {"id": images["d"].pk, "file_name": "uploads/set-b/d.png", "width": 300, "height": 150},
    ]
    boxes = [(a["image_id"], a["category_id"], a["bbox"], a["area"], a["score"]) for a in coco["annotations"]]
    assert boxes == [
        (images["a"].pk, 3, [20, 10, 30, 30], 900, 0.9),
        (images["a"].pk, 1, [100, 0, 100, 100], 10000, None),
        (images["d"].pk, 2, [30, 15, 30, 30], 900, 0.56),
    ]
    assert len({a["id"] for a in coco["annotations"]}) == 3
    assert all(a["iscrowd"] == 0 for a in coco["annotations"])


# --- the job: files in storage ----------------------------------------------------------


def test_export_writes_every_file_to_storage(any_storage, no_azureml, settings):
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign)
    paths = ExportPaths.for_campaign(campaign)

    job = campaign_export_run(campaign_id=campaign.pk)

    container = settings.AZURE_STORAGE_IMAGESET_CONTAINER
    assert paths.labels_csv == f"{container}/label_sets/beach-2024_labels.csv"
    assert read(any_storage, paths.labels_csv) == EXPECTED_CSV
    jsonl = read(any_storage, f"{container}/label_sets/beach-2024_automl/beach-2024_automl.jsonl")
    assert [json.loads(line)["image_url"] for line in jsonl.splitlines()] == [
        "uploads/set-a/a.png",
        "uploads/set-a/b.JPG",
        "uploads/set-b/d.png",  # no datastore configured
    ]
    mltable = yaml.safe_load(read(any_storage, f"{container}/label_sets/beach-2024_automl/MLTable"))
    assert mltable["paths"] == [{"file": "./beach-2024_automl.jsonl"}]
    coco = json.loads(read(any_storage, f"{container}/label_sets/beach-2024_coco.json"))
    assert len(coco["annotations"]) == 3
    images = yaml.safe_load(read(any_storage, f"{container}/label_sets/beach-2024_images/MLTable"))
    assert len(images["paths"]) == 4

    assert job.status == CampaignJob.Status.SUCCEEDED
    assert [f["path"] for f in job.result["files"]] == [
        paths.labels_csv,
        paths.automl_jsonl,
        paths.automl_mltable,
        paths.coco_json,
        paths.images_mltable,
        paths.yolo_zip,
        paths.voc_zip,
    ]
    assert job.result["files"][0]["size"] == len(EXPECTED_CSV.encode())
    assert all(any_storage.size(f["path"]) == f["size"] for f in job.result["files"])


def test_export_without_azure_ml_settings_records_the_step_as_skipped(local_storage, no_azureml):
    campaign, _ = make_exportable_campaign()

    job = campaign_export_run(campaign_id=campaign.pk)

    job.refresh_from_db()
    assert job.status == CampaignJob.Status.SUCCEEDED
    assert job.result["azureml"]["status"] == "skipped"
    assert (job.result["images"], job.result["labeled_images"], job.result["objects"]) == (4, 3, 3)
    assert (job.done, job.total) == (len(STEPS), len(STEPS))
    assert job.as_contract()["error"] is None


def test_export_is_started_by_finishing_the_campaign(
    admin_client, local_storage, no_azureml, django_capture_on_commit_callbacks
):
    campaign, _ = make_exportable_campaign(status=Campaign.Status.COMPLETED)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.put(f"/api/v1/campaigns/{campaign.pk}", {"new_status": "finished"}, format="json")

    assert response.status_code == 200
    job = CampaignJob.objects.get(campaign=campaign)
    assert job.status == CampaignJob.Status.SUCCEEDED
    assert read(local_storage, ExportPaths.for_campaign(campaign).labels_csv) == EXPECTED_CSV


def test_export_refuses_a_campaign_that_is_not_finished(local_storage):
    campaign, _ = make_exportable_campaign(status=Campaign.Status.COMPLETED)

    with pytest.raises(Conflict):
        campaign_export_run(campaign_id=campaign.pk)

    assert not CampaignJob.objects.filter(campaign=campaign).exists()
    assert not local_storage.exists(ExportPaths.for_campaign(campaign).labels_csv)


def test_export_of_an_unknown_campaign_is_not_found():
    with pytest.raises(NotFound):
        campaign_export_run(campaign_id=987654)


def test_an_export_already_running_is_not_started_twice(local_storage, no_azureml):
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign, status=CampaignJob.Status.RUNNING)

    with pytest.raises(Conflict):
        campaign_export_run(campaign_id=campaign.pk)
    assert not local_storage.exists(ExportPaths.for_campaign(campaign).labels_csv)

    job = campaign_export_run(campaign_id=campaign.pk, force=True)
    assert job.status == CampaignJob.Status.SUCCEEDED


# --- failures ------------------------------------------------------------------------------


class BreaksHalfWay:
    """The real storage, except that writing ``broken_path`` fails after its first chunk."""

    def __init__(self, storage, broken_path: str):
        self.storage = storage
        self.broken_path = broken_path

    def write(self, path, chunks, *, content_type=None):
        if path != self.broken_path:
            return self.storage.write(path, chunks, content_type=content_type)

        def failing():
            iterator = iter(chunks)
            yield next(iterator)
            raise StorageError("connection to storage lost")

        return self.storage.write(path, failing(), content_type=content_type)

    def __getattr__(self, name):
        return getattr(self.storage, name)


def test_a_storage_failure_half_way_fails_the_job_and_keeps_the_campaign_finished(any_storage, no_azureml, monkeypatch):
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign)
    paths = ExportPaths.for_campaign(campaign)
    broken = BreaksHalfWay(any_storage, paths.automl_jsonl)
    monkeypatch.setattr("campaigns.export.services.get_storage", lambda: broken)

    with pytest.raises(StorageError):
        export_task(campaign.pk)

    job = CampaignJob.objects.get(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FINISHED
    assert job.status == CampaignJob.Status.FAILED
    assert "connection to storage lost" in job.as_contract()["error"]
    assert job.date_done is not None
    assert (job.done, job.total) == (1, len(STEPS))
    assert [f["path"] for f in job.result["files"]] == [paths.labels_csv]
    assert not any_storage.exists(paths.automl_jsonl)  # never half a file

    monkeypatch.undo()
    retried = campaign_export_run(campaign_id=campaign.pk)
    assert retried.status == CampaignJob.Status.SUCCEEDED
    assert retried.attempts == 1  # a rerun starts a fresh count
    assert read(get_storage(), paths.labels_csv) == EXPECTED_CSV


def test_storage_that_cannot_be_reached_fails_the_job(settings, no_azureml):
    # A port nothing listens on: the Azure backend's own error, not a hang.
    from testing.azurite import connection_string, free_port

    settings.STORAGE_BACKEND = "azure"
    settings.AZURE_STORAGE_CONNECTION_STRING = connection_string("127.0.0.1", free_port())
    settings.AZURE_STORAGE_RETRIES = 0
    campaign, _ = make_exportable_campaign()

    with pytest.raises(StorageError):
        export_task(campaign.pk)

    job = CampaignJob.objects.get(campaign=campaign)
    assert job.status == CampaignJob.Status.FAILED
    assert job.error.startswith("StorageError") or "Storage" in job.error
    assert job.result["files"] == []


# --- Azure ML ------------------------------------------------------------------------------


def _put_bodies(adapter) -> dict[str, dict]:
    return {r.path.split("/data/", 1)[1]: r.body for r in adapter.puts}


def test_export_registers_the_three_data_assets_through_azure_ml(local_storage, ml_workspace):
    campaign, _ = make_exportable_campaign()

    job = campaign_export_run(campaign_id=campaign.pk)

    files = {f["path"].rsplit("/", 1)[1]: f["sha256"] for f in job.result["files"]}
    ds = f"azureml://datastores/{fake_azureml.DATASTORE}/paths/label_sets"
    tags = {"labelhub_campaign": "beach-2024", "labelhub_campaign_id": str(campaign.pk)}
    automl_hash = hashlib.sha256(
        f"{files['beach-2024_automl.jsonl']}\n{job.result['files'][2]['sha256']}".encode()
    ).hexdigest()
    assert [(r.method, r.path) for r in ml_workspace.puts] == [
        ("PUT", f"{fake_azureml.WORKSPACE_PATH}/data/beach-2024_images/versions/1"),
        ("PUT", f"{fake_azureml.WORKSPACE_PATH}/data/beach-2024_labels/versions/1"),
        ("PUT", f"{fake_azureml.WORKSPACE_PATH}/data/beach-2024_automl/versions/1"),
    ]
    assert all(r.query["api-version"] for r in ml_workspace.puts)
    common = {"isAnonymous": False, "isArchived": False, "properties": {}}
    assert _put_bodies(ml_workspace) == {
        "beach-2024_images/versions/1": {
            "properties": {
                **common,
                "description": "The images of labelhub campaign beach-2024",
                "dataType": "mltable",
                "dataUri": f"{ds}/beach-2024_images/",
                "tags": {**tags, "labelhub_sha256": job.result["files"][4]["sha256"]},
            }
        },
        "beach-2024_labels/versions/1": {
            "properties": {
                **common,
                "description": "The labels CSV of labelhub campaign beach-2024",
                "dataType": "uri_file",
                "dataUri": f"{ds}/beach-2024_labels.csv",
                "tags": {**tags, "labelhub_sha256": files["beach-2024_labels.csv"]},
            }
        },
        "beach-2024_automl/versions/1": {
            "properties": {
                **common,
                "description": "AutoML object detection data of labelhub campaign beach-2024",
                "dataType": "mltable",
                "dataUri": f"{ds}/beach-2024_automl/",
                "tags": {**tags, "labelhub_sha256": automl_hash},
            }
        },
    }
    assert all(r.headers["Authorization"] == "Bearer fake-token" for r in ml_workspace.requests)
    assert job.result["azureml"] == {
        "status": "registered",
        "assets": [
            {"name": "beach-2024_images", "version": "1", "created": True},
            {"name": "beach-2024_labels", "version": "1", "created": True},
            {"name": "beach-2024_automl", "version": "1", "created": True},
        ],
    }
    jsonl = read(local_storage, ExportPaths.for_campaign(campaign).automl_jsonl)
    assert json.loads(jsonl.splitlines()[0])["image_url"] == (
        f"azureml://datastores/{fake_azureml.DATASTORE}/paths/uploads/set-a/a.png"
    )


def test_a_rerun_writes_the_same_files_and_registers_no_new_version(local_storage, ml_workspace):
    campaign, _ = make_exportable_campaign()
    first = campaign_export_run(campaign_id=campaign.pk).result
    puts = len(ml_workspace.puts)

    second = campaign_export_run(campaign_id=campaign.pk).result

    assert second["files"] == first["files"]
    assert len(ml_workspace.puts) == puts == 3
    assert [a["version"] for a in second["azureml"]["assets"]] == ["1", "1", "1"]
    assert not any(a["created"] for a in second["azureml"]["assets"])


def test_changed_labels_register_a_new_version_after_the_latest(local_storage, ml_workspace):
    campaign, images = make_exportable_campaign()
    ml_workspace.seed_version(
        "beach-2024_labels",
        "7",
        data_uri="azureml://datastores/x/paths/old.csv",
        tags={"labelhub_sha256": "an-older-content"},
    )
    ml_workspace.seed_version("beach-2024_labels", "2", data_uri="azureml://datastores/x/paths/older.csv")
    campaign_export_run(campaign_id=campaign.pk)
    label_image(campaign.campaign_images.get(image=images["c"]), [obj("Can", 0.7, 0, 0, 100, 100)])

    result = campaign_export_run(campaign_id=campaign.pk).result

    versions = {a["name"]: (a["version"], a["created"]) for a in result["azureml"]["assets"]}
    assert versions == {
        "beach-2024_images": ("1", False),  # the same images: no new version
        "beach-2024_labels": ("9", True),  # 7 was the latest; the first run made 8
        "beach-2024_automl": ("2", True),
    }
    assert [r.path.rsplit("/data/", 1)[1] for r in ml_workspace.puts] == [
        "beach-2024_images/versions/1",
        "beach-2024_labels/versions/8",
        "beach-2024_automl/versions/1",
        "beach-2024_labels/versions/9",
        "beach-2024_automl/versions/2",
    ]


def test_an_azure_ml_failure_fails_the_job_and_a_retry_registers_what_is_missing(local_storage, ml_workspace):
    campaign, _ = make_exportable_campaign()
    ml_workspace.fail_puts = True

    with pytest.raises(azureml.AzureMLError):
        export_task(campaign.pk)

    job = CampaignJob.objects.get(campaign=campaign)
    assert job.status == CampaignJob.Status.FAILED
    assert "InternalServerError" in job.error
    assert len(job.result["files"]) == 7  # the files are written before registering
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.FINISHED

    ml_workspace.fail_puts = False
    job = campaign_export_run(campaign_id=campaign.pk)

    assert job.status == CampaignJob.Status.SUCCEEDED
    assert sorted(ml_workspace.versions) == ["beach-2024_automl", "beach-2024_images", "beach-2024_labels"]
    assert all(list(v) == ["1"] for v in ml_workspace.versions.values())


def test_azure_ml_is_imported_only_when_an_export_registers():
    code = (
        "import sys, django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'labelhub.settings');"
        "django.setup(); import labelhub.urls, campaigns.tasks, campaigns.export.services;"
        "print('azure.ai.ml' in sys.modules, 'azure.identity' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "False False"


def test_an_export_of_a_campaign_that_requires_review_names_each_images_accepted_submission(any_storage, no_azureml):
    campaign, _ = make_exportable_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(review_required=True)
    accepted = CampaignImage.objects.filter(campaign=campaign, labeled=True)
    accepted.update(review_state=ReviewState.ACCEPTED)
    expected = dict(accepted.values_list("image_id", "current_submission_id"))
    CampaignJob.objects.create(campaign=campaign)
    paths = ExportPaths.for_campaign(campaign)

    campaign_export_run(campaign_id=campaign.pk)

    coco = json.loads(read(any_storage, paths.coco_json))
    assert {image["id"]: image["accepted_submission"] for image in coco["images"]} == expected
    lines = [json.loads(line) for line in read(any_storage, paths.automl_jsonl).splitlines()]
    assert sorted(line["accepted_submission"] for line in lines) == sorted(expected.values())
    assert read(any_storage, paths.labels_csv) == EXPECTED_CSV  # the CSV keeps the contract's columns


def test_an_export_without_the_review_policy_has_no_acceptance_attribute():
    campaign, _ = make_exportable_campaign()
    coco = json.loads("".join(formats.coco_json_chunks(campaign_id=campaign.pk)))
    assert all("accepted_submission" not in image for image in coco["images"])
    lines = "".join(formats.automl_jsonl_chunks(campaign_id=campaign.pk, datastore=""))
    assert "accepted_submission" not in lines
