"""Finishing an image set: labelhub's job against the original service's method.

    .venv/bin/python bench/ingest.py [--images 1000] [--latency-ms 20] [--size-kb 1024] [--exif on|off]

Starts its own Azurite (tools/azurite, installed by `make test`), makes one
random-noise JPEG of about ``--size-kb`` (the quality is searched so the file
lands near that size) and uploads it ``--images`` times to a fresh image set's
dropbox with plain HTTP PUTs on the dropbox SAS URL, as any client does. Then
it finishes the set two ways on the same blobs:

- original: list the dropbox, copy every blob to its final place one after
  the other (waiting for each copy), then download every copy whole and open
  it with Pillow for its format and size (the original also inserted rows
  one by one; that is not counted here, which favours the original). Its
  copies are made with labelhub's own ``storage.copy`` (a same-account copy
  without a source SAS), so both methods pay the same price per copy;
- labelhub: the finish job itself (``imageset_finish_run``): parallel
  server-side copies, a 64 KiB ranged read per image, bulk inserts, dropbox
  deleted at the end.

Each runs once with no added latency and once with ``--latency-ms`` added to
every HTTP request, both through a small asyncio TCP proxy on 127.0.0.1 (a
cloud region is not loopback). Requests and bytes read are counted on the
storage backend's HTTP session (every response, retries included; bytes =
the bodies of blob downloads); the proxy counts requests and wire bytes
(headers and listings included) too. Azurite does everything itself,
including any check of a copy source it makes by requesting the source URL
from itself (through the proxy, since the URL names it): the proxy passes
those requests on undelayed and counts them apart (``internal``). A
same-account copy without a source SAS needs no such check, so the count is
normally 0 for both methods.

Goals printed at the end: at 0 ms labelhub at least as fast as the original
(it does strictly less work per image), at ``--latency-ms`` (20) at least
10x faster, and at most 64 KiB read per image.

The database defaults to a throwaway SQLite file (set DATABASE_URL to use
another; it is migrated).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_LATENCY_MS = 20  # the goal: at 20 ms, at least 10x faster than the original
GOAL_SPEEDUP_AT_LATENCY = 10.0
GOAL_SPEEDUP_AT_ZERO = 1.0  # and at 0 ms at least as fast
GOAL_MAX_BYTES_PER_IMAGE = 64 * 1024


# --- the latency proxy ---------------------------------------------------------


class LatencyProxy:
    """A TCP proxy on 127.0.0.1 that delays the first chunk of every HTTP request.

    A chunk from the client starts a request when the server has answered
    since the client last sent something (HTTP/1.1 without pipelining, as
    requests speaks it). Only that request waits; other connections go on.
    It runs in its own process (asyncio), so it does not compete with the
    measured code for the GIL; its counters live in shared memory.

    Azurite checks a copy source that needs it (one with a SAS, or in
    another account) by fetching the source URL itself, and that URL names
    this proxy. Requests that do not come from the Azure SDK (by User-Agent)
    are such checks: they are passed on like any other, but counted apart
    (``internal_requests``) and not delayed (they stand for work inside the
    service, not a client's round trip).
    """

    def __init__(self, target_host: str, target_port: int, latency: float):
        context = multiprocessing.get_context("spawn")
        self._counters = {
            name: context.Value("q", 0, lock=False) for name in ("requests", "bytes_from_server", "internal_requests")
        }
        self._ready, child_end = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_serve_proxy,
            args=(target_host, target_port, latency, self._counters, child_end),
            name="latency-proxy",
            daemon=True,
        )
        self.port: int | None = None

    def start(self) -> LatencyProxy:
        self._process.start()
        if not self._ready.poll(30):
            self._process.kill()
            raise RuntimeError("the latency proxy did not start")
        self.port = self._ready.recv()
        return self

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(timeout=10)

    def reset_counters(self) -> None:
        for counter in self._counters.values():
            counter.value = 0

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def requests(self) -> int:
        return self._counters["requests"].value

    @property
    def bytes_from_server(self) -> int:
        return self._counters["bytes_from_server"].value

    @property
    def internal_requests(self) -> int:
        return self._counters["internal_requests"].value


def _serve_proxy(target_host, target_port, latency, counters, ready) -> None:
    """The proxy process: serve until terminated."""
    requests, bytes_from_server, internal_requests = (
        counters["requests"],
        counters["bytes_from_server"],
        counters["internal_requests"],
    )

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        state = {"answered": True, "internal": False}

        async def client_to_server():
            try:
                while data := await client_reader.read(256 * 1024):
                    if state["answered"]:
                        state["answered"] = False
                        head = data[:16384]
                        state["internal"] = b"\r\nuser-agent: azsdk-python" not in head.lower()
                        if state["internal"]:
                            internal_requests.value += 1
                        else:
                            requests.value += 1
                            if latency:
                                await asyncio.sleep(latency)
                    server_writer.write(data)
                    await server_writer.drain()
            finally:
                server_writer.close()

        async def server_to_client():
            try:
                while data := await server_reader.read(256 * 1024):
                    if not state["internal"]:
                        bytes_from_server.value += len(data)
                    state["answered"] = True
                    client_writer.write(data)
                    await client_writer.drain()
            finally:
                client_writer.close()

        await asyncio.gather(client_to_server(), server_to_client(), return_exceptions=True)

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        ready.send(server.sockets[0].getsockname()[1])
        ready.close()
        await server.serve_forever()

    asyncio.run(main())


# --- counting on the backend's HTTP session ----------------------------------------


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system, all threads) of this process or of ``pid`` (Linux /proc)."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class cpu_meter:
    """CPU seconds spent inside the block by this process, Azurite and the proxy."""

    def __init__(self, azurite_pid: int, proxy_pid: int):
        self.pids = (None, azurite_pid, proxy_pid)
        self.used: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __enter__(self) -> cpu_meter:
        self._start = [cpu_seconds(pid) for pid in self.pids]
        return self

    def __exit__(self, *exc) -> None:
        self.used = tuple(cpu_seconds(pid) - start for pid, start in zip(self.pids, self._start, strict=False))


@dataclass
class HttpCount:
    requests: int = 0
    body_bytes: int = 0
    by_method: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, response, *args, **kwargs):
        method = response.request.method
        # Blob reads only (listings are in the proxy's wire bytes): a blob
        # download always carries Content-Length.
        reads_blob = method == "GET" and "comp=" not in (urlsplit(response.request.url).query or "")
        length = int(response.headers.get("Content-Length") or 0) if reads_blob else 0
        with self._lock:
            self.requests += 1
            self.body_bytes += length
            self.by_method[method] = self.by_method.get(method, 0) + 1


class counting:
    """Count every HTTP response the storage backend's session receives inside the block."""

    def __init__(self, storage):
        self.hooks = storage._session.hooks["response"]
        self.count = HttpCount()

    def __enter__(self) -> HttpCount:
        self.hooks.append(self.count.hook)
        return self.count

    def __exit__(self, *exc) -> None:
        self.hooks.remove(self.count.hook)


# --- test data --------------------------------------------------------------------


def camera_exif() -> bytes:
    """An EXIF block as a phone writes one (date taken with offset, GPS, orientation): the finish job reads it."""
    from PIL import ExifTags, Image
    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif.get_ifd(ExifTags.IFD.Exif).update(
        {ExifTags.Base.DateTimeOriginal: "2024:03:14 10:20:30", ExifTags.Base.OffsetTimeOriginal: "+01:00"}
    )
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (IFDRational(52), IFDRational(22), IFDRational(125, 10)),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (IFDRational(4), IFDRational(53), IFDRational(0)),
        }
    )
    return exif.tobytes()


