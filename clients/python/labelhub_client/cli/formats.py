"""Label files read by ``labelhub push`` and written by ``labelhub predictions``.

Three formats are read, all into the body of ``PUT /campaigns/{id}/objects``
(``[{"image_id": int, "objects": [{"label", "confidence", "bounding_box": {xmin, xmax, ymin, ymax}}]}]``):

- **labelhub JSON**: that body as is (checked here first, so a mistake is named before anything is sent).
- **COCO** (one JSON object with ``images``, ``annotations``, ``categories``): boxes are
  ``[x, y, width, height]`` in pixels, rounded to whole pixels as labelhub's own COCO import
  does (``xmin = round(x)``, ``xmax = round(x + width)``); an annotation's ``score`` becomes
  its confidence. Every listed image counts as labeled, with its annotations or none
  (labelhub's COCO export lists the labeled images only).
- **YOLO** (a folder of ``.txt`` files, one per image, plus ``classes.txt`` or a
  ``data.yaml`` ``names`` list): lines ``<class> <cx> <cy> <w> <h> [<confidence>]``, the
  box centre and size as fractions of the image size; the pixel box is
  ``round(cx * W - w * W / 2)`` .. ``round(cx * W + w * W / 2)`` (labelhub's YOLO export
  writes its fractions so that this gives the stored pixels back). An empty file means
  "labeled, nothing found". The image size comes from the pull manifest, else from the
  image file's header.

Images are named by file: a file name that ``labelhub pull`` wrote (``17.jpg``, listed in
its ``manifest.json``), or any name whose stem is the image id (``17.png``, ``17.txt``).
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from labelhub_client.cli.manifest import Manifest

LABELHUB = "labelhub"
COCO = "coco"
YOLO = "yolo"
FORMATS = (LABELHUB, COCO, YOLO)

LABEL_MAX_LENGTH = 128
# How many unmatched names or problems one error message lists.
LISTED = 10
# A label file larger than this is no label file (refused before it is read whole).
MAX_JSON_BYTES = 512 * 1024 * 1024

IMAGE_EXTENSIONS = frozenset(
    "jpg jpeg jpe jfif png gif bmp dib tif tiff webp ico ppm pgm pbm pnm tga jp2 j2k jpx mpo".split()
)
YOLO_CLASS_FILES = ("classes.txt", "obj.names")
YOLO_YAML_FILES = ("data.yaml", "data.yml", "dataset.yaml", "dataset.yml")


class FormatError(Exception):
    """A label file that cannot be read or does not fit: the message says which file and where."""


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:LISTED])
    return shown + (f" and {len(items) - LISTED} more" if len(items) > LISTED else "")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --- objects, checked as the server checks them ------------------------------------


def check_object(raw: Any, *, where: str, size: tuple[int, int] | None = None) -> dict:
    """One NewObject, checked like ``PUT .../objects`` checks it (``where`` names it in the error).

    Integral floats in a box (``12.0``) become integers, as the server reads them.
    """
    if not isinstance(raw, dict):
        raise FormatError(f"{where}: expected an object with 'label' and 'bounding_box'")
    label = raw.get("label")
    if not isinstance(label, str) or not 1 <= len(label) <= LABEL_MAX_LENGTH or "\x00" in label:
        raise FormatError(f"{where}: 'label' must be a string of 1-{LABEL_MAX_LENGTH} characters")
    translated = raw.get("label_translated")
    if translated is not None and (not isinstance(translated, str) or not 1 <= len(translated) <= LABEL_MAX_LENGTH):
        raise FormatError(f"{where}: 'label_translated' must be null or a string of 1-{LABEL_MAX_LENGTH} characters")
    confidence = raw.get("confidence")
    if confidence is not None and not (_is_number(confidence) and 0 <= confidence <= 1):
        raise FormatError(f"{where}: 'confidence' must be null or a number between 0 and 1")
    box = raw.get("bounding_box")
    if not isinstance(box, dict):
        raise FormatError(f"{where}: 'bounding_box' must be an object with xmin, xmax, ymin and ymax")
    checked = {}
    for name in ("xmin", "xmax", "ymin", "ymax"):
        value = box.get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not _is_int(value) or value < 0:
            raise FormatError(f"{where}: 'bounding_box.{name}' must be a non-negative integer, got {value!r}")
        checked[name] = value
    if checked["xmin"] > checked["xmax"] or checked["ymin"] > checked["ymax"]:
        raise FormatError(f"{where}: the bounding box has a minimum greater than its maximum ({_box_text(checked)})")
    if size is not None:
        width, height = size
        if checked["xmax"] > width or checked["ymax"] > height:
            raise FormatError(
                f"{where}: the bounding box {_box_text(checked)} lies outside the image ({width}x{height})"
            )
    out = {**raw, "bounding_box": checked}
    return out


def _box_text(box: dict) -> str:
    return f"x {box['xmin']}..{box['xmax']}, y {box['ymin']}..{box['ymax']}"


def _check_items(items: list[dict], source: str) -> list[dict]:
    seen: set[int] = set()
    for item in items:
        if item["image_id"] in seen:
            raise FormatError(f"{source}: image {item['image_id']} is listed more than once")
        seen.add(item["image_id"])
    return items


# --- matching file names to image ids ------------------------------------------------


class ImageMatcher:
    """Campaign image ids by file name: the pull manifest's names, else a stem that is the id."""

    def __init__(self, manifest: Manifest | None = None):
        self.manifest = manifest
        self._names = manifest.by_file_name() if manifest else {}

    def image_id(self, name: str) -> int | None:
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        if base in self._names:
            return self._names[base]
        stem = os.path.splitext(base)[0]
        if stem in self._names:
            return self._names[stem]
        if stem.isascii() and stem.isdigit() and 0 < int(stem) < 2**63:
            return int(stem)
        return None

    def size(self, image_id: int) -> tuple[int, int] | None:
        """``(width, height)`` from the manifest, else read from the pulled file's header; None when unknown."""
        if self.manifest is None:
            return None
        entry = self.manifest.get(image_id)
        if entry is None:
            return None
        if entry.width and entry.height:
            return entry.width, entry.height
        return image_size(self.manifest.folder / entry.file)


