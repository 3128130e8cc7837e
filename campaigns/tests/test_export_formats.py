"""YOLO and Pascal VOC exports (and COCO), read back by independent readers and compared with the stored boxes."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from xml.etree import ElementTree

import pytest
import yaml
from pycocotools.coco import COCO

from campaigns.export import archive, formats
from campaigns.export.services import STEPS, ExportPaths, campaign_export_run
from campaigns.export.voc import voc_zip_chunks
from campaigns.export.yolo import yolo_zip_chunks
from campaigns.models import BoundingBox, CampaignJob
from campaigns.tests.export_data import label_image, make_exportable_campaign, obj
from campaigns.tests.factories import CampaignImageFactory
from imagesets.tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


def stored_boxes(campaign) -> dict[int, list[tuple]]:
    """Image id -> its current boxes ``(label, xmin, ymin, xmax, ymax)`` in the labeler's order (labeled images)."""
    boxes: dict[int, list[tuple]] = {}
    for image in campaign.campaign_images.filter(labeled=True):
        boxes[image.image_id] = []
    rows = (
        BoundingBox.objects.current()
        .filter(campaign_image__campaign=campaign, campaign_image__labeled=True)
        .order_by("campaign_image__image_id", "position", "id")
        .values_list("campaign_image__image_id", "label", "xmin", "ymin", "xmax", "ymax")
    )
    for image_id, *box in rows:
        boxes[image_id].append(tuple(box))
    return boxes


def unzip(chunks) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as zipped:
        assert zipped.testzip() is None
        return {name: zipped.read(name) for name in zipped.namelist()}


def odd_campaign():
    """The hand-computed campaign, plus an image of unknown size and one whose name differs only by extension."""
    campaign, images = make_exportable_campaign()
    unsized = ImageFactory(blobstorage_path="images/uploads/set-a/e.png", width=None, height=None)
    twin = ImageFactory(blobstorage_path="images/uploads/set-a/a.jpg", width=640, height=480)
    label_image(CampaignImageFactory(campaign=campaign, image=unsized), [obj("Can", None, 1, 2, 3, 4)])
    label_image(
        CampaignImageFactory(campaign=campaign, image=twin),
        [obj("Glass", 0.3, 0, 0, 640, 480), obj('Ünïcode, "quoted" <&>', 1.0, 7, 9, 8, 100)],
    )
    return campaign, {**images, "e": unsized, "twin": twin}


# --- YOLO ------------------------------------------------------------------------------------


def read_yolo(files: dict[str, bytes], sizes: dict[str, tuple[int, int]]) -> tuple[list[str], dict[str, list[tuple]]]:
    """An independent reader: names from data.yaml, each line back to pixels with the image's size."""
    data = yaml.safe_load(files["data.yaml"])
    names = data["names"]
    assert data["nc"] == len(names)
    boxes = {}
    for name, content in files.items():
        if name == "data.yaml":
            continue
        width, height = sizes[name]
        image_boxes = []
        for line in content.decode("utf-8").splitlines():
            cls, cx, cy, w, h = line.split()
            cx, cy, w, h = float(cx) * width, float(cy) * height, float(w) * width, float(h) * height
            image_boxes.append(
                (names[int(cls)], round(cx - w / 2), round(cy - h / 2), round(cx + w / 2), round(cy + h / 2))
            )
        boxes[name] = image_boxes
    return names, boxes


def test_yolo_round_trips_every_box_of_the_labeled_images_of_known_size():
    campaign, images = odd_campaign()
    unsized = formats.SkippedImages()

    files = unzip(yolo_zip_chunks(campaign_id=campaign.pk, unsized=unsized))

    expected_files = {
        "labels/uploads/set-a/a.txt": images["a"],
        "labels/uploads/set-a/b.txt": images["b"],
        "labels/uploads/set-b/d.txt": images["d"],
        f"labels/uploads/set-a/a__{images['twin'].pk}.txt": images["twin"],
    }
    assert set(files) == {"data.yaml", *expected_files}
    assert list(files)[0] == "data.yaml"
    names, boxes = read_yolo(files, {name: (i.width, i.height) for name, i in expected_files.items()})
    assert names == formats.campaign_export_labels(campaign_id=campaign.pk)  # the COCO category order
    stored = stored_boxes(campaign)
    for name, image in expected_files.items():
        assert boxes[name] == stored[image.pk], name
    assert files["labels/uploads/set-a/b.txt"] == b""  # labeled, nothing found: a background image
    assert unsized.as_dict() == {"count": 1, "image_ids": [images["e"].pk]}


