"""Pulling a campaign's images: ``labelhub pull`` against a plain sequential loop of requests.

    .venv/bin/python bench/pull.py [--images 1000] [--size-kb 100] [--workers default,1] [--server postgres://postgres@127.0.0.1:5432 | sqlite]

Starts labelhub the way bench/load.py does (``python manage.py serve`` on a
free port: gunicorn threaded workers plus the django-q2 clusters, the Redis
broker at ``--redis`` or, with ``--redis ''``, the ORM broker, local storage in
a temporary ``MEDIA_ROOT``) on its own database ``labelhub_bench_pull`` on
``--server``, which it creates at start (``serve`` migrates it) and drops at
the end, or with ``--server sqlite`` on a SQLite file in the temporary folder.
No other database is touched; only 127.0.0.1 traffic. The server's sizes are
the environment's (``WEB_WORKERS``, ``WEB_THREADS``, ...), their defaults
unless set.

Setup, through the API with the first-run admin key ``serve`` prints: an image
set, ``--images`` distinct PNGs of about ``--size-kb`` KiB each (random pixels,
so they do not compress: the size is the file's) uploaded to its dropbox by 4
threads, the set finished and its job waited for, a campaign for an agency's
e-mail (its key is the answer's ``access_token``) with the set's images, active.

Then, as the agency, each into a folder of its own:

- ``labelhub pull CAMPAIGN DIR`` as a subprocess (``LABELHUB_URL``,
  ``LABELHUB_KEY``, ``LABELHUB_SECRET`` in its environment), once for each of
  ``--workers`` (``default``: no ``--workers`` option, the CLI's default);
- ``requests``, sequentially, on one ``requests.Session`` (keep-alive): the
  campaign's pages (``GET /api/v1/campaigns/{id}/images``, the server's 1000 a
  page, following ``pagination.next``), then for each image ``GET
  /api/v1/images/{id}`` (``303``, not followed) and ``GET <Location>`` (the
  file, without the key: the URL's token is its credential), written to
  ``<id>.<ext>``;
- ``labelhub pull CAMPAIGN DIR`` again on the first pull's complete folder
  (resume: nothing left to download).

Each run's wall time includes, for the CLI, its interpreter's start-up (the
time of ``labelhub --version`` is printed for scale). Requests are counted on
the server side: every request labelhub answers logs one ``labelhub.request``
line (``labelhub/middleware.py``: method, path with tokens hidden, status),
the file reads of local storage (``GET /api/v1/files/<token>``) included, and
a run's requests are the lines the log gained while it ran (the line is
written before the answer is sent, so none arrives late). Client CPU is the
CLI process's (``getrusage(RUSAGE_CHILDREN)``) or, for the loop, this
process's; server CPU is ``serve``'s process tree's (``psutil``).

Every folder is then checked: exactly ``--images`` files besides
``manifest.json`` (no ``*.part`` left), each with the size and SHA-256 of one
uploaded image, all different; for the pulls, ``manifest.json`` lists every
image with its file's size. The resume run must leave every file untouched
(same size and mtime). Prints a markdown table for bench/README.md; exits 1 if
a run failed or a check did not pass.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import mimetypes
import os
import random
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from benchdb import database_url, drop_database, recreate_database

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "labelhub_bench_pull"
API = "/api/v1"
START_TIMEOUT = 90.0
FINISH_TIMEOUT = 600.0
UPLOAD_THREADS = 4
MANIFEST = "manifest.json"
# The request line labelhub.middleware logs (LOG_FORMAT=plain): "<time> INFO labelhub.request GET /path 200 1.2ms ...".
REQUEST_LINE = re.compile(r" labelhub\.request (\S+) (\S+) (\d{3}) [\d.]+ms ")
KINDS = (
    ("list", re.compile(rf"GET {API}/campaigns/\d+/images$")),
    ("image", re.compile(rf"GET {API}/images/\d+$")),
    ("file", re.compile(rf"GET {API}/files/")),
)
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}


# --- the images ------------------------------------------------------------------


def png(width: int, height: int, rng: random.Random) -> bytes:
    """An RGB PNG of random pixels, stored uncompressed (random pixels would not compress anyway)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\0" + rng.randbytes(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")