# --- reading -------------------------------------------------------------------------


def load_json(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise FormatError(f"{path}: larger than {MAX_JSON_BYTES // 2**20} MiB")
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a folder, not a JSON file") from None
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise FormatError(f"{path}: not valid JSON{where}") from None


def detect_format(path: Path, data: Any = None) -> str:
    """``yolo`` for a folder; for a JSON document: ``labelhub`` (a list) or ``coco`` (an object with ``images``)."""
    if path.is_dir():
        return YOLO
    if isinstance(data, list):
        return LABELHUB
    if isinstance(data, dict) and "images" in data and ("annotations" in data or "categories" in data):
        return COCO
    raise FormatError(
        f"{path}: not a label file this command reads: expected labelhub JSON (a list of "
        '{"image_id", "objects"}), a COCO file (an object with "images", "annotations" and '
        '"categories") or a folder of YOLO .txt files'
    )


def read_labels(path: str | os.PathLike, *, fmt: str = "auto", matcher: ImageMatcher, coco_ids: bool = False):
    """``(format, items)``: the file or folder at ``path`` as the body of ``PUT /campaigns/{id}/objects``."""
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path}: no such file or folder")
    if fmt == YOLO or (fmt == "auto" and path.is_dir()):
        return YOLO, parse_yolo_folder(path, matcher)
    data = load_json(path)
    if fmt == "auto":
        fmt = detect_format(path, data)
    if fmt == LABELHUB:
        return LABELHUB, parse_labelhub(data, source=str(path), matcher=matcher)
    if fmt == COCO:
        return COCO, parse_coco(data, source=str(path), matcher=matcher, coco_ids=coco_ids)
    raise FormatError(f"unknown format {fmt!r}")


def parse_labelhub(data: Any, *, source: str, matcher: ImageMatcher | None = None) -> list[dict]:
    """labelhub's own JSON: the body of ``PUT /campaigns/{id}/objects``, checked item by item."""
    if not isinstance(data, list):
        raise FormatError(f'{source}: labelhub JSON is a list of {{"image_id": <id>, "objects": [...]}}')
    items = []
    for position, item in enumerate(data):
        if not isinstance(item, dict):
            raise FormatError(f'{source}: item {position}: expected {{"image_id": <id>, "objects": [...]}}')
        image_id = item.get("image_id")
        if not _is_int(image_id) or image_id < 1:
            raise FormatError(f"{source}: item {position}: 'image_id' must be a positive integer")
        objects = item.get("objects")
        if not isinstance(objects, list):
            raise FormatError(f"{source}: image {image_id}: 'objects' must be a list")
        size = matcher.size(image_id) if matcher else None
        checked = [
            check_object(obj, where=f"{source}: image {image_id}, object {index}", size=size)
            for index, obj in enumerate(objects)
        ]
        items.append({**item, "objects": checked})
    return _check_items(items, source)


