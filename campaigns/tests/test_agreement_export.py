"""The consensus export: COCO of the boxes two agencies both drew, written by the export of a compared campaign."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest
from pycocotools.coco import COCO

from campaigns.agreement import Box
from campaigns.export.consensus import consensus_boxes, consensus_coco_chunks
from campaigns.export.services import STEPS, ExportPaths, campaign_export_run
from campaigns.models import Campaign, CampaignJob
from campaigns.tests.export_data import label_image, obj
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory
from imagesets.tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


def compared_campaigns():
    """A finished campaign and the one it is compared with, on three shared images and one of its own.

    a.png 200x100: ours Plastic [20,10,50,40], Glass [100,0,200,100]; theirs Plastic [22,10,52,40] (IoU 28/32),
        Glass [0,0,60,60] (no overlap with ours): one pair, F1 2/4
    b.png 400x300: both nothing: F1 1
    c.png: ours Can [0,0,10,10]; theirs Can [0,0,10,10], Can [100,100,110,110]: one pair, F1 2/3
    d.png: only ours (not in the other campaign)
    """
    ours = CampaignFactory(title="beach-a", status=Campaign.Status.FINISHED)
    theirs = CampaignFactory(title="beach-b", status=Campaign.Status.COMPLETED)
    images = {
        name: ImageFactory(blobstorage_path=f"images/uploads/set/{name}.png", width=width, height=height)
        for name, width, height in (("a", 200, 100), ("b", 400, 300), ("c", 300, 300), ("d", 50, 50))
    }
    boxes = {
        "a": (
            [obj("Plastic", 0.9, 20, 10, 50, 40), obj("Glass", None, 100, 0, 200, 100)],
            [obj("Plastic", None, 22, 10, 52, 40), obj("Glass", None, 0, 0, 60, 60)],
        ),
        "b": ([], []),
        "c": ([obj("Can", None, 0, 0, 10, 10)], [obj("Can", None, 0, 0, 10, 10), obj("Can", None, 100, 100, 110, 110)]),
    }
    for name, (mine, yours) in boxes.items():
        label_image(CampaignImageFactory(campaign=ours, image=images[name]), mine)
        label_image(CampaignImageFactory(campaign=theirs, image=images[name]), yours)
    label_image(CampaignImageFactory(campaign=ours, image=images["d"]), [obj("Can", None, 1, 1, 5, 5)])
    ours.consensus_with = theirs
    ours.save(update_fields=["consensus_with"])
    return ours, theirs, images


def test_a_pair_becomes_one_box_with_the_corners_averaged():
    agreed = consensus_boxes(
        [Box("Plastic", 20, 10, 50, 40), Box("Glass", 100, 0, 200, 100)],
        [Box("Glass", 0, 0, 60, 60), Box("Plastic", 21, 10, 52, 41)],
        threshold=0.5,
    )
    assert [box for box, _ in agreed] == [Box("Plastic", 20.5, 10.0, 51.0, 40.5)]
    assert agreed[0][1] == pytest.approx((29 * 30) / (30 * 30 + 31 * 31 - 29 * 30))


def test_the_consensus_coco_holds_the_shared_images_and_the_boxes_both_drew(tmp_path):
    ours, theirs, images = compared_campaigns()
    summary = Counter()
    path = tmp_path / "consensus.json"
    path.write_text("".join(consensus_coco_chunks(campaign_id=ours.pk, other_id=theirs.pk, summary=summary)))

    data = json.loads(path.read_text())
    assert data["info"]["labelhub_campaign_ids"] == [ours.pk, theirs.pk]
    assert [(image["file_name"], image["agreement_f1"]) for image in data["images"]] == [
        ("uploads/set/a.png", 0.5),
        ("uploads/set/b.png", 1.0),
        ("uploads/set/c.png", pytest.approx(2 / 3)),
    ]
    assert data["categories"] == [
        {"id": 1, "name": "Can", "supercategory": ""},
        {"id": 2, "name": "Glass", "supercategory": ""},
        {"id": 3, "name": "Plastic", "supercategory": ""},
    ]
    coco = COCO(str(path))  # pycocotools reads it
    read = {
        (coco.loadImgs(a["image_id"])[0]["file_name"], coco.loadCats(a["category_id"])[0]["name"], tuple(a["bbox"]))
        for a in coco.loadAnns(coco.getAnnIds())
    }
    assert read == {
        ("uploads/set/a.png", "Plastic", (21.0, 10.0, 30.0, 30.0)),  # [20..50] and [22..52]: [21..51]
        ("uploads/set/c.png", "Can", (0.0, 0.0, 10.0, 10.0)),
    }
    assert dict(summary) == {"images": 3, "tp": 2, "fp": 2, "fn": 1, "boxes": 2}


def test_the_consensus_streams_its_annotations_through_a_file_past_the_spool_size(tmp_path, monkeypatch):
    ours, theirs, _ = compared_campaigns()
    whole = "".join(consensus_coco_chunks(campaign_id=ours.pk, other_id=theirs.pk))
    monkeypatch.setattr("campaigns.export.consensus.SPOOL_CHARS", 10)
    assert "".join(consensus_coco_chunks(campaign_id=ours.pk, other_id=theirs.pk)) == whole


def test_the_consensus_reads_a_fixed_number_of_queries(django_assert_num_queries):
    ours, theirs, _ = compared_campaigns()
    # The labels, the shared images, each campaign's boxes on them.
    with django_assert_num_queries(4):
        "".join(consensus_coco_chunks(campaign_id=ours.pk, other_id=theirs.pk))


def test_the_export_of_a_compared_campaign_lists_the_consensus_file_with_its_hash(local_storage, settings):
    ours, theirs, _ = compared_campaigns()
    job = campaign_export_run(campaign_id=ours.pk)

    assert job.status == CampaignJob.Status.SUCCEEDED, job.error
    path = ExportPaths.for_campaign(ours).consensus_json
    assert path == f"{settings.AZURE_STORAGE_IMAGESET_CONTAINER}/label_sets/beach-a_consensus.json"
    with local_storage.open(path) as stream:
        content = stream.read()
    assert content == "".join(consensus_coco_chunks(campaign_id=ours.pk, other_id=theirs.pk)).encode()
    written = {record["path"]: record for record in job.result["files"]}
    assert written[path]["sha256"] == hashlib.sha256(content).hexdigest()
    assert job.result["consensus"] == {
        "status": "written",
        "path": path,
        "with_campaign_id": theirs.pk,
        "images": 3,
        "boxes": 2,
        "agreement_f1": pytest.approx(4 / 7),  # TP 2, FP 2, FN 1
    }
    assert job.total == len(job.result["seconds"]) == len(STEPS)


def test_a_campaign_compared_with_none_writes_no_consensus(local_storage):
    ours, _, _ = compared_campaigns()
    ours.consensus_with = None
    ours.save(update_fields=["consensus_with"])
    job = campaign_export_run(campaign_id=ours.pk)

    assert job.status == CampaignJob.Status.SUCCEEDED, job.error
    assert job.result["consensus"]["status"] == "skipped"
    assert not local_storage.exists(ExportPaths.for_campaign(ours).consensus_json)
    assert not any("consensus" in record["path"] for record in job.result["files"])
