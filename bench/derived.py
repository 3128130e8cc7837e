"""Derived copies (thumbnails, display copies): what making one on first request costs, and the list's weight.

    .venv/bin/python bench/derived.py [--backend local|azure|both] [--runs 5] [--rows 25]

Camera-sized files (``imagesets/tests/photos.py``, photo-like content: structure
at every scale and grain) plus a 24-megapixel JPEG and a 1 MB one, stored on local storage
and on an Azurite the benchmark starts (``tools/azurite``, installed by ``make
test``), in a SQLite database of its own. For each file, on each backend:

- **probe**: what the finish job does per image (``imagesets.probe.probe``: a
  64 KiB ranged read, identify, EXIF), the median of ``--runs``;
- **cold thumbnail / cold display**: ``image_derived_ensure`` with no copy
  stored (read the whole original, decode, scale, turn, encode, write), the
  median of ``--runs`` (the copy is deleted between runs);
- **warm**: what the admin page does on a hit (``exists`` + a read URL), the
  median of 50.

Then, through the admin (Django's test client, a staff session): one
thumbnail page cold and warm with its queries, and a cold list page: the
``--rows`` thumbnail pages asked by 6 threads at once, as a browser asks
(``IMAGE_DERIVED_WORKERS`` = 2 make them), the wall time until every one
answered, and the same again warm. Last, the list page's weight: its HTML and
the 25 images its ``<img>`` load, the originals before and the thumbnails
now (the admin's CSS and JavaScript, about 380 KB on a first visit and cached
after it, are counted by ``imagesets/tests/test_browser_derived.py``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BROWSER_CONNECTIONS = 6  # what Chromium opens per host over HTTP/1.1


def setup_django(workdir: Path) -> None:
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
            "DJANGO_SETTINGS_MODULE": "labelhub.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "labelhub-bench-secret-key-not-for-production"),
            "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
            "DJANGO_Q_NAME": "bench-derived",
            "LOG_LEVEL": "WARNING",
            "MEDIA_ROOT": str(workdir / "media"),
            "CACHE_DIR": str(workdir / "cache"),
        }
    )
    for name in ("PROMETHEUS_MULTIPROC_DIR", "REDIS_URL", "STORAGE_BACKEND", "AZURE_STORAGE_CONNECTION_STRING"):
        os.environ.pop(name, None)
    import django

    django.setup()


def files() -> dict[str, bytes]:
    from imagesets.tests import photos

    made = dict(photos.camera_files())
    made["24mp.jpg"] = photos.encode(photos.photo(6000, 4000, seed=5), "JPEG", quality=90)
    # The size bench/ingest.py finishes 1,000 of (about 1 MB).
    made["1mb.jpg"] = photos.encode(photos.photo(1600, 1200, seed=6), "JPEG", quality=95)
    return made


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn, runs: int, before=None) -> list[float]:
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def use_backend(backend: str, azurite) -> None:
    from django.conf import settings

    settings.STORAGE_BACKEND = backend
    settings.AZURE_STORAGE_CONNECTION_STRING = azurite.connection_string if backend == "azure" else ""


def register(storage, data_by_name: dict[str, bytes], *, prefix: str, copies: int = 1):
    """Store each file ``copies`` times and register an image row for each; returns the rows."""
    from PIL import Image as PILImage

    from imagesets.models import Image, ImageSet

    imageset, _ = ImageSet.objects.get_or_create(title=f"bench-{prefix}", defaults={"status": "finished"})
    rows = []
    names = list(data_by_name)
    for n in range(copies * len(names)):
        name = names[n % len(names)]
        data = data_by_name[name]
        path = f"images/uploads/bench-{prefix}/{n:03d}-{name}"
        storage.write(path, [data], content_type="image/png" if name.endswith(".png") else "image/jpeg")
        with PILImage.open(BytesIO(data)) as im:
            width, height = im.size
        rows.append(
            Image.objects.create(
                imageset=imageset,
                blobstorage_path=path,
                filetype="PNG" if name.endswith(".png") else "JPEG",
                filesize=len(data),
                width=width,
                height=height,
                orientation=6 if "upright" in name else None,
            )
        )
    return rows


def per_file(backend: str, data_by_name: dict[str, bytes], runs: int) -> list[str]:
    from PIL import Image as PILImage

    from imagesets.derived import DISPLAY, THUMBNAIL, derived_path, derived_read_url, image_derived_ensure
    from imagesets.probe import probe
    from integrations.storage import get_storage

    storage = get_storage()
    lines = []
    stored = register(storage, data_by_name, prefix=f"{backend}-files")
    for image, (name, data) in zip(stored, data_by_name.items(), strict=True):
        with PILImage.open(BytesIO(data)) as im:
            size = f"{im.width}×{im.height}"
        probe_ms = median_ms(timed(lambda image=image: probe(storage, image.blobstorage_path, image.filesize), runs))
        cells = [name, size, f"{len(data) / 1e6:.1f} MB", f"{probe_ms:.2f} ms"]
        for kind in (THUMBNAIL, DISPLAY):
            path = derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=kind)
            cold = timed(
                lambda image=image, kind=kind: image_derived_ensure(image=image, kind=kind),
                runs,
                before=lambda path=path: storage.delete(path),
            )
            warm = timed(
                lambda image=image, kind=kind: derived_read_url(path=image_derived_ensure(image=image, kind=kind)), 50
            )
            cells += [f"{median_ms(cold):.0f} ms", f"{storage.size(path) / 1000:.1f} KB", f"{median_ms(warm):.2f} ms"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def through_the_admin(backend: str, data_by_name: dict[str, bytes], rows: int) -> list[str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.models import User
    from imagesets.derived import THUMBNAIL, derived_path
    from integrations.storage import get_storage

    storage = get_storage()
    staff, _ = User.objects.get_or_create(email="bench-staff@example.com", defaults={"is_staff": True})
    images = register(storage, data_by_name, prefix=f"{backend}-list", copies=-(-rows // len(data_by_name)))[:rows]
    client = Client()
    client.force_login(staff)
    lines = []

    one = images[0]
    url = reverse("admin:imagesets_image_thumbnail", args=[one.pk])
    for label in ("cold", "warm"):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            took = time.perf_counter() - started
        assert response.status_code == 302, response.status_code
        lines.append(
            f"- one thumbnail page ({one.blobstorage_path.rsplit('/', 1)[1]}), {label}: "
            f"{took * 1000:.0f} ms, {len(queries)} queries"
        )

    def list_page() -> float:
        urls = [reverse("admin:imagesets_image_thumbnail", args=[image.pk]) for image in images]
        failures = []

        def worker(mine: list[str]) -> None:
            own = Client()
            own.force_login(staff)
            for address in mine:
                status = own.get(address).status_code
                if status != 302:
                    failures.append((address, status))

        threads = [
            threading.Thread(target=worker, args=(urls[i::BROWSER_CONNECTIONS],)) for i in range(BROWSER_CONNECTIONS)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures, failures
        return time.perf_counter() - started

    cold = list_page()
    warm = list_page()
    lines.append(
        f"- a list page's {rows} thumbnail pages from {BROWSER_CONNECTIONS} threads: "
        f"cold {cold:.2f} s (every copy made), warm {warm * 1000:.0f} ms"
    )

    html = client.get(reverse("admin:imagesets_image_changelist") + f"?imageset__id__exact={images[0].imageset_id}")
    assert html.status_code == 200
    originals = sum(image.filesize for image in images)
    thumbnails = sum(
        storage.size(derived_path(image_id=i.pk, blobstorage_path=i.blobstorage_path, kind=THUMBNAIL)) for i in images
    )
    page = len(html.content)
    lines.append(
        f"- the list page of {rows} rows: HTML {page / 1000:.0f} KB; with the originals (before) "
        f"{(page + originals) / 1e6:.1f} MB, with the thumbnails (now) {(page + thumbnails) / 1000:.0f} KB "
        f"(thumbnails {thumbnails / 1000:.0f} KB, {thumbnails / rows / 1000:.1f} KB each)"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["local", "azure", "both"], default="both")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per file and kind (median)")
    parser.add_argument("--rows", type=int, default=25, help="rows of the list page")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="labelhub-bench-derived-"))
    setup_django(workdir)
    from django.conf import settings
    from django.core.management import call_command

    from testing.azurite import AZURITE_BIN, Azurite

    backends = ["local", "azure"] if args.backend == "both" else [args.backend]
    azurite = None
    try:
        if "azure" in backends:
            if not os.access(AZURITE_BIN, os.X_OK):
                print(f"Azurite is missing at {AZURITE_BIN}; `make test` installs it.", file=sys.stderr)
                return 2
            azurite = Azurite(workdir / "azurite").start()
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        data_by_name = files()
        print(
            f"{len(data_by_name)} files made in {time.perf_counter() - started:.1f} s; "
            f"thumbnail {settings.IMAGE_THUMBNAIL_SIZE} px, display {settings.IMAGE_DISPLAY_SIZE} px, "
            f"{settings.IMAGE_DERIVED_WORKERS} made at once; load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs",
            flush=True,
        )
        for backend in backends:
            use_backend(backend, azurite)
            print(f"\n### {backend}\n")
            print(
                "| file | pixels | size | finish job's probe | thumbnail cold | thumbnail | thumbnail warm "
                "| display cold | display | display warm |"
            )
            print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            for line in per_file(backend, data_by_name, args.runs):
                print(line, flush=True)
            print()
            for line in through_the_admin(backend, data_by_name, args.rows):
                print(line, flush=True)
    finally:
        if azurite is not None:
            azurite.stop()
        from django.db import connections

        connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