def _coco_list(data: dict, key: str, source: str, *, default: list | None = None) -> list[dict]:
    value = data.get(key, default)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise FormatError(f"{source}: the COCO file's '{key}' must be a list of objects")
    return value


def parse_coco(data: Any, *, source: str, matcher: ImageMatcher, coco_ids: bool = False) -> list[dict]:
    """A COCO object detection file; ``coco_ids``: its image ids are labelhub image ids (as labelhub exports them)."""
    if not isinstance(data, dict):
        raise FormatError(f"{source}: a COCO file is a JSON object with 'images', 'annotations' and 'categories'")
    images = _coco_list(data, "images", source)
    annotations = _coco_list(data, "annotations", source, default=[])
    categories = _coco_list(data, "categories", source)
    names: dict[int, str] = {}
    for position, category in enumerate(categories):
        category_id, name = category.get("id"), category.get("name")
        if not _is_int(category_id):
            raise FormatError(f"{source}: categories[{position}]: 'id' must be an integer")
        if not isinstance(name, str) or not name:
            raise FormatError(f"{source}: category {category_id} has no 'name'")
        if category_id in names:
            raise FormatError(f"{source}: category {category_id} is listed more than once")
        names[category_id] = name
    by_coco_id: dict[int, dict] = {}
    unmatched: list[str] = []
    for position, image in enumerate(images):
        coco_id, file_name = image.get("id"), image.get("file_name")
        if not _is_int(coco_id):
            raise FormatError(f"{source}: images[{position}]: 'id' must be an integer")
        if coco_id in by_coco_id:
            raise FormatError(f"{source}: image {coco_id} is listed more than once")
        if coco_ids:
            image_id = coco_id
        else:
            if not isinstance(file_name, str) or not file_name:
                raise FormatError(f"{source}: image {coco_id} has no 'file_name'")
            image_id = matcher.image_id(file_name)
            if image_id is None:
                unmatched.append(file_name)
                continue
        width, height = image.get("width"), image.get("height")
        size = (width, height) if _is_int(width) and _is_int(height) and width > 0 and height > 0 else None
        size = size or matcher.size(image_id)
        by_coco_id[coco_id] = {"image_id": image_id, "objects": [], "_size": size}
    if unmatched:
        raise FormatError(
            f"{source}: {len(unmatched)} image file name(s) match no campaign image: {_listed(unmatched)} "
            "(name images as `labelhub pull` does, <image id>.<ext>, keep its manifest.json beside the file or "
            "pass --manifest DIR, or use --coco-ids when the COCO image ids are labelhub image ids)"
        )
    seen_annotations: set[int] = set()
    for position, annotation in enumerate(annotations):
        annotation_id = annotation.get("id")
        where = f"{source}: annotation {annotation_id if _is_int(annotation_id) else '#' + str(position)}"
        if _is_int(annotation_id):
            if annotation_id in seen_annotations:
                raise FormatError(f"{where} is listed more than once")
            seen_annotations.add(annotation_id)
        coco_image_id, category_id = annotation.get("image_id"), annotation.get("category_id")
        if not (_is_int(coco_image_id) and _is_int(category_id)):
            raise FormatError(f"{where}: 'image_id' and 'category_id' must be integers")
        target = by_coco_id.get(coco_image_id)
        if target is None:
            raise FormatError(f"{where} names image {coco_image_id}, which is not in the file's 'images'")
        if category_id not in names:
            raise FormatError(f"{where} has an unknown category {category_id}")
        bbox = annotation.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(_is_number(v) for v in bbox)):
            raise FormatError(f"{where}: 'bbox' must be [x, y, width, height] (numbers)")
        x, y, w, h = bbox
        if w < 0 or h < 0:
            raise FormatError(f"{where}: 'bbox' has a negative width or height")
        obj = {
            "label": names[category_id],
            "confidence": annotation.get("score"),
            "bounding_box": {"xmin": round(x), "xmax": round(x + w), "ymin": round(y), "ymax": round(y + h)},
        }
        index = len(target["objects"])
        where = f"{source}: image {target['image_id']}, object {index} (annotation {annotation_id})"
        target["objects"].append(check_object(obj, where=where, size=target["_size"]))
    items = [{"image_id": t["image_id"], "objects": t["objects"]} for t in by_coco_id.values()]
    return _check_items(items, source)


