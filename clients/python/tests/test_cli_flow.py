"""The seed flow (``shared/seed/full-flow-example.txt``) done with the ``labelhub`` command line alone.

Staff half, then agency half, against a live labelhub on both storage backends (local and
Azure on Azurite): create an image set, upload a folder, finish it, create a campaign for an
agency e-mail, add the set's images, activate it; the agency lists its campaigns, pulls the
images, reads the pre-annotations, pushes a COCO file and a YOLO folder, sees the image staff
rejected (through the API) and pushes it again; staff finish the campaign and download the
export, every file checked against its SHA-256. The export's COCO and YOLO files read back
with the CLI's own parsers give the boxes the agency pushed.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from imagesets.tests import samples
from labelhub_client.cli import main
from labelhub_client.cli.formats import ImageMatcher, parse_coco, parse_yolo_folder
from labelhub_client.cli.manifest import Entry, Manifest

pytestmark = pytest.mark.django_db(transaction=True)


def box(xmin, xmax, ymin, ymax):
    return {"xmin": xmin, "xmax": xmax, "ymin": ymin, "ymax": ymax}


class Cli:
    """``labelhub --json ...`` in-process with one key; asserts the exit status and that its secret never shows."""

    def __init__(self, url: str, key: str, secret: str, tmp_path: Path):
        self.secret = secret
        self.env = {
            "LABELHUB_URL": url,
            "LABELHUB_KEY": key,
            "LABELHUB_SECRET": secret,
            "LABELHUB_CONFIG": str(tmp_path / "no-config.json"),
        }

    def __call__(self, *args, code: int = 0, json_mode: bool = True):
        options = ["--json"] if json_mode else []
        result = CliRunner().invoke(main, [*options, *map(str, args)], env=self.env)
        assert self.secret not in result.stdout and self.secret not in result.stderr
        assert result.exit_code == code, (args, result.stdout[-3000:], result.stderr, result.exception)
        if not json_mode:
            return result
        return json.loads(result.stdout) if result.stdout else None


def test_the_seed_flow_with_the_cli_alone(live_server, any_storage, settings, tmp_path):
    admin = UserFactory(email="jayke@test.com", is_staff=True)
    issued = apikey_issue(user=admin)
    staff = Cli(live_server.url, issued.apikey, issued.secret, tmp_path)
    api = f"{live_server.url}/api/v1"
    staff_headers = {"Authentication-Key": issued.apikey, "Authentication-Secret": issued.secret}

    # --- staff: an image set from a folder -------------------------------------------------
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    files = {
        "car.png": samples.png(200, 200),
        "jayke.jpg": samples.jpeg(310, 340),
        "shady guy.png": samples.png(240, 203),
        "broken.jpg": b"not an image at all",
    }
    for name, data in files.items():
        (uploads / name).write_bytes(data)
    (uploads / "notes.txt").write_text("not an image by its extension")

    created = staff("imagesets", "create", "imageset-26-10-2020", "--metadata", '{"country": "Nederland"}')
    set_id = created["imageset_id"]
    assert created["status"] == "created" and created["dropbox_url"]
    human = staff("imagesets", "create", "second-set", json_mode=False)
    assert human.stdout.startswith("Image set ") and "Dropbox URL: " in human.stdout

    uploaded = staff("imagesets", "upload", set_id, uploads, "--workers", "3")
    assert uploaded["uploaded"] == sorted(files) and uploaded["failed"] == [] and uploaded["not_images"] == 1
    finished = staff("imagesets", "finish", set_id, "--wait", "--poll", "0.1", "--timeout", "60")
    assert finished["status"] == "finished" and finished["job"]["status"] == "succeeded"
    assert [s["name"] for s in finished["skipped"]] == ["broken.jpg"] and finished["skipped"][0]["reason"]
    followed = staff("imagesets", "finish", set_id, "--wait")  # finished already: its job is shown again
    assert followed["job"]["status"] == "succeeded" and followed["skipped"] == finished["skipped"]
    human = staff("imagesets", "upload", set_id, uploads, code=1, json_mode=False)  # the set is finished now
    assert human.stdout == "" and human.stderr.startswith("Error: refused (HTTP 409): ")

    images = httpx.get(f"{api}/image_sets/{set_id}/images", headers=staff_headers).json()["images"]
    by_name = {image["blobstorage_path"].rsplit("/", 1)[1]: image["image_id"] for image in images}
    car, jayke, shady = by_name["car.png"], by_name["jayke.jpg"], by_name["shady guy.png"]

    # --- staff: the campaign, its agency's key shown once ----------------------------------
    campaign = staff(
        "campaigns",
        "create",
        "campaign-26-10-2020",
        "--labeler",
        "new_user@example.com",
        "--metadata",
        '{"to_be_used_for": "New train set"}',
        "--label",
        "Plastic",
        "--label",
        "Organic",
        "--label",
        "Wood",
    )
    campaign_id = campaign["campaign_id"]
    token = campaign["access_token"]
    assert token["apikey"] and token["apisecret"]
    agency = Cli(live_server.url, token["apikey"], token["apisecret"], tmp_path)
    added = staff("campaigns", "add-images", campaign_id, "--imageset", set_id)
    assert sorted(added["added"]) == sorted([car, jayke, shady])
    early = agency("push", campaign_id, _write(tmp_path / "early.json", [{"image_id": car, "objects": []}]), code=1)
    assert early["failed"][0]["status"] == 409  # not active yet: refused, reported, exit 1
    staff("campaigns", "activate", campaign_id)
    predictions = {
        "model": {"name": "litter-detector", "version": "2024-06"},
        "items": [
            {
                "image_id": car,
                "objects": [{"label": "Plastic", "confidence": 0.87, "bounding_box": box(10, 50, 5, 40)}],
            },
            {"image_id": jayke, "objects": []},
        ],
    }
    r = httpx.put(f"{api}/campaigns/{campaign_id}/predictions", json=predictions, headers=staff_headers)
    assert r.status_code == 200, r.text

    # --- agency: its campaigns, the images, the pre-annotations ----------------------------
    listed = agency("campaigns")["campaigns"]
    assert [(c["campaign_id"], c["status"], c["progress"]) for c in listed] == [
        (campaign_id, "active", {"done": 0, "total": 3})
    ]
    assert "metadata" not in listed[0]  # the agency view
    human = agency("campaigns", json_mode=False).stdout
    assert "campaign-26-10-2020" in human and "0/3" in human

    pulled = tmp_path / "pulled"
    summary = agency("pull", campaign_id, pulled, "--workers", "2")
    assert (summary["images"], summary["downloaded"], summary["failed"]) == (3, 3, [])
    manifest = json.loads((pulled / "manifest.json").read_text())
    entries = {entry["image_id"]: entry for entry in manifest["images"]}
    assert entries[car] == {
        "image_id": car,
        "file": f"{car}.png",
        "size": len(files["car.png"]),
        "width": 200,
        "height": 200,
        "rejection": None,
    }
    assert (entries[jayke]["file"], entries[jayke]["width"], entries[jayke]["height"]) == (f"{jayke}.jpg", 310, 340)
    assert (pulled / f"{shady}.png").read_bytes() == files["shady guy.png"]
    assert (pulled / f"{jayke}.jpg").read_bytes() == files["jayke.jpg"]
    again = agency("pull", campaign_id, pulled)
    assert (again["downloaded"], again["already_complete"]) == (0, 3)

    predicted = agency("predictions", campaign_id, pulled)
    # The server shows no model for an image whose prediction was empty (jayke): it is left out.
    assert (predicted["images"], predicted["annotations"]) == (1, 1)
    coco = json.loads((pulled / "predictions.coco.json").read_text())
    assert coco["images"] == [{"id": car, "file_name": f"{car}.png", "width": 200, "height": 200}]
    assert [(a["image_id"], a["bbox"], a["score"]) for a in coco["annotations"]] == [(car, [10, 5, 40, 35], 0.87)]
    assert coco["categories"] == [{"id": 1, "name": "Plastic", "supercategory": ""}]
    assert coco["info"]["models"] == [{"name": "litter-detector", "version": "2024-06"}]

    # --- agency: a COCO file and a YOLO folder ---------------------------------------------
    labels_coco = {
        "images": [
            {"id": 1, "file_name": f"{car}.png", "width": 200, "height": 200},
            {"id": 2, "file_name": f"{jayke}.jpg", "width": 310, "height": 340},
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [13, 123, 44, 75], "score": 1},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [26.2, 12, 72, 41.6], "score": 0.56},
            {"id": 3, "image_id": 2, "category_id": 3, "bbox": [74, 91, 98, 21], "score": 0.12},
        ],
        "categories": [{"id": 1, "name": "Plastic"}, {"id": 2, "name": "Organic"}, {"id": 3, "name": "Wood"}],
    }
    pushed = agency("push", campaign_id, _write(pulled / "labels.coco.json", labels_coco))
    assert (pushed["format"], sorted(pushed["stored"]), pushed["failed"]) == ("coco", sorted([car, jayke]), [])
    yolo = pulled / "yolo"
    yolo.mkdir()
    (yolo / "classes.txt").write_text("Plastic\nOrganic\nWood\n")
    (yolo / f"{shady}.txt").write_text("2 0.5 0.5 0.25 0.2\n0 0.1 0.1 0.1 0.1 0.9\n")
    pushed = agency("push", campaign_id, yolo)  # the manifest is found in the folder above
    assert (pushed["format"], pushed["stored"], pushed["objects"]) == ("yolo", [shady], 2)
    assert agency("campaigns")["campaigns"][0]["status"] == "completed"

    # --- staff reject one image; the agency redoes it --------------------------------------
    reason = {"reason": "The bottle has no box", "reason_code": "missing-object"}
    review = [{"image_id": jayke, "decision": "rejected", **reason}]
    r = httpx.put(f"{api}/campaigns/{campaign_id}/reviews", json=review, headers=staff_headers)
    assert r.status_code == 200, r.text
    rejected = agency("rejections", campaign_id)["rejections"]
    assert [(r["image_id"], r["reason"], r["reason_code"]) for r in rejected] == [
        (jayke, "The bottle has no box", "missing-object")
    ]
    human = agency("rejections", campaign_id, json_mode=False).stdout
    assert "missing-object" in human and "The bottle has no box" in human and str(jayke) in human
    redo = tmp_path / "redo"
    summary = agency("pull", campaign_id, redo, "--state", "rejected")
    assert (summary["images"], summary["downloaded"]) == (1, 1)
    entry = json.loads((redo / "manifest.json").read_text())["images"][0]
    assert (entry["image_id"], entry["rejection"]["reason"], entry["rejection"]["reason_code"]) == (
        jayke,
        "The bottle has no box",
        "missing-object",
    )
    fixed = [
        {
            "image_id": jayke,
            "objects": [
                {"label": "Wood", "confidence": 0.12, "bounding_box": box(74, 172, 91, 112)},
                {"label": "Plastic", "confidence": 0.93, "bounding_box": box(58, 124, 68, 98)},
            ],
        }
    ]
    pushed = agency("push", campaign_id, _write(redo / "fixed.json", fixed))
    assert (pushed["format"], pushed["stored"]) == ("labelhub", [jayke])
    assert agency("rejections", campaign_id)["rejections"] == []

    # --- staff: finish and export -----------------------------------------------------------
    done = staff("campaigns", "finish", campaign_id, "--wait", "--poll", "0.1", "--timeout", "60")
    assert (done["status"], done["job"]["status"]) == ("finished", "succeeded")
    assert staff("campaigns", "finish", campaign_id, "--wait")["job"]["status"] == "succeeded"
    staff("campaigns", "finish", campaign_id, code=1)  # without --wait a second finish is the server's 409
    exported = tmp_path / "export"
    result = staff("export", campaign_id, exported)
    assert result["failed"] == [] and result["files"]
    for file in result["files"]:
        data = Path(file["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == file["sha256"] and len(data) == file["size"]
        assert file["downloaded"]
    again = staff("export", campaign_id, exported)
    assert [f["downloaded"] for f in again["files"]] == [False] * len(result["files"])
    paths = {Path(f["path"]).name: Path(f["file"]) for f in result["files"]}
    assert {"campaign-26-10-2020_labels.csv", "campaign-26-10-2020_coco.json", "campaign-26-10-2020_yolo.zip"} <= set(
        paths
    )

    # What was pushed comes back from the export's COCO (by its image ids) and YOLO (renamed by id).
    expected = {
        car: [
            {"label": "Plastic", "confidence": 1.0, "bounding_box": box(13, 57, 123, 198)},
            {"label": "Organic", "confidence": 0.56, "bounding_box": box(26, 98, 12, 54)},
        ],
        jayke: fixed[0]["objects"],
        shady: [
            {"label": "Wood", "confidence": None, "bounding_box": box(90, 150, 81, 122)},
            {"label": "Plastic", "confidence": 0.9, "bounding_box": box(12, 36, 10, 30)},
        ],
    }
    exported_coco = json.loads(paths["campaign-26-10-2020_coco.json"].read_text())
    items = parse_coco(exported_coco, source="export", matcher=ImageMatcher(), coco_ids=True)
    assert {item["image_id"]: item["objects"] for item in items} == expected
    yolo_back = tmp_path / "yolo-back"
    with zipfile.ZipFile(paths["campaign-26-10-2020_yolo.zip"]) as archive:
        archive.extractall(yolo_back)
    label_files = {p.stem: p for p in (yolo_back / "labels").rglob("*.txt")}
    sizes = Manifest(tmp_path)
    for name, image_id in by_name.items():
        if Path(name).stem in label_files:
            label_files[Path(name).stem].rename(yolo_back / "labels" / f"{image_id}.txt")
            sizes.put(Entry(image_id, f"{image_id}.png", 1, entries[image_id]["width"], entries[image_id]["height"]))
    items = parse_yolo_folder(yolo_back / "labels", ImageMatcher(sizes))
    assert {i["image_id"]: [(o["label"], o["bounding_box"]) for o in i["objects"]] for i in items} == {
        image_id: [(o["label"], o["bounding_box"]) for o in objects] for image_id, objects in expected.items()
    }


def _write(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path
