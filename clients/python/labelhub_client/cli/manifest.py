"""``manifest.json``: what ``labelhub pull`` put in a folder, read again by ``push`` and ``predictions``.

One JSON object::

    {"campaign_id": 3,
     "images": [{"image_id": 17, "file": "17.jpg", "size": 48213, "width": 640, "height": 480,
                 "rejection": null | {"reason": "...", "reason_code": "missing-object", "date": "...Z"}}]}

An entry is written only for a file that was downloaded completely and verified
(its byte count equals the server's ``Content-Length``), so an entry whose file
still has ``size`` bytes needs no download. The file is replaced atomically
(written beside it, then renamed): an interrupted write never leaves half a manifest.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"


class ManifestError(Exception):
    """The manifest cannot be read: not JSON, or not the shape ``pull`` writes."""


@dataclass
class Entry:
    image_id: int
    file: str
    size: int
    width: int | None = None
    height: int | None = None
    rejection: dict | None = None

    def as_dict(self) -> dict:
        return {
            "image_id": self.image_id,
            "file": self.file,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "rejection": self.rejection,
        }


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class Manifest:
    folder: Path
    campaign_id: int | None = None
    entries: dict[int, Entry] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.folder / MANIFEST_NAME

    # --- reading ---------------------------------------------------------------

    @classmethod
    def load(cls, folder: str | os.PathLike, *, missing_ok: bool = True) -> Manifest:
        """The manifest of ``folder``; an empty one when there is none (unless ``missing_ok`` is false)."""
        folder = Path(folder)
        manifest = cls(folder)
        try:
            text = manifest.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if missing_ok:
                return manifest
            raise ManifestError(f"{manifest.path}: no such file (run `labelhub pull` into {folder} first)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{manifest.path}: cannot be read: {exc}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise ManifestError(f"{manifest.path}: not valid JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise ManifestError(f"{manifest.path}: not a labelhub pull manifest (an object with an 'images' list)")
        manifest.campaign_id = _int_or_none(data.get("campaign_id"))
        for position, item in enumerate(data["images"]):
            image_id = _int_or_none(item.get("image_id")) if isinstance(item, dict) else None
            file = item.get("file") if isinstance(item, dict) else None
            size = _int_or_none(item.get("size")) if isinstance(item, dict) else None
            if image_id is None or not isinstance(file, str) or not file or size is None:
                raise ManifestError(
                    f"{manifest.path}: images[{position}] needs an integer 'image_id', a 'file' and a 'size'"
                )
            rejection = item.get("rejection")
            manifest.entries[image_id] = Entry(
                image_id=image_id,
                file=file,
                size=size,
                width=_int_or_none(item.get("width")),
                height=_int_or_none(item.get("height")),
                rejection=rejection if isinstance(rejection, dict) else None,
            )
        return manifest

    def get(self, image_id: int) -> Entry | None:
        return self.entries.get(image_id)

    def by_file_name(self) -> dict[str, int]:
        """Image ids by file name (``17.jpg``) and by file name without its extension (``17``)."""
        names: dict[str, int] = {}
        for entry in self.entries.values():
            base = os.path.basename(entry.file)
            names[base] = entry.image_id
            names.setdefault(os.path.splitext(base)[0], entry.image_id)
        return names

    def complete(self, entry: Entry) -> bool:
        """Whether ``entry``'s file is in the folder with the size recorded when it was verified."""
        try:
            return (self.folder / entry.file).stat().st_size == entry.size
        except OSError:
            return False

    # --- writing ---------------------------------------------------------------

    def put(self, entry: Entry) -> None:
        self.entries[entry.image_id] = entry

    def as_dict(self) -> dict:
        return {
            "campaign_id": self.campaign_id,
            "images": [self.entries[image_id].as_dict() for image_id in sorted(self.entries)],
        }

    def save(self) -> None:
        """Write the manifest atomically (a temporary file in the folder, then a rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json_atomically(self.path, self.as_dict())


def write_json_atomically(path: Path, data: Any) -> None:
    """``data`` as indented JSON at ``path``: written to a temporary file beside it, then renamed over it."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=1, ensure_ascii=False)
            file.write("\n")
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; a manifest or export listing is no secret
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