# --- YOLO ----------------------------------------------------------------------------

_YAML_NAMES = re.compile(r"^names\s*:\s*(.*?)\s*$")
_YAML_KEY = re.compile(r"^[A-Za-z_][\w.-]*\s*:")


def _yaml_scalar(text: str, source: str) -> str:
    """A YAML scalar as YOLO files hold them: "double" (JSON escapes), 'single' ('' is a quote) or plain."""
    text = text.strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            raise FormatError(f"{source}: cannot read the class name {text}") from None
        if not isinstance(value, str):
            raise FormatError(f"{source}: cannot read the class name {text}")
        return value
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            raise FormatError(f"{source}: cannot read the class name {text}")
        return text[1:-1].replace("''", "'")
    return re.sub(r"\s+#.*$", "", text)  # a plain scalar ends before a comment


def _split_flow_list(text: str, source: str) -> list[str]:
    """``[a, "b, c", 'd']`` as its items."""
    inner = text.strip()[1:-1]
    items, current, quote = [], "", None
    index = 0
    while index < len(inner):
        char = inner[index]
        if quote:
            current += char
            if char == "\\" and quote == '"' and index + 1 < len(inner):
                current += inner[index + 1]
                index += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
            current += char
        elif char == ",":
            items.append(current)
            current = ""
        else:
            current += char
        index += 1
    if quote:
        raise FormatError(f"{source}: unterminated quote in 'names'")
    if current.strip():
        items.append(current)
    return [_yaml_scalar(item, source) for item in items]