def noise_jpeg(target_bytes: int, width: int = 1024, height: int = 768) -> tuple[bytes, int]:
    """A random-noise JPEG, with a camera's EXIF block, whose size is as close to ``target_bytes`` as a quality gets."""
    from PIL import Image

    exif = camera_exif()

    # Noise compresses badly: grow the picture until quality 95 overshoots.
    while True:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))

        def encode(quality: int, image=image) -> bytes:
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=quality, exif=exif)
            return out.getvalue()

        if len(encode(95)) >= target_bytes:
            break
        width, height = int(width * 1.25), int(height * 1.25)
    low, high = 1, 95
    best, best_quality = encode(high), high
    while low <= high:
        quality = (low + high) // 2
        data = encode(quality)
        if abs(len(data) - target_bytes) < abs(len(best) - target_bytes):
            best, best_quality = data, quality
        if len(data) < target_bytes:
            low = quality + 1
        else:
            high = quality - 1
    return best, best_quality


def upload(dropbox_url: str, names: list[str], data: bytes, workers: int) -> float:
    """PUT every file to the dropbox SAS URL like any client; returns seconds."""
    import requests
    from requests.adapters import HTTPAdapter

    parts = urlsplit(dropbox_url)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_maxsize=workers))

    def put(name: str) -> None:
        response = session.put(
            f"{base}/{quote(name)}?{parts.query}",
            data=data,
            headers={"x-ms-blob-type": "BlockBlob", "Content-Type": "image/jpeg"},
            timeout=60,
        )
        if response.status_code != 201:
            raise RuntimeError(f"upload of {name} answered {response.status_code}: {response.text[:200]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, names))
    return time.perf_counter() - started


# --- the two methods -------------------------------------------------------------------


def original_method(storage, dropbox: str, folder: str) -> list[tuple[str, str, int, int]]:
    """Sequential copy of every file, then a full download and a Pillow open per image."""
    from PIL import Image

    files = list(storage.list(dropbox))
    for stored in files:
        storage.copy(stored.path, f"{folder}/{stored.name}")
    found = []
    for stored in files:
        with storage.open(f"{folder}/{stored.name}") as f:
            data = f.read()
        with Image.open(io.BytesIO(data)) as image:
            found.append((stored.name, image.format, *image.size))
    return found


def labelhub_job(imageset_id: int):
    """The finish job's body, as the django-q2 task runs it (the status is already ``finished``)."""
    from imagesets.services import imageset_finish_run

    return imageset_finish_run(imageset_id=imageset_id)


# --- one scenario ------------------------------------------------------------------------


@dataclass
class Result:
    method: str
    latency_ms: float
    seconds: float
    requests: int
    body_bytes: int
    proxy_requests: int
    proxy_bytes: int
    internal_requests: int
    images: int
    cpu: tuple[float, float, float]  # CPU seconds: this process, Azurite, the proxy


def run_scenario(*, latency_ms: float, azurite, user, jpeg: bytes, count: int, workers: int) -> list[Result]:
    from django.conf import settings

    from imagesets.models import Image, ImageSet
    from imagesets.services import imageset_create, imageset_finish
    from integrations.storage import get_storage
    from testing.azurite import connection_string

    direct = azurite.connection_string
    settings.AZURE_STORAGE_CONNECTION_STRING = direct
    title = f"bench-{int(latency_ms)}ms-{uuid.uuid4().hex[:8]}"
    imageset = imageset_create(title=title, created_by=user)
    dropbox = imageset.blobstorage_path  # the dropbox container while the set is created
    names = [f"img-{i:05d}.jpg" for i in range(count)]
    upload_url = get_storage().dropbox_upload_url(dropbox, key=imageset.dropbox_key, valid_for=timedelta(hours=2))
    seconds = upload(upload_url, names, jpeg, workers)
    print(f"  uploaded {count} x {len(jpeg) / 1e6:.2f} MB to {dropbox} in {seconds:.1f} s (direct)", flush=True)

    # Both methods go through the proxy, also at 0 ms, so they pay the same overhead.
    proxy = LatencyProxy(azurite.host, azurite.port, latency_ms / 1000)
    proxy.start()
    settings.AZURE_STORAGE_CONNECTION_STRING = connection_string("127.0.0.1", proxy.port)
    storage = get_storage()
    results = []
    try:
        # The original's method first: it leaves the dropbox in place.
        original_folder = f"original-{title}/uploads/{title}"
        proxy.reset_counters()
        with counting(storage) as counted, cpu_meter(azurite.process.pid, proxy.pid) as cpu:
            started = time.perf_counter()
            found = original_method(storage, dropbox, original_folder)
            elapsed = time.perf_counter() - started
        assert len(found) == count and all(f[1] == "JPEG" for f in found), "the original method missed images"
        results.append(
            Result(
                "original",
                latency_ms,
                elapsed,
                counted.requests,
                counted.body_bytes,
                proxy.requests,
                proxy.bytes_from_server,
                proxy.internal_requests,
                len(found),
                cpu.used,
            )
        )
        print(f"  original: {elapsed:.1f} s, {dict(counted.by_method)}", flush=True)

        # PUT /image_sets/{id} finished: commit the status; the job is run here, not queued.
        imageset_finish(imageset_id=imageset.pk, queue=False)
        proxy.reset_counters()
        with counting(storage) as counted, cpu_meter(azurite.process.pid, proxy.pid) as cpu:
            started = time.perf_counter()
            job = labelhub_job(imageset.pk)
            elapsed = time.perf_counter() - started
        registered = Image.objects.filter(imageset=imageset).count()
        assert job.status == "succeeded", f"the job ended {job.status}: {job.error}"
        assert registered == count and not job.skipped, f"the job registered {registered} of {count}"
        assert not storage.dropbox_exists(dropbox), "the job left the dropbox behind"
        results.append(
            Result(
                "labelhub",
                latency_ms,
                elapsed,
                counted.requests,
                counted.body_bytes,
                proxy.requests,
                proxy.bytes_from_server,
                proxy.internal_requests,
                registered,
                cpu.used,
            )
        )
        print(f"  labelhub: {elapsed:.1f} s, {dict(counted.by_method)}", flush=True)
    finally:
        proxy.stop()
    # Free Azurite's disk for the next scenario (not measured).
    settings.AZURE_STORAGE_CONNECTION_STRING = direct
    get_storage().delete_dropbox(f"original-{title}")
    final_folder = ImageSet.objects.get(pk=imageset.pk).blobstorage_path
    for image in list(get_storage().list(final_folder + "/")):
        get_storage().delete(image.path)
    return results


# --- report ---------------------------------------------------------------------------------


def report(results: list[Result], count: int, jpeg_size: int) -> bool:
    print()
    print(
        f"{count} JPEGs of {jpeg_size:,} bytes; per image = total / {count}. "
        "req and KiB: counted on the backend's HTTP session (KiB = bodies of blob downloads); "
        "wire: counted by the proxy (response headers included); "
        "internal: Azurite's own copy-source checks; "
        "CPU s: CPU seconds of this process (the method) / Azurite / the proxy"
    )
    header = (
        f"{'latency':>8} {'method':>9} {'wall s':>8} {'img/s':>7} {'req/img':>8} {'KiB read/img':>13} "
        f"{'wire req/img':>13} {'wire KiB/img':>13} {'internal':>9} {'CPU s py/azurite/proxy':>23}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.latency_ms:>6.0f}ms {r.method:>9} {r.seconds:>8.2f} {count / r.seconds:>7.0f} "
            f"{r.requests / count:>8.2f} {r.body_bytes / count / 1024:>13.1f} "
            f"{r.proxy_requests / count:>13.2f} {r.proxy_bytes / count / 1024:>13.1f} {r.internal_requests:>9} "
            f"{'/'.join(f'{c:.1f}' for c in r.cpu):>23}"
        )
    print()
    ok = True
    for latency in sorted({r.latency_ms for r in results}):
        original = next(r for r in results if r.latency_ms == latency and r.method == "original")
        ours = next(r for r in results if r.latency_ms == latency and r.method == "labelhub")
        speedup = original.seconds / ours.seconds
        print(
            f"at {latency:.0f} ms: labelhub {speedup:.1f}x faster, "
            f"requests {ours.requests / original.requests:.2f}x the original's, "
            f"bytes read {original.body_bytes / max(ours.body_bytes, 1):.1f}x fewer"
        )
        goal = GOAL_SPEEDUP_AT_LATENCY if latency >= GOAL_LATENCY_MS else GOAL_SPEEDUP_AT_ZERO if latency == 0 else None
        if goal is not None:
            met = speedup >= goal
            ok &= met
            print(f"  goal at {latency:.0f} ms: at least {goal:g}x -> {'met' if met else 'MISSED'} ({speedup:.2f}x)")
        per_image = ours.body_bytes / count
        met = per_image <= GOAL_MAX_BYTES_PER_IMAGE
        ok &= met
        print(
            f"  goal: at most {GOAL_MAX_BYTES_PER_IMAGE // 1024} KiB read per image -> "
            f"{'met' if met else 'MISSED'} ({per_image / 1024:.1f} KiB)"
        )
        if ours.internal_requests or original.internal_requests:
            print(
                f"  Azurite checked copy sources itself: {original.internal_requests} requests for the original, "
                f"{ours.internal_requests} for labelhub"
            )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000, help="files in the set (default 1000)")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20.0,
        help="latency added per request in the second round (default 20; 0 = one round only)",
    )
    parser.add_argument("--size-kb", type=int, default=1024, help="target size of each JPEG (default 1024)")
    parser.add_argument(
        "--exif",
        choices=["on", "off"],
        default="on",
        help="off: the finish job skips reading the EXIF facts (the A/B of the EXIF step's cost; default on)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="labelhub-bench-ingest-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")

    from testing.azurite import AZURITE_BIN, Azurite

    if not os.access(AZURITE_BIN, os.X_OK):
        print(f"Azurite is missing at {AZURITE_BIN}; `make test` installs it.", file=sys.stderr)
        return 2
    azurite = Azurite(workdir / "azurite").start()
    try:
        os.environ["STORAGE_BACKEND"] = "azure"
        os.environ["AZURE_STORAGE_CONNECTION_STRING"] = azurite.connection_string
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        if args.exif == "off":
            from imagesets import exif, probe

            probe.read_facts = lambda im, data=None: exif.NO_FACTS

        from accounts.models import User

        call_command("migrate", verbosity=0)
        user, _ = User.objects.get_or_create(email="bench@example.com", defaults={"is_staff": True})
        workers = int(settings.IMAGESET_COPY_WORKERS)

        jpeg, quality = noise_jpeg(args.size_kb * 1024)
        print(
            f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
            f"Azurite on port {azurite.port}, {workers} copy workers, "
            f"JPEG {len(jpeg):,} bytes (noise, quality {quality}), EXIF facts {args.exif}, "
            f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )

        results = []
        for latency in sorted({0.0, args.latency_ms}):
            print(f"round at {latency:.0f} ms added latency per request", flush=True)
            results += run_scenario(
                latency_ms=latency, azurite=azurite, user=user, jpeg=jpeg, count=args.images, workers=workers
            )
        ok = report(results, args.images, len(jpeg))
        print(
            f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs "
            "(the job is CPU-bound against Azurite on this machine; other load slows it)"
        )
    finally:
        azurite.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