def test_yolo_lines_are_centre_and_size_fractions():
    campaign, images = make_exportable_campaign()

    files = unzip(yolo_zip_chunks(campaign_id=campaign.pk))

    # a.png is 200x100; classes sorted: Glass 0, PET 1, Plastic 2.
    assert files["labels/uploads/set-a/a.txt"].decode() == "2 0.175 0.25 0.15 0.3\n0 0.75 0.5 0.5 1.0\n"
    assert yaml.safe_load(files["data.yaml"]) == {"nc": 3, "names": ["Glass", "PET", "Plastic"]}


def test_yolo_reads_the_campaign_in_two_queries_whatever_its_size(django_assert_num_queries):
    campaign, _ = make_exportable_campaign()
    for _ in range(20):
        label_image(CampaignImageFactory(campaign=campaign), [obj("Glass", None, 1, 1, 5, 5)] * 3)

    with django_assert_num_queries(2):  # the labels, then images joined with their boxes
        files = unzip(yolo_zip_chunks(campaign_id=campaign.pk))
    assert len(files) == 1 + 3 + 20


# --- Pascal VOC --------------------------------------------------------------------------------


def read_voc(content: bytes) -> tuple[dict, list[tuple]]:
    root = ElementTree.fromstring(content)
    size = root.find("size")
    image = {
        "filename": root.findtext("filename"),
        "path": root.findtext("path"),
        "width": int(size.findtext("width")),
        "height": int(size.findtext("height")),
    }
    boxes = [
        (
            element.findtext("name"),
            *(int(element.find("bndbox").findtext(side)) for side in ("xmin", "ymin", "xmax", "ymax")),
        )
        for element in root.iter("object")
    ]
    return image, boxes


def test_voc_round_trips_every_box_of_every_labeled_image():
    campaign, images = odd_campaign()

    files = unzip(voc_zip_chunks(campaign_id=campaign.pk))

    expected_files = {
        "Annotations/uploads/set-a/a.xml": images["a"],
        "Annotations/uploads/set-a/b.xml": images["b"],
        "Annotations/uploads/set-b/d.xml": images["d"],
        "Annotations/uploads/set-a/e.xml": images["e"],
        f"Annotations/uploads/set-a/a__{images['twin'].pk}.xml": images["twin"],
    }
    assert set(files) == set(expected_files)
    stored = stored_boxes(campaign)
    for name, image in expected_files.items():
        read_image, boxes = read_voc(files[name])
        assert boxes == stored[image.pk], name
        assert read_image["path"] == image.path_in_container
        assert (read_image["width"], read_image["height"]) == (image.width or 0, image.height or 0)


def test_voc_writes_a_label_xml_cannot_hold_as_a_replacement_character():
    campaign, images = make_exportable_campaign()
    label_image(campaign.campaign_images.get(image=images["c"]), [obj("bell\x07", None, 0, 0, 1, 1)])

    files = unzip(voc_zip_chunks(campaign_id=campaign.pk))

    assert read_voc(files["Annotations/uploads/set-a/c.xml"])[1] == [("bell\ufffd", 0, 0, 1, 1)]


# --- entry names, whatever the image names -------------------------------------------------------


def colliding_campaign():
    """Images whose names map to the same entry stem, the ``__<id>`` one first and last by image id.

    ``x/a.jpg``, ``x/a.png`` (image P), ``x/a__P.jpg`` (before them by id) and ``x/a__P.png``; each
    labeled with one box of its own, so an entry holding another image's labels shows.
    """
    campaign, _ = make_exportable_campaign()
    early = ImageFactory(blobstorage_path="images/x/placeholder-1.jpg", width=640, height=480)
    jpg = ImageFactory(blobstorage_path="images/x/a.jpg", width=640, height=480)
    png = ImageFactory(blobstorage_path="images/x/a.png", width=640, height=480)
    late = ImageFactory(blobstorage_path="images/x/placeholder-2.png", width=640, height=480)
    early.blobstorage_path = f"images/x/a__{png.pk}.jpg"
    late.blobstorage_path = f"images/x/a__{png.pk}.png"
    for image in (early, late):
        image.save(update_fields=["blobstorage_path"])
    images = [early, jpg, png, late]
    for n, image in enumerate(images, start=1):
        label_image(CampaignImageFactory(campaign=campaign, image=image), [obj("Glass", None, n, n, 10 * n, 10 * n)])
    return campaign, images


def zip_names(chunks) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as zipped:
        return zipped.namelist()