def image_bytes(index: int, size_kb: float, seed: int) -> bytes:
    """Image ``index``: a 4:3 PNG of about ``size_kb`` KiB, a few rows more or less than its neighbours."""
    target = max(64, int(size_kb * 1024))
    width = max(4, round(math.sqrt(target / 3 * 4 / 3)))
    height = max(3, target // (3 * width + 1) + index % 7 - 3)
    return png(width, height, random.Random(seed * 1_000_003 + index))


# --- the server ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(db_url: str, media_root: str, metrics_dir: str, redis_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_ML_", "LABELHUB_"))}
    env.pop("DATABASE_TEST_NAME", None)
    env.update(
        {
            "DATABASE_URL": db_url,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": env.get("DJANGO_SECRET_KEY") or f"labelhub-bench-pull-{uuid.uuid4().hex}",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_Q_SYNC": "0",
            "DJANGO_Q_NAME": f"labelhub-bench-pull-{uuid.uuid4().hex[:8]}",
            "REDIS_URL": redis_url,
            "STORAGE_BACKEND": "local",
            "MEDIA_ROOT": media_root,
            "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
            # The request lines are what the requests are counted from.
            "LOG_FORMAT": "plain",
            "LOG_LEVEL": "INFO",
        }
    )
    return env


class Server:
    """``python manage.py serve 127.0.0.1:<port>`` in its own process group; its output goes to a log file."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", f"127.0.0.1:{self.port}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_ready(self) -> dict:
        """Waits for /healthz; returns the first-run admin's API headers, parsed from serve's output."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}:\n{self.log_tail()}")
            with suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start in {START_TIMEOUT:.0f} s:\n{self.log_tail()}")
            time.sleep(0.3)
        match = re.search(r"API headers: (\{.*\})", self.log_path.read_text(errors="replace"))
        if match is None:
            raise RuntimeError(f"serve printed no first-run admin key:\n{self.log_tail()}")
        return json.loads(match.group(1))

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def requests_since(self, offset: int) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request line the log gained after byte ``offset``."""
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return [(m[1], m[2], int(m[3])) for m in REQUEST_LINE.finditer(text)]

    def cpu_seconds(self) -> float:
        try:
            import psutil
        except ImportError:
            return float("nan")
        total = 0.0
        with suppress(psutil.Error):
            root = psutil.Process(self.process.pid)
            for process in [root, *root.children(recursive=True)]:
                with suppress(psutil.Error):
                    times = process.cpu_times()
                    total += times.user + times.system
        return total

    def stop(self) -> float | None:
        self.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            self.process.wait(timeout=20)
            return time.monotonic() - started
        except subprocess.TimeoutExpired:
            return None
        finally:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


# --- setup -----------------------------------------------------------------------


def api(session: requests.Session, method: str, url: str, headers: dict, payload=None, expect: int = 200):
    response = session.request(
        method, url, json=payload, headers={**headers, "Accept": "application/json"}, allow_redirects=False
    )
    if response.status_code != expect:
        raise RuntimeError(f"{method} {url}: expected {expect}, got {response.status_code}: {response.text[:300]}")
    return response.json() if response.content else None


def set_up(server: Server, admin: dict, args) -> dict:
    """The image set uploaded and finished, the campaign active; returns its id, the agency key and the files' digests."""
    base = server.url + API
    tag = uuid.uuid4().hex[:6]
    http = requests.Session()

    created = api(http, "POST", f"{base}/image_sets", admin, {"title": f"bench-pull-{tag}"})
    imageset_id = created["imageset_id"]
    dropbox = urlsplit(created["dropbox_url"])
    local = threading.local()

    def upload(index: int) -> tuple[str, int]:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        data = image_bytes(index, args.size_kb, args.seed)
        url = f"{server.url}{dropbox.path}/img-{index:06}.png?{dropbox.query}"
        response = local.session.put(url, data=data, headers={"Content-Type": "image/png"})
        if response.status_code != 201:
            raise RuntimeError(f"upload {index}: {response.status_code} {response.text[:300]}")
        return hashlib.sha256(data).hexdigest(), len(data)

    started = time.monotonic()
    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        digests = dict(pool.map(upload, range(args.images)))
    if len(digests) != args.images:
        raise RuntimeError(f"{args.images - len(digests)} images are not distinct")
    uploaded = time.monotonic() - started

    api(http, "PUT", f"{base}/image_sets/{imageset_id}", admin, {"new_status": "finished"})
    deadline = time.monotonic() + FINISH_TIMEOUT
    while True:
        job = api(http, "GET", f"{base}/image_sets/{imageset_id}", admin).get("job") or {}
        if job.get("status") == "succeeded":
            break
        if job.get("status") == "failed" or time.monotonic() > deadline:
            raise RuntimeError(f"the finish job did not succeed: {job}")
        time.sleep(0.3)
    image_ids, page = [], 1
    while page:
        listing = api(http, "GET", f"{base}/image_sets/{imageset_id}/images?per_page=1000&page={page}", admin)
        image_ids += [image["image_id"] for image in listing["images"]]
        page = listing["pagination"]["next"]
    if len(image_ids) != args.images:
        raise RuntimeError(f"{len(image_ids)} images registered, {args.images} uploaded")

    campaign = api(
        http,
        "POST",
        f"{base}/campaigns",
        admin,
        {"title": f"bench-pull-{tag}", "labeler_email": f"agency-{tag}@example.com"},
    )
    campaign_id = campaign["campaign_id"]
    api(http, "POST", f"{base}/campaigns/{campaign_id}/images", admin, [{"id": i} for i in image_ids])
    api(http, "PUT", f"{base}/campaigns/{campaign_id}", admin, {"new_status": "active"})
    http.close()
    return {
        "campaign_id": campaign_id,
        "key": campaign["access_token"]["apikey"],
        "secret": campaign["access_token"]["apisecret"],
        "digests": digests,
        "bytes": sum(digests.values()),
        "upload_seconds": uploaded,
        "setup_seconds": time.monotonic() - started,
    }


