"""The label formats ``labelhub push`` reads and ``labelhub predictions`` writes, without a server.

labelhub JSON, COCO and YOLO are read into the body of ``PUT /campaigns/{id}/objects``;
boxes round-trip with labelhub's own COCO and YOLO exports (their functions are used here
as the reference; the package itself never imports the server). A bad file is exit 1 with
a message naming the file and the place, and nothing is sent.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from click.testing import CliRunner

from campaigns.export.selectors import ExportImage, ExportObject
from campaigns.export.yolo import yolo_data_yaml, yolo_lines
from imagesets.tests import samples
from labelhub_client.cli import main
from labelhub_client.cli.formats import (
    FormatError,
    ImageMatcher,
    image_size,
    parse_coco,
    parse_labelhub,
    parse_yaml_names,
    parse_yolo_folder,
    read_labels,
    to_coco,
)
from labelhub_client.cli.manifest import Entry, Manifest
from labelhub_client.cli.transfer import extension_for


def box(xmin, xmax, ymin, ymax):
    return {"xmin": xmin, "xmax": xmax, "ymin": ymin, "ymax": ymax}


def obj(label, bounding_box, confidence=None):
    return {"label": label, "confidence": confidence, "bounding_box": bounding_box}


@pytest.fixture
def manifest(tmp_path) -> Manifest:
    """A pull folder: images 7 (200x100 PNG) and 8 (size unknown to the server, a 64x48 JPEG on disk)."""
    folder = tmp_path / "pulled"
    folder.mkdir()
    (folder / "7.png").write_bytes(samples.png(200, 100))
    (folder / "8.jpg").write_bytes(samples.jpeg(64, 48))
    manifest = Manifest(folder, campaign_id=3)
    manifest.put(Entry(7, "7.png", (folder / "7.png").stat().st_size, 200, 100))
    manifest.put(Entry(8, "8.jpg", (folder / "8.jpg").stat().st_size, None, None))
    manifest.save()
    return manifest


# --- labelhub JSON ---------------------------------------------------------------------


def test_labelhub_json_is_the_put_body_checked_as_the_server_checks_it():
    data = [
        {"image_id": 1, "objects": [obj("Plastic", box(13, 57, 123, 198), 1), obj("Wood", box(0, 1.0, 2, 3))]},
        {"image_id": 2, "objects": []},
    ]
    items = parse_labelhub(data, source="labels.json")
    assert items[0]["objects"][1]["bounding_box"] == box(0, 1, 2, 3)  # 1.0 is the integer 1, as the server reads it
    assert items[1] == {"image_id": 2, "objects": []}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"image_id": 1}, "labelhub JSON is a list"),
        ([{"image_id": "1", "objects": []}], "item 0: 'image_id' must be a positive integer"),
        ([{"image_id": True, "objects": []}], "item 0: 'image_id' must be a positive integer"),
        ([{"image_id": 1}], "image 1: 'objects' must be a list"),
        ([{"image_id": 1, "objects": [obj("", box(0, 1, 0, 1))]}], "image 1, object 0: 'label'"),
        ([{"image_id": 1, "objects": [obj("a", box(0, 1, 0, 1), 1.5)]}], "'confidence' must be null or a number"),
        ([{"image_id": 1, "objects": [obj("a", box(-1, 1, 0, 1))]}], "'bounding_box.xmin' must be a non-negative"),
        ([{"image_id": 1, "objects": [obj("a", box(5, 1, 0, 1))]}], "minimum greater than its maximum"),
        ([{"image_id": 1, "objects": [{"label": "a"}]}], "'bounding_box' must be an object"),
        ([{"image_id": 1, "objects": []}, {"image_id": 1, "objects": []}], "image 1 is listed more than once"),
    ],
)
def test_labelhub_json_mistakes_are_named(data, message):
    with pytest.raises(FormatError, match="labels.json: .*" + message.replace("(", r"\(")):
        parse_labelhub(data, source="labels.json")


def test_a_box_outside_the_pulled_image_is_refused_before_sending(manifest):
    data = [{"image_id": 7, "objects": [obj("a", box(0, 201, 0, 10))]}]
    with pytest.raises(FormatError, match=r"image 7, object 0: .* lies outside the image \(200x100\)"):
        parse_labelhub(data, source="l.json", matcher=ImageMatcher(manifest))


# --- COCO ------------------------------------------------------------------------------


def coco(images, annotations, categories=({"id": 1, "name": "Plastic"}, {"id": 2, "name": "Wood"})):
    return {"images": images, "annotations": annotations, "categories": list(categories)}


def test_coco_boxes_are_rounded_as_labelhubs_import_rounds_them(manifest):
    data = coco(
        [
            {"id": 1, "file_name": "7.png", "width": 200, "height": 100},
            {"id": 2, "file_name": "sub/folder/8.jpg"},
            {"id": 3, "file_name": "12.png"},  # not in the manifest: the name is the image id
        ],
        [
            {"id": 10, "image_id": 1, "category_id": 1, "bbox": [10.4, 20.6, 30.2, 40.1], "score": 0.5},
            {"id": 11, "image_id": 1, "category_id": 2, "bbox": [0, 0, 200, 100]},
            {"id": 12, "image_id": 3, "category_id": 2, "bbox": [1, 2, 3, 4], "score": None},
        ],
    )
    items = parse_coco(data, source="c.json", matcher=ImageMatcher(manifest))
    assert items == [
        {"image_id": 7, "objects": [obj("Plastic", box(10, 41, 21, 61), 0.5), obj("Wood", box(0, 200, 0, 100))]},
        {"image_id": 8, "objects": []},  # listed without annotations: labeled, nothing found
        {"image_id": 12, "objects": [obj("Wood", box(1, 4, 2, 6))]},
    ]


def test_coco_of_labelhubs_export_is_read_by_its_image_ids():
    data = coco(
        [{"id": 41, "file_name": "uploads/set/car.png", "width": 200, "height": 200}],
        [{"id": 1, "image_id": 41, "category_id": 1, "bbox": [13, 123, 44, 75], "score": 1.0}],
    )
    with pytest.raises(FormatError, match=r"1 image file name\(s\) match no campaign image: uploads/set/car.png"):
        parse_coco(data, source="c.json", matcher=ImageMatcher())
    items = parse_coco(data, source="c.json", matcher=ImageMatcher(), coco_ids=True)
    assert items == [{"image_id": 41, "objects": [obj("Plastic", box(13, 57, 123, 198), 1.0)]}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a COCO file is a JSON object"),
        ({"images": {}, "categories": []}, "'images' must be a list of objects"),
        (coco([{"id": "1", "file_name": "1.png"}], []), r"images\[0\]: 'id' must be an integer"),
        (
            coco([{"id": 1, "file_name": "1.png"}], [{"id": 1, "image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1]}]),
            "annotation 1 names image 9, which is not in the file's 'images'",
        ),
        (
            coco([{"id": 1, "file_name": "1.png"}], [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [0, 0, 1, 1]}]),
            "annotation 1 has an unknown category 5",
        ),
        (
            coco([{"id": 1, "file_name": "1.png"}], [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1]}]),
            r"annotation 1: 'bbox' must be \[x, y, width, height\]",
        ),
        (
            coco(
                [{"id": 1, "file_name": "1.png"}], [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [-5, 0, 1, 1]}]
            ),
            "'bounding_box.xmin' must be a non-negative integer",
        ),
        (coco([{"id": 1, "file_name": "1.png"}], [], categories=[{"id": 1}]), "category 1 has no 'name'"),
        (
            coco([{"id": 1, "file_name": "a.png"}, {"id": 2, "file_name": "b.png"}], []),
            r"2 image file name\(s\) match no campaign image: a.png, b.png",
        ),
    ],
)
def test_coco_mistakes_are_named(data, message):
    with pytest.raises(FormatError, match="c.json: .*" + message):
        parse_coco(data, source="c.json", matcher=ImageMatcher())


def test_coco_written_for_predictions_is_read_back_unchanged(manifest):
    objects = [
        {"object_id": 5, "label": "Plastic", "confidence": 0.87, "bounding_box": box(10, 50, 5, 40)},
        {"object_id": 6, "label": "Glass", "confidence": None, "bounding_box": box(0, 200, 0, 100)},
    ]
    document = to_coco(
        [
            {"image_id": 7, "file_name": "7.png", "width": 200, "height": 100, "objects": objects},
            {"image_id": 8, "file_name": "8.jpg", "width": None, "height": None, "objects": []},
        ],
        info={"campaign_id": 3},
    )
    assert document["categories"] == [
        {"id": 1, "name": "Glass", "supercategory": ""},
        {"id": 2, "name": "Plastic", "supercategory": ""},
    ]
    assert document["annotations"][0]["bbox"] == [10, 5, 40, 35] and document["annotations"][0]["score"] == 0.87
    items = parse_coco(json.loads(json.dumps(document)), source="p.json", matcher=ImageMatcher(manifest))
    assert items == [
        {"image_id": 7, "objects": [{k: o[k] for k in ("label", "confidence", "bounding_box")} for o in objects]},
        {"image_id": 8, "objects": []},
    ]


# --- YOLO ------------------------------------------------------------------------------


def test_yolo_folder_with_classes_txt_uses_the_manifests_sizes(tmp_path, manifest):
    folder = tmp_path / "yolo"
    folder.mkdir()
    (folder / "classes.txt").write_text("Plastic\nWood\n")
    (folder / "7.txt").write_text("0 0.5 0.5 0.25 0.2\n1 0.1 0.1 0.2 0.2 0.75\n")
    (folder / "8.txt").write_text("")  # labeled, nothing found
    items = parse_yolo_folder(folder, ImageMatcher(manifest))
    assert items == [
        {
            "image_id": 7,
            "objects": [obj("Plastic", box(75, 125, 40, 60)), obj("Wood", box(0, 40, 0, 20), 0.75)],
        },
        {"image_id": 8, "objects": []},
    ]


def test_yolo_image_size_comes_from_the_pulled_file_when_the_server_did_not_know_it(tmp_path, manifest):
    folder = tmp_path / "yolo"
    folder.mkdir()
    (folder / "classes.txt").write_text("Plastic\n")
    (folder / "8.txt").write_text("0 0.5 0.5 1 1\n")
    assert parse_yolo_folder(folder, ImageMatcher(manifest)) == [
        {"image_id": 8, "objects": [obj("Plastic", box(0, 64, 0, 48))]}
    ]


def test_yolo_boxes_round_trip_with_labelhubs_yolo_export(tmp_path):
    """Random boxes written by the server's YOLO export come back as the same pixels."""
    rng = random.Random(7)
    folder = tmp_path / "pulled"
    folder.mkdir()
    manifest = Manifest(folder)
    labels_dir = tmp_path / "export" / "labels"
    labels_dir.mkdir(parents=True)
    labels = ["Plastic", 'a "quoted", label: #1', "Wood"]
    (tmp_path / "export" / "data.yaml").write_text(yolo_data_yaml(labels))
    expected = []
    for image_id in range(1, 40):
        width, height = rng.randint(1, 5000), rng.randint(1, 5000)
        manifest.put(Entry(image_id, f"{image_id}.png", 1, width, height))
        objects = []
        for _ in range(rng.randint(0, 4)):
            xmin, ymin = rng.randint(0, width), rng.randint(0, height)
            xmax, ymax = rng.randint(xmin, width), rng.randint(ymin, height)
            objects.append(ExportObject(rng.choice(labels), None, xmin, ymin, xmax, ymax))
        image = ExportImage(image_id, f"c/uploads/s/{image_id}.png", "PNG", width, height, True, objects)
        (labels_dir / f"{image_id}.txt").write_text(yolo_lines(image, {label: i for i, label in enumerate(labels)}))
        expected.append(
            {"image_id": image_id, "objects": [obj(o.label, box(o.xmin, o.xmax, o.ymin, o.ymax)) for o in objects]}
        )
    # The labels folder with data.yaml one level up, as the export's zip holds them.
    assert parse_yolo_folder(labels_dir, ImageMatcher(manifest)) == expected


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("nc: 2\nnames: ['Plastic', \"Wood, dry\"]  # two\n", ["Plastic", "Wood, dry"]),
        ("names:\n  - Plastic\n  - 'it''s'\n  - \"a\\u00e9\"\ntrain: x\n", ["Plastic", "it's", "aé"]),
        ("path: .\nnames:\n  0: person\n  1: bicycle\nnc: 2\n", ["person", "bicycle"]),
        ("names: {0: a, 1: b}\n", ["a", "b"]),
        ("names: []\n", []),
    ],
)
def test_data_yaml_names_forms(text, names):
    assert parse_yaml_names(text, "data.yaml") == names


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"7.txt": "0 0.5 0.5 0.1 0.1\n"}, "no classes.txt or data.yaml"),
        (
            {"classes.txt": "a\n", "7.txt": "1 0.5 0.5 0.1 0.1\n"},
            r"line 1: class 1 is not in .*classes.txt \(1 classes\)",
        ),
        ({"classes.txt": "a\n", "7.txt": "0 0.5 0.5 0.1\n"}, r"7.txt, line 1: expected '<class> <cx> <cy> <w> <h>"),
        ({"classes.txt": "a\n", "7.txt": "\n\n0 0.5 x 0.1 0.1\n"}, "7.txt, line 3: the box must be numbers"),
        ({"classes.txt": "a\n", "7.txt": "0 50 50 10 10\n"}, "fractions of the image size"),
        ({"classes.txt": "a\n", "cat.txt": "0 0.5 0.5 0.1 0.1\n"}, r"1 label file\(s\) match no campaign image: cat"),
        ({"classes.txt": "a\n", "9.txt": "0 0.5 0.5 0.1 0.1\n"}, "the size of image 9 is unknown"),
        ({"classes.txt": "a\n"}, r"no YOLO label files \(.txt\)"),
        ({"data.yaml": "nc: 1\n", "7.txt": ""}, "no 'names' list"),
    ],
)
def test_yolo_mistakes_are_named(tmp_path, manifest, files, message):
    folder = tmp_path / "yolo"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    with pytest.raises(FormatError, match=message):
        parse_yolo_folder(folder, ImageMatcher(manifest))