def parse_yaml_names(text: str, source: str) -> list[str]:
    """The ``names`` of a YOLO ``data.yaml``: a flow list, a block list, or a block mapping ``0: name``."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = _YAML_NAMES.match(line)
        if not match:
            continue
        rest = re.sub(r"\s+#.*$", "", match.group(1)) if not match.group(1).startswith(("'", '"')) else match.group(1)
        if rest.startswith("["):
            if not rest.endswith("]"):
                raise FormatError(f"{source}: 'names' must be a list on one line, or one '- name' per line")
            return _split_flow_list(rest, source)
        if rest.startswith("{"):
            if not rest.endswith("}"):
                raise FormatError(f"{source}: cannot read 'names'")
            pairs = _split_flow_list("[" + rest[1:-1] + "]", source)
            return _indexed_names([pair.split(":", 1) for pair in pairs], source)
        if rest:
            raise FormatError(f"{source}: 'names' must be a list of class names")
        names: list[str] = []
        indexed: list[list[str]] = []
        for item in lines[number + 1 :]:
            if not item.strip() or item.lstrip().startswith("#"):
                continue
            if not item[0].isspace() and not item.startswith("-"):
                break  # the next top-level key
            stripped = item.strip()
            if stripped.startswith("- ") or stripped == "-":
                names.append(_yaml_scalar(stripped[1:], source))
            elif ":" in stripped:
                indexed.append(stripped.split(":", 1))
            else:
                raise FormatError(f"{source}: cannot read the 'names' line {stripped!r}")
        if names and indexed:
            raise FormatError(f"{source}: 'names' mixes a list and a mapping")
        return names if names else _indexed_names(indexed, source)
    raise FormatError(f"{source}: no 'names' list")


def _indexed_names(pairs: list[list[str]], source: str) -> list[str]:
    by_index: dict[int, str] = {}
    for pair in pairs:
        if len(pair) != 2 or not pair[0].strip().isdigit():
            raise FormatError(f"{source}: 'names' entries must be '<class index>: <name>'")
        by_index[int(pair[0].strip())] = _yaml_scalar(pair[1], source)
    if sorted(by_index) != list(range(len(by_index))):
        raise FormatError(f"{source}: the class indexes of 'names' must be 0..{len(by_index) - 1}")
    return [by_index[index] for index in range(len(by_index))]


def read_yolo_classes(folder: Path) -> tuple[list[str], Path]:
    """The class names of a YOLO folder: ``classes.txt`` (one per line) or a ``data.yaml`` here or one level up."""
    for where in (folder, folder.parent):
        for name in YOLO_CLASS_FILES:
            path = where / name
            if path.is_file():
                text = _read_text(path)
                names = [line.strip() for line in text.splitlines()]
                while names and not names[-1]:
                    names.pop()
                if not names or any(not name for name in names):
                    raise FormatError(f"{path}: one class name per line, none empty")
                return names, path
        for name in YOLO_YAML_FILES:
            path = where / name
            if path.is_file():
                names = parse_yaml_names(_read_text(path), str(path))
                if not names or any(not name for name in names):
                    raise FormatError(f"{path}: 'names' must list the class names, none empty")
                return names, path
    raise FormatError(
        f"{folder}: no classes.txt or data.yaml (with a 'names' list) in the folder or its parent: "
        "the class names are needed to read YOLO labels"
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def yolo_label_files(folder: Path) -> list[Path]:
    """The ``.txt`` label files under ``folder`` (not the class list, not hidden files), in name order."""
    files = []
    for path in sorted(folder.rglob("*.txt")):
        relative = path.relative_to(folder)
        if path.name in YOLO_CLASS_FILES or any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file():
            files.append(path)
    return files


def yolo_box(cx: float, cy: float, w: float, h: float, width: int, height: int) -> dict[str, int]:
    """A YOLO box (fractions) in whole pixels, kept inside the image."""

    def clamp(value: float, limit: int) -> int:
        return min(max(round(value), 0), limit)

    return {
        "xmin": clamp(cx * width - w * width / 2, width),
        "xmax": clamp(cx * width + w * width / 2, width),
        "ymin": clamp(cy * height - h * height / 2, height),
        "ymax": clamp(cy * height + h * height / 2, height),
    }


def parse_yolo_folder(folder: Path, matcher: ImageMatcher) -> list[dict]:
    """A folder of YOLO label files (``labels/`` inside it is searched too) with its class names."""
    if not folder.is_dir():
        raise FormatError(f"{folder}: YOLO labels are read from a folder of .txt files")
    classes, classes_path = read_yolo_classes(folder)
    files = yolo_label_files(folder)
    if not files:
        raise FormatError(f"{folder}: no YOLO label files (.txt) in the folder")
    items: list[dict] = []
    unmatched: list[str] = []
    by_image: dict[int, Path] = {}
    for path in files:
        relative = path.relative_to(folder).as_posix()
        image_id = matcher.image_id(path.name)
        if image_id is None:
            unmatched.append(relative)
            continue
        if image_id in by_image:
            raise FormatError(
                f"{folder}: {by_image[image_id].relative_to(folder)} and {relative} are both labels of image {image_id}"
            )
        by_image[image_id] = path
    if unmatched:
        raise FormatError(
            f"{folder}: {len(unmatched)} label file(s) match no campaign image: {_listed(unmatched)} "
            "(name them after the pulled images, <image id>.txt, with the pull's manifest.json in the folder "
            "or given by --manifest DIR)"
        )
    for image_id, path in sorted(by_image.items()):
        items.append({"image_id": image_id, "objects": _yolo_objects(path, image_id, classes, classes_path, matcher)})
    return _check_items(items, str(folder))


def _yolo_objects(
    path: Path, image_id: int, classes: list[str], classes_path: Path, matcher: ImageMatcher
) -> list[dict]:
    lines = [(n, line.split()) for n, line in enumerate(_read_text(path).splitlines(), start=1) if line.strip()]
    if not lines:
        return []
    size = matcher.size(image_id)
    if size is None:
        raise FormatError(
            f"{path}: the size of image {image_id} is unknown, and YOLO boxes are fractions of it: "
            "pull the images first (`labelhub pull`) and give their folder with --manifest DIR"
        )
    width, height = size
    objects = []
    for number, fields in lines:
        where = f"{path}, line {number}"
        if len(fields) not in (5, 6):
            raise FormatError(f"{where}: expected '<class> <cx> <cy> <w> <h> [<confidence>]'")
        if not fields[0].isdigit():
            raise FormatError(f"{where}: the class must be an index into {classes_path.name}, got {fields[0]!r}")
        class_index = int(fields[0])
        if class_index >= len(classes):
            raise FormatError(f"{where}: class {class_index} is not in {classes_path} ({len(classes)} classes)")
        try:
            values = [float(field) for field in fields[1:]]
        except ValueError:
            raise FormatError(f"{where}: the box must be numbers") from None
        if not all(math.isfinite(v) for v in values):
            raise FormatError(f"{where}: the box must be finite numbers")
        cx, cy, w, h = values[:4]
        if w < 0 or h < 0 or not (-0.01 <= cx <= 1.01 and -0.01 <= cy <= 1.01 and w <= 1.02 and h <= 1.02):
            raise FormatError(
                f"{where}: YOLO boxes are fractions of the image size (0..1), got {' '.join(fields[1:5])}"
            )
        confidence = values[4] if len(values) == 5 else None
        if confidence is not None and not 0 <= confidence <= 1:
            raise FormatError(f"{where}: the confidence must be between 0 and 1")
        obj = {
            "label": classes[class_index],
            "confidence": confidence,
            "bounding_box": yolo_box(cx, cy, w, h, width, height),
        }
        objects.append(check_object(obj, where=where, size=size))
    return objects


# --- writing COCO --------------------------------------------------------------------


def to_coco(images: Iterable[dict], *, info: dict | None = None) -> dict:
    """A COCO document of ``images``: each ``{"image_id", "file_name", "width", "height", "objects"}``.

    Objects are as the API returns them (``label``, ``confidence``, ``bounding_box``). Like
    labelhub's COCO export: image ids are labelhub image ids, categories are the labels in
    sorted order with ids 1..n, boxes ``[x, y, width, height]`` in pixels, the confidence as ``score``.
    """
    images = list(images)
    labels = sorted({obj["label"] for image in images for obj in image["objects"]})
    category_ids = {label: index for index, label in enumerate(labels, start=1)}
    coco_images, annotations = [], []
    for image in images:
        coco_images.append(
            {
                "id": image["image_id"],
                "file_name": image["file_name"],
                "width": image.get("width"),
                "height": image.get("height"),
            }
        )
        for obj in image["objects"]:
            box = obj["bounding_box"]
            w, h = box["xmax"] - box["xmin"], box["ymax"] - box["ymin"]
            annotations.append(
                {
                    "id": obj.get("object_id") or len(annotations) + 1,
                    "image_id": image["image_id"],
                    "category_id": category_ids[obj["label"]],
                    "bbox": [box["xmin"], box["ymin"], w, h],
                    "area": w * h,
                    "iscrowd": 0,
                    "segmentation": [],
                    "score": obj.get("confidence"),
                }
            )
    document: dict[str, Any] = {}
    if info is not None:
        document["info"] = info
    document.update(
        images=coco_images,
        annotations=annotations,
        categories=[{"id": i, "name": label, "supercategory": ""} for label, i in category_ids.items()],
    )
    return document


# --- image size from a file's header -------------------------------------------------


def image_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """``(width, height)`` of a PNG, GIF, BMP, WebP or JPEG file from its first bytes; None when not known.

    The file's own size, as labelhub records it (an EXIF orientation does not swap it).
    """
    try:
        with open(path, "rb") as file:
            head = file.read(32)
            if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
                return struct.unpack(">II", head[16:24])
            if head[:6] in (b"GIF87a", b"GIF89a"):
                return struct.unpack("<HH", head[6:10])
            if head.startswith(b"BM") and len(head) >= 26:
                width, height = struct.unpack("<ii", head[18:26])
                return abs(width), abs(height)
            if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
                return _webp_size(head)
            if head.startswith(b"\xff\xd8"):
                file.seek(2)
                return _jpeg_size(file)
    except (OSError, struct.error):
        return None
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(file) -> tuple[int, int] | None:
    while True:
        byte = file.read(1)
        while byte and byte != b"\xff":
            byte = file.read(1)
        while byte == b"\xff":
            byte = file.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue
        if marker == 0xD9:
            return None
        length = struct.unpack(">H", file.read(2))[0]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">xHH", file.read(5))
            return width, height
        file.seek(length - 2, os.SEEK_CUR)