# --- the runs --------------------------------------------------------------------


@dataclass
class Run:
    name: str
    folder: Path
    seconds: float = float("nan")
    client_cpu: float = float("nan")
    server_cpu: float = float("nan")
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    error: str | None = None
    checks: list[tuple[str, bool]] = field(default_factory=list)
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and all(ok for _, ok in self.checks)

    def by_kind(self) -> Counter:
        kinds: Counter = Counter()
        for method, path, _ in self.requests:
            line = f"{method} {path}"
            kind = next((name for name, pattern in KINDS if pattern.match(line)), None)
            kinds[kind or re.sub(r"/\d+", "/{id}", line)] += 1
        return kinds

    def statuses(self) -> Counter:
        return Counter(status for _, _, status in self.requests)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def labelhub_command(args) -> list[str]:
    if args.labelhub:
        return [args.labelhub]
    beside = Path(sys.executable).parent / "labelhub"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("labelhub")
    if found is None:
        raise SystemExit("no labelhub command: install clients/python (make setup) or give --labelhub")
    return [found]


def cli_env(server: Server, setup: dict, workdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELHUB_")}
    env.update(
        {
            "LABELHUB_URL": server.url,
            "LABELHUB_KEY": setup["key"],
            "LABELHUB_SECRET": setup["secret"],
            # Never the user's own config file.
            "LABELHUB_CONFIG": str(workdir / "no-config.json"),
        }
    )
    return env


def run_pull(name: str, server: Server, setup: dict, folder: Path, workers: str, args, env: dict) -> Run:
    run = Run(name, folder)
    command = [*labelhub_command(args), "pull", str(setup["campaign_id"]), str(folder)]
    if workers != "default":
        command += ["--workers", workers]
    offset, server_cpu, cpu = server.log_size(), server.cpu_seconds(), children_cpu()
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    run.seconds = time.perf_counter() - started
    run.client_cpu = children_cpu() - cpu
    run.server_cpu = server.cpu_seconds() - server_cpu
    run.requests = server.requests_since(offset)
    run.output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        run.error = f"`{' '.join(command[1:])}` exited with {result.returncode}: {run.output[-1500:]}"
    return run


def run_loop(server: Server, setup: dict, folder: Path) -> Run:
    """The plain sequential loop: list the pages, then per image its 303 and the file."""
    run = Run("requests loop (sequential)", folder)
    folder.mkdir(parents=True)
    key = {"Authentication-Key": setup["key"], "Authentication-Secret": setup["secret"]}
    base = server.url + API
    offset, server_cpu, cpu = server.log_size(), server.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    try:
        with requests.Session() as http:
            image_ids, page = [], 1
            while page:
                response = http.get(
                    f"{base}/campaigns/{setup['campaign_id']}/images", params={"page": page}, headers=key
                )
                response.raise_for_status()
                listing = response.json()
                image_ids += [image["image_id"] for image in listing["images"]]
                page = listing["pagination"]["next"]
            for image_id in image_ids:
                response = http.get(f"{base}/images/{image_id}", headers=key, allow_redirects=False)
                if response.status_code != 303:
                    raise RuntimeError(f"GET /images/{image_id}: {response.status_code} {response.text[:200]}")
                response = http.get(urljoin(response.url, response.headers["Location"]))
                response.raise_for_status()
                content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
                ext = EXTENSIONS.get(content_type) or (mimetypes.guess_extension(content_type) or ".bin").lstrip(".")
                (folder / f"{image_id}.{ext}").write_bytes(response.content)
    except (requests.RequestException, RuntimeError, KeyError, ValueError) as exc:
        run.error = f"the loop failed: {exc!r}"
    run.seconds = time.perf_counter() - started
    run.client_cpu = time.process_time() - cpu
    run.server_cpu = server.cpu_seconds() - server_cpu
    run.requests = server.requests_since(offset)
    return run


def files_of(folder: Path) -> dict[str, tuple[int, int]]:
    """Name -> (size, mtime_ns) of the folder's files, ``manifest.json`` and hidden files aside."""
    if not folder.is_dir():
        return {}
    return {
        path.name: (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.iterdir()
        if path.is_file() and path.name != MANIFEST and not path.name.startswith(".")
    }


def check_folder(run: Run, setup: dict, *, manifest: bool) -> None:
    digests: dict[str, int] = setup["digests"]
    files = files_of(run.folder)
    parts = [name for name in files if name.endswith(".part")]
    files = {name: stat for name, stat in files.items() if not name.endswith(".part")}
    seen, wrong = set(), []
    for name, (size, _) in files.items():
        digest = hashlib.sha256((run.folder / name).read_bytes()).hexdigest()
        if digests.get(digest) != size or digest in seen:
            wrong.append(name)
        seen.add(digest)
    run.checks.append((f"{len(files)} files of {len(digests)}", len(files) == len(digests)))
    run.checks.append((f"{len(files) - len(wrong)} match an upload's size and SHA-256, all distinct", not wrong))
    if parts:
        run.checks.append((f"{len(parts)} *.part file(s) left", False))
    if manifest:
        try:
            entries = json.loads((run.folder / MANIFEST).read_text())["images"]
            bad = [e for e in entries if files.get(e["file"], (None,))[0] != e["size"]]
            run.checks.append(
                (
                    f"manifest.json: {len(entries)} entries, {len(entries) - len(bad)} with their file's size",
                    len(entries) == len(digests) and not bad,
                )
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            run.checks.append((f"manifest.json unreadable: {exc!r}", False))


# --- the report ------------------------------------------------------------------


def fmt(value: float, spec: str = ".2f") -> str:
    return "–" if value != value else format(value, spec)  # NaN (no psutil, a failed run)


def report(args, setup: dict, runs: list[Run], startup: float, database: str) -> None:
    images = args.images
    size_kb = setup["bytes"] / images / 1024
    print()
    print(
        f"{images:,} PNGs x {size_kb:,.0f} KiB ({setup['bytes'] / 2**20:,.0f} MiB), local storage, {database}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; `labelhub --version` takes {startup:.2f} s"
    )
    print()
    print(
        "| run | wall time | images/s | MiB/s | requests | requests / image | CPU: client / server | checks |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    for run in runs:
        no_rate = run.name.endswith("(resume)") or run.error is not None
        rate = images / run.seconds if run.seconds > 0 else float("nan")
        print(
            f"| {run.name} | {run.seconds:.2f} s | {'–' if no_rate else fmt(rate, ',.0f')} | "
            f"{'–' if no_rate else fmt(setup['bytes'] / 2**20 / run.seconds, ',.1f')} | {len(run.requests):,} | "
            f"{len(run.requests) / images:.3f} | {fmt(run.client_cpu, '.1f')} s / {fmt(run.server_cpu, '.1f')} s | "
            f"{'ok' if run.ok else 'FAILED'} |"
        )
    print()
    for run in runs:
        kinds = ", ".join(f"{kind} {n:,}" for kind, n in run.by_kind().most_common())
        statuses = ", ".join(f"{status}: {n:,}" for status, n in sorted(run.statuses().items()))
        print(f"{run.name}: {kinds or 'no requests'} (statuses {statuses or '-'})")
        for text, ok in run.checks:
            print(f"  {'ok  ' if ok else 'FAIL'} {text}")
        if run.error:
            print(f"  FAIL {run.error}")
    loop = next((run for run in runs if run.name.startswith("requests loop")), None)
    if loop is not None and loop.ok:
        for run in runs:
            if run is not loop and run.ok and not run.name.endswith("(resume)"):
                print(f"{run.name}: {loop.seconds / run.seconds:.2f}x the loop's speed")


def parse_workers(text: str) -> list[str]:
    values = [part.strip() for part in text.split(",") if part.strip()]
    for value in values:
        if value != "default" and not (value.isdigit() and 1 <= int(value) <= 64):
            raise SystemExit(f"--workers: {value!r} is neither 'default' nor 1..64")
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--size-kb", type=float, default=100.0, help="KiB per image, about")
    parser.add_argument(
        "--workers",
        default="default,1",
        help="the pulls' --workers, comma-separated ('default': the CLI's own default); the first is no_rate",
    )
    parser.add_argument("--no-loop", action="store_true", help="skip the requests loop")
    parser.add_argument("--no-resume", action="store_true", help="skip the second pull into the complete folder")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name, or 'sqlite'",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="the job broker; '' for the ORM broker")
    parser.add_argument("--labelhub", help="the labelhub command (default: beside this Python, else on PATH)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (log, media, pulled files)")
    args = parser.parse_args()
    if not 1 <= args.images <= 100_000 or not 0 < args.size_kb <= 50_000:
        raise SystemExit("--images 1..100000, --size-kb up to 50000")
    workers = parse_workers(args.workers)
    sqlite = args.server == "sqlite"
    for address in ([] if sqlite else [args.server]) + ([args.redis] if args.redis else []):
        if urlsplit(address).hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit(f"{address}: only 127.0.0.1 is used")
    labelhub = labelhub_command(args)

    workdir = Path(tempfile.mkdtemp(prefix="labelhub-bench-pull-"))
    if sqlite:
        db_url, database = f"sqlite:///{workdir / 'bench.sqlite3'}", "SQLite"
    else:
        db_url, database = database_url(args.server.rstrip("/"), DB_NAME), "PostgreSQL"
        recreate_database(db_url)
    database += ", Redis broker" if args.redis else ", ORM broker"
    env = server_env(db_url, str(workdir / "media"), str(workdir / "prometheus"), args.redis)
    server = None
    ok = False
    try:
        server = Server(env, workdir / "serve.log")
        print(f"serve on {server.url}, {database}, log {server.log_path}", flush=True)
        admin = server.wait_ready()
        setup = set_up(server, admin, args)
        print(
            f"setup: {args.images} images ({setup['bytes'] / 2**20:.0f} MiB) uploaded in {setup['upload_seconds']:.1f} s, "
            f"finished, campaign {setup['campaign_id']} active ({setup['setup_seconds']:.1f} s)",
            flush=True,
        )
        client_env = cli_env(server, setup, workdir)
        started = time.perf_counter()
        version = subprocess.run([*labelhub, "--version"], env=client_env, capture_output=True, text=True)
        startup = time.perf_counter() - started
        if version.returncode != 0:
            print(f"labelhub --version exited with {version.returncode}: {version.stderr[-500:]}", file=sys.stderr)

        runs: list[Run] = []
        for value in workers:
            name = "`labelhub pull`" + ("" if value == "default" else f" `--workers {value}`")
            folder = workdir / f"pull-{value}"
            print(f"{name} ...", flush=True)
            run = run_pull(name, server, setup, folder, value, args, client_env)
            check_folder(run, setup, manifest=True)
            runs.append(run)
        if not args.no_loop:
            print("requests loop ...", flush=True)
            run = run_loop(server, setup, workdir / "loop")
            check_folder(run, setup, manifest=False)
            runs.append(run)
        if workers and not args.no_resume and runs[0].error is not None:
            print("no resume run: the first pull failed", flush=True)
        elif workers and not args.no_resume:
            first = runs[0]
            name = first.name + " again (resume)"
            print(f"{name} ...", flush=True)
            before = files_of(first.folder)
            run = run_pull(name, server, setup, first.folder, workers[0], args, client_env)
            check_folder(run, setup, manifest=True)
            after = files_of(first.folder)
            touched = sum(after.get(name) != stat for name, stat in before.items()) + len(set(after) - set(before))
            run.checks.append((f"{touched} files written again", touched == 0))
            runs.append(run)

        report(args, setup, runs, startup, database)
        ok = all(run.ok for run in runs)
        errors = [
            line
            for line in server.log_path.read_text(errors="replace").splitlines()
            if " ERROR " in line or "Traceback" in line
        ]
        if errors:
            print(f"\nthe server logged {len(errors)} error line(s), e.g.: {errors[0][:300]}")
    finally:
        if server is not None:
            stopped = server.stop()
            print(
                "serve did not stop within 20 s after SIGTERM; killed"
                if stopped is None
                else f"serve stopped {stopped:.1f} s after SIGTERM"
            )
        if not sqlite:
            drop_database(db_url)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