# --- detection, sizes, names -----------------------------------------------------------


def test_the_format_is_detected(tmp_path, manifest):
    (tmp_path / "a.json").write_text(json.dumps([{"image_id": 7, "objects": []}]))
    (tmp_path / "b.json").write_text(json.dumps(coco([{"id": 1, "file_name": "7.png"}], [])))
    (tmp_path / "c.json").write_text(json.dumps({"something": "else"}))
    matcher = ImageMatcher(manifest)
    assert read_labels(tmp_path / "a.json", matcher=matcher) == ("labelhub", [{"image_id": 7, "objects": []}])
    assert read_labels(tmp_path / "b.json", matcher=matcher) == ("coco", [{"image_id": 7, "objects": []}])
    with pytest.raises(FormatError, match="c.json: not a label file this command reads"):
        read_labels(tmp_path / "c.json", matcher=matcher)
    with pytest.raises(FormatError, match="labelhub JSON is a list"):
        read_labels(tmp_path / "b.json", fmt="labelhub", matcher=matcher)


def test_image_sizes_are_read_from_file_headers(tmp_path):
    cases = {
        "a.png": samples.png(31, 17),
        "b.jpg": samples.jpeg(64, 48),
        "c.jpg": samples.jpeg_large_exif(50, 70),
        "d.gif": samples.gif(33, 21),
        "e.webp": samples.encode(samples._image(20, 10), "WEBP"),
        "f.webp": samples.encode(samples._image(20, 10), "WEBP", lossless=True),
        "g.bmp": samples.encode(samples._image(5, 9), "BMP"),
    }
    sizes = {}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        sizes[name] = image_size(tmp_path / name)
    assert sizes == {
        "a.png": (31, 17),
        "b.jpg": (64, 48),
        "c.jpg": (50, 70),
        "d.gif": (33, 21),
        "e.webp": (20, 10),
        "f.webp": (20, 10),
        "g.bmp": (5, 9),
    }
    (tmp_path / "x.txt").write_text("not an image")
    assert image_size(tmp_path / "x.txt") is None and image_size(tmp_path / "missing.png") is None