def test_yolo_gives_every_image_its_own_label_file_when_names_collide():
    campaign, images = colliding_campaign()
    stored = stored_boxes(campaign)

    names = zip_names(yolo_zip_chunks(campaign_id=campaign.pk))
    files = unzip(yolo_zip_chunks(campaign_id=campaign.pk))

    assert len(names) == len(set(names)) == 1 + 3 + len(images)  # data.yaml, a, b, d, and one per image
    early, jpg, png, late = images
    expected = {
        "labels/x/a.txt": jpg,
        f"labels/x/a__{png.pk}.txt": png,
        f"labels/x/a__{png.pk}__{early.pk}.txt": early,
        f"labels/x/a__{png.pk}__{late.pk}.txt": late,
    }
    assert set(expected) <= set(files)
    _, boxes = read_yolo(
        {"data.yaml": files["data.yaml"], **{name: files[name] for name in expected}},
        {name: (640, 480) for name in expected},
    )
    for name, image in expected.items():
        assert boxes[name] == stored[image.pk], name


def test_voc_gives_every_image_its_own_annotation_when_names_collide():
    campaign, images = colliding_campaign()
    stored = stored_boxes(campaign)

    names = zip_names(voc_zip_chunks(campaign_id=campaign.pk))
    files = unzip(voc_zip_chunks(campaign_id=campaign.pk))

    assert len(names) == len(set(names)) == 3 + len(images)
    by_path = {}
    for content in files.values():
        image, boxes = read_voc(content)
        by_path[image["path"]] = boxes
    for image in images:
        assert by_path[image.path_in_container] == stored[image.pk], image.path_in_container


@pytest.mark.parametrize(
    "stems",
    [
        ["x/a", "x/a", "x/a__2", "x/a__2", "x/a__2__4"],
        ["x/a__3", "x/a", "x/a", "x/a__3__4", "x/a_", "x/a_"],
        ["a__", "a__", "a", "a____2"],
    ],
)
def test_entry_names_are_unique_whatever_the_stems_and_ids(stems):
    names = archive.EntryNames()
    given = [names.unique(stem, ".txt", image_id) for image_id, stem in enumerate(stems, start=1)]
    assert len(set(given)) == len(given), given


def test_entry_names_stay_unique_when_two_plain_names_have_the_same_digest(monkeypatch):
    """An 8-byte digest can collide: the second name is renamed, never given twice."""
    monkeypatch.setattr(archive.hashlib, "blake2b", lambda *a, **k: hashlib.sha256(b"same"))
    names = archive.EntryNames()
    assert [names.unique(stem, ".txt", i) for i, stem in enumerate(["p", "q", "q__1"], start=1)] == [
        "p.txt",
        "q__2.txt",
        "q__1__3.txt",
    ]


# --- COCO, through pycocotools ------------------------------------------------------------------


def test_coco_round_trips_through_pycocotools(tmp_path):
    campaign, _ = odd_campaign()
    path = tmp_path / "coco.json"
    path.write_text("".join(formats.coco_json_chunks(campaign_id=campaign.pk)), encoding="utf-8")

    coco = COCO(str(path))

    read = {}
    for image_id in coco.getImgIds():
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))
        read[image_id] = [
            (coco.loadCats(a["category_id"])[0]["name"], *map(int, a["bbox"][:2]), *map(int, _corner(a["bbox"])))
            for a in sorted(annotations, key=lambda a: a["id"])
        ]
    stored = stored_boxes(campaign)
    assert set(read) == set(stored)
    for image_id, boxes in stored.items():
        # pycocotools orders by annotation id; labelhub by the labeler's order: compare as sets of boxes.
        assert sorted(read[image_id]) == sorted(boxes)


def _corner(bbox):
    x, y, w, h = bbox
    return x + w, y + h


# --- the job writes them, on both backends -----------------------------------------------------


def read_bytes(storage, path: str) -> bytes:
    with storage.open(path) as stream:
        return stream.read()


def test_the_export_job_writes_yolo_and_voc_zips_with_their_hashes(any_storage, settings):
    for name in ("AZURE_ML_SUBSCRIPTION_ID", "AZURE_ML_RESOURCE_GROUP", "AZURE_ML_WORKSPACE_NAME"):
        setattr(settings, name, "")
    campaign, images = make_exportable_campaign()
    paths = ExportPaths.for_campaign(campaign)

    job = campaign_export_run(campaign_id=campaign.pk)

    assert job.status == CampaignJob.Status.SUCCEEDED, job.error
    container = settings.AZURE_STORAGE_IMAGESET_CONTAINER
    assert paths.yolo_zip == f"{container}/label_sets/beach-2024_yolo.zip"
    assert paths.voc_zip == f"{container}/label_sets/beach-2024_voc.zip"
    written = {record["path"]: record for record in job.result["files"]}
    for path, expected in (
        (paths.yolo_zip, b"".join(yolo_zip_chunks(campaign_id=campaign.pk))),
        (paths.voc_zip, b"".join(voc_zip_chunks(campaign_id=campaign.pk))),
    ):
        content = read_bytes(any_storage, path)
        assert content == expected  # the same bytes on every run
        assert written[path]["sha256"] == hashlib.sha256(content).hexdigest()
        assert written[path]["size"] == len(content)
    assert job.result["formats"] == {
        "yolo": {"status": "written", "path": paths.yolo_zip, "unsized_images": {"count": 0, "image_ids": []}},
        "voc": {"status": "written", "path": paths.voc_zip},
    }
    assert job.total == len(job.result["seconds"]) == len(STEPS)


def test_export_extra_formats_chooses_which_zips_are_written(local_storage, settings):
    settings.EXPORT_EXTRA_FORMATS = ["voc"]
    campaign, _ = make_exportable_campaign()
    paths = ExportPaths.for_campaign(campaign)

    job = campaign_export_run(campaign_id=campaign.pk)

    assert job.result["formats"]["yolo"] == {"status": "skipped", "reason": "not in EXPORT_EXTRA_FORMATS"}
    assert job.result["formats"]["voc"]["status"] == "written"
    assert not local_storage.exists(paths.yolo_zip)
    assert local_storage.exists(paths.voc_zip)


def test_the_zip_leaves_in_bounded_chunks_as_entries_are_written(monkeypatch):
    monkeypatch.setattr(archive, "CHUNK_BYTES", 1024)
    # Hashes do not compress: each entry stays about 1.3 KB in the zip.
    entries = [
        (f"labels/{i}.txt", b"".join(hashlib.sha256(f"{i}-{j}".encode()).digest() for j in range(40)))
        for i in range(40)
    ]

    chunks = list(archive.zip_chunks(entries))

    assert len(chunks) > 5
    assert all(len(chunk) < 1024 + 4096 for chunk in chunks)
    assert unzip(chunks) == dict(entries)


def test_the_admin_links_download_the_zips(client, local_storage):
    from accounts.tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    campaign, _ = make_exportable_campaign()
    campaign_export_run(campaign_id=campaign.pk)

    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()

    links = dict((path, token) for token, path in re.findall(r'<a href="/api/v1/files/([^"]+)">([^<]+)</a>', page))
    paths = ExportPaths.for_campaign(campaign)
    served = client.get(f"/api/v1/files/{links[paths.yolo_zip]}")
    assert unzip(served.streaming_content)["labels/uploads/set-a/a.txt"].startswith(b"2 0.175")
    served = client.get(f"/api/v1/files/{links[paths.voc_zip]}")
    assert "Annotations/uploads/set-b/d.xml" in unzip(served.streaming_content)


def test_a_zip_of_more_than_65535_entries_carries_zip64_records():
    entries = ((f"labels/{i}.txt", b"") for i in range(70_000))

    with zipfile.ZipFile(io.BytesIO(b"".join(archive.zip_chunks(entries)))) as zipped:
        names = zipped.namelist()
        assert zipped.read("labels/69999.txt") == b""
    assert len(names) == 70_000 and names[-1] == "labels/69999.txt"


def test_the_zip_writer_holds_no_record_per_entry_in_memory(monkeypatch):
    import tracemalloc

    monkeypatch.setattr(archive, "SPOOL_BYTES", 64 * 1024)
    monkeypatch.setattr(archive, "CHUNK_BYTES", 16 * 1024)  # bounded buffers, small beside the records

    def peak(count: int) -> int:
        tracemalloc.start()
        for _ in archive.zip_chunks((f"labels/image-{i:07d}.txt", b"0 0.5 0.5 0.1 0.1\n") for i in range(count)):
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    small, large = peak(2_000), peak(20_000)

    assert large < small + 256 * 1024, (small, large)


def test_the_zip_has_the_same_fixed_date_and_bytes_in_any_time_zone(monkeypatch):
    """A writer fed a naive date with extended timestamps (stream-zip's defaults) fails this: TZ moves its bytes."""
    import time

    entries = [("data.yaml", b"nc: 1\n"), ("labels/a.txt", b"0 0.5 0.5 0.1 0.1\n")]
    zips = []
    for zone in ("UTC", "Asia/Tokyo", "America/St_Johns"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        zips.append(b"".join(archive.zip_chunks(entries)))
    monkeypatch.undo()
    time.tzset()

    assert zips[0] == zips[1] == zips[2]
    with zipfile.ZipFile(io.BytesIO(zips[0])) as zipped:
        assert {info.date_time for info in zipped.infolist()} == {(1980, 1, 1, 0, 0, 0)}