@pytest.mark.parametrize(
    ("content_type", "url", "ext"),
    [
        ("image/jpeg", "http://h/files/token", "jpg"),
        ("image/png; charset=binary", "http://h/x.jpg", "png"),
        ("application/octet-stream", "https://acct.blob/c/uploads/set/photo%201.JPEG?sig=x", "jpeg"),
        (None, "http://h/files/token", "bin"),
        ("image/x-portable-pixmap", "http://h/files/token", "ppm"),
    ],
)
def test_the_extension_of_a_pulled_file(content_type, url, ext):
    assert extension_for(content_type, url) == ext


def test_a_manifest_round_trips_and_a_broken_one_is_named(tmp_path, manifest):
    again = Manifest.load(manifest.folder)
    assert again.as_dict() == manifest.as_dict() and again.campaign_id == 3
    assert again.complete(again.get(7)) and not again.complete(Entry(9, "9.png", 5))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{not json")
    from labelhub_client.cli.manifest import ManifestError

    with pytest.raises(ManifestError, match="manifest.json: not valid JSON"):
        Manifest.load(tmp_path / "broken")


# --- through the command line: bad files are exit 1, nothing sent ----------------------


@pytest.fixture
def cli_env(tmp_path, unused_port):
    """A client configured for a port nothing listens on: a command that sent anything would fail with exit 3."""
    return {
        "LABELHUB_URL": f"http://127.0.0.1:{unused_port}",
        "LABELHUB_KEY": "k" * 32,
        "LABELHUB_SECRET": "s3cr3t" * 6,
        "LABELHUB_CONFIG": str(tmp_path / "no-config.json"),
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON (line 1, column 2)"),
        (b"\xff\xfe\x00", "not UTF-8 text"),
        (
            b'[{"image_id": 1, "objects": [{"label": "a", '
            b'"bounding_box": {"xmin": 3, "xmax": 1, "ymin": 0, "ymax": 1}}]}]',
            "image 1, object 0: the bounding box has a minimum greater than its maximum",
        ),
        (
            b'{"images": [{"id": 1, "file_name": "holiday.png"}], "annotations": [], "categories": []}',
            "match no campaign image: holiday.png",
        ),
        (b'{"hello": 1}', "not a label file this command reads"),
    ],
)
def test_push_of_a_bad_file_is_exit_1_with_the_reason(tmp_path, cli_env, content, message):
    path = tmp_path / "labels.json"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["push", "3", str(path)], env=cli_env)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: {path}: ") and message in result.stderr


def test_push_of_a_missing_file_or_manifest_is_exit_1(tmp_path, cli_env):
    result = CliRunner().invoke(main, ["push", "3", str(tmp_path / "nope.json")], env=cli_env)
    assert (result.exit_code, result.stderr) == (1, f"Error: {tmp_path / 'nope.json'}: no such file or folder\n")
    (tmp_path / "l.json").write_text("[]")
    result = CliRunner().invoke(main, ["push", "3", str(tmp_path / "l.json"), "--manifest", str(tmp_path)], env=cli_env)
    assert result.exit_code == 1 and "manifest.json: no such file (run `labelhub pull`" in result.stderr


def test_push_refuses_a_manifest_of_another_campaign(tmp_path, cli_env, manifest):
    path = manifest.folder / "labels.json"
    path.write_text(json.dumps([{"image_id": 7, "objects": []}]))
    result = CliRunner().invoke(main, ["--json", "push", "4", str(path)], env=cli_env)
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["message"].endswith("lists the images of campaign 3, not of campaign 4")


def test_push_dry_run_reads_and_sends_nothing(tmp_path, cli_env, manifest):
    folder = manifest.folder / "yolo"
    folder.mkdir()
    (folder / "classes.txt").write_text("Plastic\n")
    (folder / "7.txt").write_text("0 0.5 0.5 0.5 0.5\n0 0.2 0.2 0.1 0.1\n")
    result = CliRunner().invoke(main, ["--json", "push", "3", str(folder), "--dry-run"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"campaign_id": 3, "format": "yolo", "images": 1, "objects": 2, "sent": False}


def test_bad_arguments_are_click_usage_errors_exit_2(cli_env, tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["pull", "three", str(tmp_path)], env=cli_env).exit_code == 2
    assert runner.invoke(main, ["push", "3", "x.json", "--format", "xml"], env=cli_env).exit_code == 2
    assert runner.invoke(main, ["campaigns", "add-images", "3"], env=cli_env).exit_code == 2
    assert runner.invoke(main, ["nope"], env=cli_env).exit_code == 2


def test_the_command_line_imports_nothing_of_django_or_the_server():
    code = (
        "import sys, labelhub_client.cli\n"
        "server = {'django', 'accounts', 'campaigns', 'core', 'imagesets', 'integrations', 'labelhub', 'webhooks',"
        " 'testing'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in server))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=60)
    assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr
