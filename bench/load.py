"""Load: N concurrent clients for a fixed time against ``manage.py serve`` on PostgreSQL.

    .venv/bin/python bench/load.py [--clients 64] [--duration 30] [--server postgres://postgres@127.0.0.1:5432]

Starts labelhub the way docs/configuration.md runs it (``python manage.py serve``:
gunicorn threaded workers plus the django-q2 cluster, Redis broker at
``--redis``, local storage in a temporary ``MEDIA_ROOT``) on its own database
``labelhub_bench_load``, which it creates at start (``serve`` migrates it) and
drops at the end; no other database is touched. Only 127.0.0.1 traffic. The
server's sizes are the environment's (``WEB_WORKERS``, ``WEB_THREADS``,
``DJANGO_Q_WORKERS``, ``DATABASE_POOL_MAX_SIZE``, ...), their defaults unless set.

Setup, all through the API with the first-run admin key ``serve`` prints: an
image set of ``--images`` small PNGs uploaded to its dropbox and finished (the
finish job registers them), a campaign over them, active, with its agency key
(one image is never labeled, so the campaign stays active), and a second set
left ``created`` whose dropbox takes the uploads.

Then ``--clients`` threads (keep-alive ``http.client`` connections, one per
thread) send, for ``--duration`` seconds or ``--max-requests`` requests, a
weighted random mix (``--mix``, default ``list=3,fetch=4,submit=2,upload=1``):

- ``list``: an agency's ``GET /campaigns/{id}/images?per_page=50&page=<random>``;
- ``fetch``: an agency's ``GET /images/{id}`` (``303``), then ``GET <Location>``
  (the file, ``200``), timed as ``image`` and ``file``;
- ``submit``: an agency's ``PUT /campaigns/{id}/objects``, 3 images x 5 boxes;
- ``upload``: ``PUT <dropbox_url path>/<name>?<query>`` with a PNG as raw body.

Every request's status is checked against the expected one. A thread polls
``pg_stat_activity`` every 100 ms from its own connection (to the ``postgres``
database) for the connections to ``labelhub_bench_load`` and keeps the peak,
attributing each connection to its server process (``psutil``: client port ->
process) so the web workers' share can be held against their pools.

Afterwards, on the quiet server, sequentially on one keep-alive connection and
alternating: ``GET /campaigns/{id}/images?per_page=1`` with the agency key
and without any key (the ``401``), ``--ratio-samples`` of each; the ratio of
the medians. Then the same requests again in two blocks, to print the CPU
each costs (gunicorn worker, PostgreSQL backends, this client; ``psutil``),
which depends far less than latency on what else the machine runs.

Goals: zero 5xx (connection errors count too); the peak number of
PostgreSQL connections never above the configured total; authenticated /
unauthenticated median at most 3x. The configured total is what the pools
allow: every server process that uses the database has its own psycopg pool
of at most ``DATABASE_POOL_MAX_SIZE`` connections, so (``connection_shares``)

    total = (WEB_WORKERS + DJANGO_Q_WORKERS + WEBHOOKS_WORKERS + 5) x DATABASE_POOL_MAX_SIZE

the 5 being the two clusters' (jobs, webhook deliveries) sentinels and
monitors and the ``serve`` process; with the defaults (2 + 2 + 2 + 5) x 4 =
44, of which the web workers' share is 2 x 4 = 8. With ``psutil`` each kind of process is also held to its own share.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter, defaultdict
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "labelhub_bench_load"
API = "/api/v1"
START_TIMEOUT = 90.0
GOAL_RATIO = 3.0
IMAGE_SIZE = (48, 36)  # pixels; random RGB, so about 5 KB per PNG
EXPECTED = {"list": 200, "image": 303, "file": 200, "submit": 200, "upload": 201}
# Outcomes that are no HTTP status.
NOT_HTTP = {0: "connection error", -1: "Location not on 127.0.0.1", -2: "wrong file content"}


# --- a PNG without Pillow ----------------------------------------------------------


def png(width: int, height: int, rng: random.Random) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\0" + rng.randbytes(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


# --- HTTP ------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection to the server; reconnects when the server closed it."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.connects = 0

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """Returns (status, headers, body, seconds); status 0 for a connection error."""
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Length"] = str(len(body))
        started = time.perf_counter()
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                self.connects += 1
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                # A keep-alive connection the server closed meanwhile: once more on a fresh one.
                if reused and attempt == 1:
                    started = time.perf_counter()
                    continue
                return 0, {}, repr(exc).encode(), time.perf_counter() - started
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                return 0, {}, repr(exc).encode(), time.perf_counter() - started
            seconds = time.perf_counter() - started
            if response.will_close:
                self.close()
            return response.status, dict(response.getheaders()), data, seconds
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, payload=None, headers: dict | None = None, expect: int = 200):
        body = None if payload is None else json.dumps(payload).encode()
        headers = {**(headers or {}), "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        status, _, data, _ = self.request(method, path, body, headers)
        if status != expect:
            raise RuntimeError(f"{method} {path}: expected {expect}, got {status}: {data[:300]!r}")
        return json.loads(data) if data else None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --- the database ----------------------------------------------------------------


def admin_connection(server: str):
    import psycopg

    return psycopg.connect(f"{server}/postgres", autocommit=True)


def recreate_database(server: str, *, drop_only: bool = False) -> None:
    with admin_connection(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


class ConnectionMonitor(threading.Thread):
    """Polls pg_stat_activity; keeps the peak of the database's connections, in total and by process role."""

    def __init__(self, server: str, roles, interval: float = 0.1):
        super().__init__(name="pg-monitor", daemon=True)
        self.server = server
        self.roles = roles  # callable: client port -> (role, pid)
        self.interval = interval
        self.stop_event = threading.Event()
        self.samples = 0
        self.peak = 0
        self.peak_at = 0.0
        self.peak_active = 0
        self.peak_by_role: Counter = Counter()
        self.peak_per_process: dict[str, int] = {}
        self.backends: set[int] = set()
        self.error: str | None = None
        self.started_at = time.monotonic()

    def run(self) -> None:
        try:
            with admin_connection(self.server) as conn:
                while not self.stop_event.is_set():
                    rows = conn.execute(
                        "SELECT pid, client_port, state FROM pg_stat_activity WHERE datname = %s", (DB_NAME,)
                    ).fetchall()
                    self.samples += 1
                    self.backends.update(pid for pid, _, _ in rows)
                    if len(rows) > self.peak:
                        self.peak, self.peak_at = len(rows), time.monotonic() - self.started_at
                    self.peak_active = max(self.peak_active, sum(state == "active" for _, _, state in rows))
                    by_role: Counter = Counter()
                    by_process: Counter = Counter()
                    for _, port, _ in rows:
                        role, pid = self.roles(port)
                        by_role[role] += 1
                        by_process[f"{role}:{pid}"] += 1
                    for role, count in by_role.items():
                        self.peak_by_role[role] = max(self.peak_by_role[role], count)
                    for key, count in by_process.items():
                        self.peak_per_process[key] = max(self.peak_per_process.get(key, 0), count)
                    self.stop_event.wait(self.interval)
        except Exception as exc:  # noqa: BLE001 - reported, and the goal then fails
            self.error = repr(exc)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=5)


class ProcessRoles:
    """Client port of a PostgreSQL connection -> (role, pid) of the ``serve`` process holding it."""

    def __init__(self, serve_pid: int, pg_port: int, log_path: Path):
        self.serve_pid = serve_pid
        self.pg_port = pg_port
        self.log_path = log_path
        self.cluster_roles: dict[int, str] = {}
        # A connection socket open in several processes (inherited across a fork).
        self.shared: dict[int, set[str]] = {}
        self.by_port: dict[int, tuple[str, int]] = {}
        self.lock = threading.Lock()
        try:
            import psutil
        except ImportError:
            self.psutil = None
        else:
            self.psutil = psutil

    def role_of(self, process) -> str:
        if process.pid == self.serve_pid:
            return "serve"
        cmdline = " ".join(process.cmdline())
        parent = process.parent()
        if "gunicorn" in cmdline:
            return "web" if parent is not None and "gunicorn" in " ".join(parent.cmdline()) else "gunicorn-master"
        if "qcluster" in cmdline and parent is not None and parent.pid == self.serve_pid:
            return "qcluster"
        if process.pid in self.cluster_roles:
            return self.cluster_roles[process.pid]
        return "sentinel" if process.children() else "cluster-other"

    def refresh(self) -> None:
        if self.psutil is None:
            return
        by_port = {}
        # django-q2 names its processes' pids in its start-up lines.
        log = self.log_path.read_text(errors="replace")
        for pattern, role in (
            (r"ready for work at (\d+)", "worker"),
            (r"monitoring at (\d+)", "monitor"),
            (r"pushing tasks at (\d+)", "pusher"),
        ):
            for pid in re.findall(pattern, log):
                self.cluster_roles[int(pid)] = role
        try:
            processes = [self.psutil.Process(self.serve_pid)]
            processes += processes[0].children(recursive=True)
        except self.psutil.Error:
            return
        for process in processes:
            with suppress(self.psutil.Error):
                role = self.role_of(process)
                for conn in process.net_connections(kind="tcp"):
                    if conn.raddr and conn.raddr.port == self.pg_port:
                        port = conn.laddr.port
                        if port in by_port and by_port[port][1] != process.pid:
                            self.shared.setdefault(port, set()).update(
                                {f"{by_port[port][0]}:{by_port[port][1]}", f"{role}:{process.pid}"}
                            )
                        by_port[port] = (role, process.pid)
        with self.lock:
            self.by_port.update(by_port)

    def __call__(self, port) -> tuple[str, int]:
        if port is None or port < 0:
            return "unix-socket", 0
        with self.lock:
            known = self.by_port.get(port)
        if known is None:
            self.refresh()
            with self.lock:
                known = self.by_port.get(port, ("other", 0))
        return known


# --- the server ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(server: str, media_root: str, metrics_dir: str, redis_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_ML_")}
    env.pop("DATABASE_TEST_NAME", None)
    env.update(
        {
            "DATABASE_URL": f"{server}/{DB_NAME}",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": env.get("DJANGO_SECRET_KEY") or f"labelhub-bench-load-{uuid.uuid4().hex}",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_Q_SYNC": "0",
            "DJANGO_Q_NAME": f"labelhub-bench-load-{uuid.uuid4().hex[:8]}",
            "REDIS_URL": redis_url,
            "STORAGE_BACKEND": "local",
            "MEDIA_ROOT": media_root,
            "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        }
    )
    return env


def connection_shares(config: dict) -> dict[str, int]:
    """The connections each kind of server process may hold: its number of processes x its pool's max_size.

    Every process that uses the database has its own psycopg pool (one per
    process, capped at DATABASE_POOL_MAX_SIZE): the gunicorn workers, the
    django-q2 workers of both clusters (jobs, webhook deliveries), each
    cluster's sentinel (its scheduler reads the schedules every 30 s) and
    monitor (it saves task results), and the
    ``serve`` process itself (it migrated and looked for the first-run admin;
    its pool keeps its idle connections). gunicorn's master never loads
    Django, and the qcluster parent and django-q2's pusher (Redis only) open no
    connection: their share is 0, so a connection of theirs fails the goal.
    """
    pool = config["DATABASE_POOL_MAX_SIZE"]
    return {
        "web": config["WEB_WORKERS"] * pool,
        "worker": (config["DJANGO_Q_WORKERS"] + config["WEBHOOKS_WORKERS"]) * pool,
        "sentinel": 2 * pool,
        "monitor": 2 * pool,
        "serve": pool,
    }


def configuration(env: dict) -> dict:
    """The sizes the server runs with: the environment's, else the defaults of gunicorn_conf.py / settings.py."""

    def number(name: str, default: str) -> int:
        return int(env.get(name) or default)

    return {
        "WEB_WORKERS": number("WEB_WORKERS", "2"),
        "WEB_THREADS": number("WEB_THREADS", "4"),
        "DJANGO_Q_WORKERS": number("DJANGO_Q_WORKERS", "2"),
        "WEBHOOKS_WORKERS": number("WEBHOOKS_WORKERS", "2"),
        "DATABASE_POOL_MAX_SIZE": number("DATABASE_POOL_MAX_SIZE", "4"),
        "DATABASE_POOL_MIN_SIZE": number("DATABASE_POOL_MIN_SIZE", "1"),
        "DATABASE_POOL_TIMEOUT": float(env.get("DATABASE_POOL_TIMEOUT") or "10"),
        "DATABASE_POOL": (env.get("DATABASE_POOL") or "1").lower() not in ("0", "false", "no", "off", ""),
    }


class Server:
    """``python manage.py serve 127.0.0.1:<port>`` in its own process group; its output goes to a log file."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
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
        client = Client(self.port, timeout=2)
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}:\n{self.log_tail()}")
            status, *_ = client.request("GET", "/healthz")
            if status == 200:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start in {START_TIMEOUT:.0f} s:\n{self.log_tail()}")
            client.close()
            time.sleep(0.3)
        client.close()
        match = re.search(r"API headers: (\{.*\})", self.log_path.read_text(errors="replace"))
        if match is None:
            raise RuntimeError(f"serve printed no first-run admin key:\n{self.log_tail()}")
        return json.loads(match.group(1))

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


# --- setup -----------------------------------------------------------------------


def dropbox_target(dropbox_url: str) -> tuple[str, str]:
    parts = urlsplit(dropbox_url)
    return parts.path, parts.query


def set_up(port: int, admin: dict, images: int, rng: random.Random) -> dict:
    http = Client(port)
    tag = uuid.uuid4().hex[:6]

    created = http.json("POST", f"{API}/image_sets", {"title": f"bench-load-{tag}"}, admin)
    imageset_id = created["imageset_id"]
    path, query = dropbox_target(created["dropbox_url"])
    sizes = set()
    for i in range(images):
        data = png(*IMAGE_SIZE, rng)
        sizes.add(len(data))
        status, _, body, _ = http.request("PUT", f"{path}/img-{i:04}.png?{query}", data)
        if status != 201:
            raise RuntimeError(f"setup upload: {status} {body[:300]!r}")
    http.json("PUT", f"{API}/image_sets/{imageset_id}", {"new_status": "finished"}, admin)
    deadline = time.monotonic() + 180
    while True:
        job = http.json("GET", f"{API}/image_sets/{imageset_id}", headers=admin).get("job") or {}
        if job.get("status") == "succeeded":
            break
        if job.get("status") == "failed" or time.monotonic() > deadline:
            raise RuntimeError(f"the finish job did not succeed: {job}")
        time.sleep(0.3)
    image_ids = []
    page = 1
    while True:
        listing = http.json("GET", f"{API}/image_sets/{imageset_id}/images?per_page=1000&page={page}", headers=admin)
        image_ids += [image["image_id"] for image in listing["images"]]
        if not listing["pagination"]["next"]:
            break
        page += 1
    if len(image_ids) != images:
        raise RuntimeError(f"{len(image_ids)} images registered, {images} uploaded")

    campaign = http.json(
        "POST", f"{API}/campaigns", {"title": f"bench-load-{tag}", "labeler_email": f"agency-{tag}@example.com"}, admin
    )
    campaign_id = campaign["campaign_id"]
    agency = {
        "Authentication-Key": campaign["access_token"]["apikey"],
        "Authentication-Secret": campaign["access_token"]["apisecret"],
    }
    http.json("POST", f"{API}/campaigns/{campaign_id}/images", [{"id": i} for i in image_ids], admin)
    http.json("PUT", f"{API}/campaigns/{campaign_id}", {"new_status": "active"}, admin)

    uploads = http.json("POST", f"{API}/image_sets", {"title": f"bench-load-uploads-{tag}"}, admin)
    upload_path, upload_query = dropbox_target(uploads["dropbox_url"])
    http.close()
    return {
        "campaign_id": campaign_id,
        "agency": agency,
        "image_ids": sorted(image_ids),
        "upload_path": upload_path,
        "upload_query": upload_query,
        "png_sizes": sizes,
    }


# --- the load --------------------------------------------------------------------


class Worker(threading.Thread):
    def __init__(
        self, index: int, port: int, setup: dict, mix: list[tuple[str, int]], args, deadline: float, budget: Budget
    ):
        super().__init__(name=f"client-{index}", daemon=True)
        self.index = index
        self.client = Client(port, timeout=args.timeout)
        self.setup = setup
        self.kinds = [kind for kind, _ in mix]
        self.weights = [weight for _, weight in mix]
        self.args = args
        self.deadline = deadline
        self.budget = budget
        self.rng = random.Random(args.seed * 1000 + index)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.failures: list[str] = []
        self.agency_get = {**setup["agency"], "Accept": "application/json"}
        self.agency_put = {**self.agency_get, "Content-Type": "application/json"}
        # The last image is never labeled: the campaign stays active.
        self.labelable = setup["image_ids"][:-1]
        self.pages = max(1, -(-len(setup["image_ids"]) // args.per_page))
        self.upload_body = png(*IMAGE_SIZE, self.rng)
        self.uploads = 0

    def record(self, kind: str, status: int, seconds: float, body: bytes) -> bool:
        self.statuses[kind][status] += 1
        if status == EXPECTED[kind]:
            self.latencies[kind].append(seconds)
            return True
        if len(self.failures) < 5:
            self.failures.append(f"{kind} {status}: {body[:200]!r}")
        return False

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline and self.budget.take():
                kind = self.rng.choices(self.kinds, self.weights)[0]
                getattr(self, f"do_{kind}")()
        finally:
            self.client.close()

    def do_list(self) -> None:
        page = self.rng.randint(1, self.pages)
        path = f"{API}/campaigns/{self.setup['campaign_id']}/images?per_page={self.args.per_page}&page={page}"
        status, _, body, seconds = self.client.request("GET", path, headers=self.agency_get)
        self.record("list", status, seconds, body)

    def do_fetch(self) -> None:
        image_id = self.rng.choice(self.setup["image_ids"])
        status, headers, body, seconds = self.client.request("GET", f"{API}/images/{image_id}", headers=self.agency_get)
        if not self.record("image", status, seconds, body):
            return
        location = urlsplit(headers.get("Location", ""))
        if location.hostname != "127.0.0.1":
            self.record("file", -1, 0.0, f"Location {headers.get('Location')!r}".encode())
            return
        status, _, body, seconds = self.client.request("GET", f"{location.path}?{location.query}".rstrip("?"))
        if status == 200 and (not body.startswith(b"\x89PNG") or len(body) not in self.setup["png_sizes"]):
            status = -2  # a wrong file
        self.record("file", status, seconds, body[:40])

    def do_submit(self) -> None:
        width, height = IMAGE_SIZE
        items = []
        for image_id in self.rng.sample(self.labelable, self.args.submit_images):
            objects = []
            for b in range(self.args.boxes):
                x, y = self.rng.randrange(width - 8), self.rng.randrange(height - 8)
                objects.append(
                    {
                        "label": f"label-{b % 4}",
                        "confidence": round(self.rng.random(), 3),
                        "bounding_box": {"xmin": x, "xmax": x + 8, "ymin": y, "ymax": y + 8},
                    }
                )
            items.append({"image_id": image_id, "objects": objects})
        body = json.dumps(items).encode()
        status, _, data, seconds = self.client.request(
            "PUT", f"{API}/campaigns/{self.setup['campaign_id']}/objects", body, self.agency_put
        )
        self.record("submit", status, seconds, data)

    def do_upload(self) -> None:
        self.uploads += 1
        name = f"up-{self.index:03}-{self.uploads:06}.png"
        path = f"{self.setup['upload_path']}/{name}?{self.setup['upload_query']}"
        status, _, data, seconds = self.client.request(
            "PUT", path, self.upload_body, {"x-ms-blob-type": "BlockBlob", "Content-Type": "image/png"}
        )
        self.record("upload", status, seconds, data)


class Budget:
    """At most ``limit`` operations over all clients."""

    def __init__(self, limit: int):
        self.left = limit
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def run_load(port: int, setup: dict, args, mix) -> tuple[float, list[Worker]]:
    budget = Budget(args.max_requests)
    started = time.monotonic()
    deadline = started + args.duration
    workers = [Worker(i, port, setup, mix, args, deadline, budget) for i in range(args.clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=max(0.1, deadline + args.timeout + 5 - time.monotonic()))
    elapsed = time.monotonic() - started
    if any(worker.is_alive() for worker in workers):
        print("warning: some clients were still waiting for an answer when the run ended", file=sys.stderr)
    return elapsed, workers


def cpu_meter(serve_pid: int, server: str):
    """A callable: CPU seconds so far of the gunicorn workers and of the database's PostgreSQL backends (psutil)."""
    try:
        import psutil
    except ImportError:
        return None

    def read() -> tuple[float, float]:
        web = backends = 0.0
        with suppress(psutil.Error):
            for process in psutil.Process(serve_pid).children(recursive=True):
                with suppress(psutil.Error):
                    parent = process.parent()
                    if (
                        "gunicorn" in " ".join(process.cmdline())
                        and parent
                        and "gunicorn" in " ".join(parent.cmdline())
                    ):
                        times = process.cpu_times()
                        web += times.user + times.system
        with admin_connection(server) as conn:
            pids = [pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (DB_NAME,))]
        for pid in pids:
            with suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                backends += times.user + times.system
        return web, backends

    return read


def measure_ratio(port: int, setup: dict, samples: int, meter=None) -> dict:
    """Authenticated one-item page vs the 401 of the same URL, alternating on one keep-alive connection.

    Then, with ``meter``, the same requests again in two blocks of ``samples``
    (authenticated, then unauthenticated), and the CPU each costs: the gunicorn
    workers', the PostgreSQL backends' and this client's. Unlike latency, that
    hardly depends on what else the machine runs.
    """
    client = Client(port)
    path = f"{API}/campaigns/{setup['campaign_id']}/images?per_page=1"
    authed_headers = {**setup["agency"], "Accept": "application/json"}
    anonymous_headers = {"Accept": "application/json"}
    authed, anonymous, statuses = [], [], Counter()
    for i in range(samples + 20):  # the first 20 pairs warm up
        for headers, into, expect in ((authed_headers, authed, 200), (anonymous_headers, anonymous, 401)):
            status, _, _, seconds = client.request("GET", path, headers=headers)
            statuses[(expect, status)] += 1
            if i >= 20 and status == expect:
                into.append(seconds)
    cpu = {}
    if meter is not None:
        for name, headers in (("authed", authed_headers), ("anonymous", anonymous_headers)):
            web, backends = meter()
            own = time.thread_time()
            for _ in range(samples):
                client.request("GET", path, headers=headers)
            web_after, backends_after = meter()
            cpu[name] = (
                (web_after - web) / samples,
                (backends_after - backends) / samples,
                (time.thread_time() - own) / samples,
            )
    client.close()
    return {"authed": authed, "anonymous": anonymous, "statuses": statuses, "cpu": cpu}


def parse_mix(text: str) -> list[tuple[str, int]]:
    mix = []
    for part in text.split(","):
        kind, _, weight = part.partition("=")
        if kind not in ("list", "fetch", "submit", "upload") or not weight.isdigit():
            raise SystemExit(f"--mix: bad part {part!r} (kinds: list, fetch, submit, upload)")
        if int(weight):
            mix.append((kind, int(weight)))
    if not mix:
        raise SystemExit("--mix: nothing to do")
    return mix


def report(args, config, elapsed, workers, monitor: ConnectionMonitor, ratio_data, cpu) -> bool:
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter] = defaultdict(Counter)
    failures = []
    for worker in workers:
        for kind, values in worker.latencies.items():
            latencies[kind] += values
        for kind, counter in worker.statuses.items():
            statuses[kind].update(counter)
        failures += worker.failures
    total = sum(sum(counter.values()) for counter in statuses.values())
    by_status: Counter = Counter()
    for counter in statuses.values():
        by_status.update(counter)
    unexpected = {kind: {s: n for s, n in counter.items() if s != EXPECTED[kind]} for kind, counter in statuses.items()}
    server_errors = sum(n for status, n in by_status.items() if status >= 500 or status == 0)

    print()
    print(
        f"{args.clients} clients for {elapsed:.1f} s, mix {args.mix}; server: {config['WEB_WORKERS']} web workers x "
        f"{config['WEB_THREADS']} threads, {config['DJANGO_Q_WORKERS']} job workers, pool max "
        f"{config['DATABASE_POOL_MAX_SIZE']} per process"
    )
    connects = sum(worker.client.connects for worker in workers)
    print(
        f"{total} requests, {total / elapsed:.1f} requests/s over {connects} TCP connections (keep-alive); CPU: server {cpu['server']:.1f} s, "
        f"load generator {cpu['client']:.1f} s of {elapsed * (os.cpu_count() or 1):.0f} s on {os.cpu_count()} cores; "
        f"machine load average {cpu['load'][0]:.1f} before, {cpu['load'][1]:.1f} after"
    )
    print()
    print(
        f"{'kind':<8} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  other statuses"
    )
    for kind in ("list", "image", "file", "submit", "upload"):
        if kind not in statuses:
            continue
        values = latencies[kind]
        count = sum(statuses[kind].values())
        others = ", ".join(f"{NOT_HTTP.get(s, s)}: {n}" for s, n in sorted(unexpected[kind].items())) or "-"
        print(
            f"{kind:<8} {count:>9} {count / elapsed:>7.1f} {percentile(values, 0.5) * 1e3:>8.1f} "
            f"{percentile(values, 0.95) * 1e3:>8.1f} {percentile(values, 0.99) * 1e3:>8.1f} "
            f"{(max(values) if values else float('nan')) * 1e3:>8.1f}  {others}"
        )
    print()
    print("statuses: " + ", ".join(f"{NOT_HTTP.get(s, s)}: {n}" for s, n in sorted(by_status.items())))
    for failure in failures[:10]:
        print(f"  e.g. {failure}")

    pool_max = config["DATABASE_POOL_MAX_SIZE"]
    shares = connection_shares(config)
    total_bound = sum(shares.values())
    print()
    print(f"PostgreSQL connections to {DB_NAME} ({monitor.samples} samples, every {monitor.interval * 1e3:.0f} ms):")
    print(
        f"  peak {monitor.peak} at {monitor.peak_at:.1f} s (peak active at once: {monitor.peak_active}); "
        f"{len(monitor.backends)} distinct backends over the whole run"
    )
    if monitor.peak_by_role:
        print("  peak by process role: " + ", ".join(f"{role} {n}" for role, n in sorted(monitor.peak_by_role.items())))
        print("  peak by process: " + ", ".join(f"{key} {n}" for key, n in sorted(monitor.peak_per_process.items())))
    print(
        f"  configured (processes x pool {pool_max}): web {config['WEB_WORKERS']} x {pool_max} = {shares['web']}, "
        f"job workers {config['DJANGO_Q_WORKERS']} x {pool_max} = {shares['worker']}, sentinel {pool_max}, "
        f"monitor {pool_max}, serve {pool_max}; total {total_bound}"
    )
    if monitor.roles.shared:
        print(
            "  connection sockets open in several processes: "
            + "; ".join(
                f"port {port}: {', '.join(sorted(holders))}" for port, holders in sorted(monitor.roles.shared.items())
            )
        )
    if not config["DATABASE_POOL"]:
        print("  DATABASE_POOL is off: nothing bounds the connections, the configured total does not apply")
    if monitor.error:
        print(f"  monitor failed: {monitor.error}")

    authed, anonymous, ratio_statuses = ratio_data["authed"], ratio_data["anonymous"], ratio_data["statuses"]
    ratio = statistics.median(authed) / statistics.median(anonymous) if authed and anonymous else float("inf")
    print()
    print(f"GET /campaigns/{{id}}/images?per_page=1, sequential, {len(authed)} + {len(anonymous)} samples:")
    print(
        f"  with the agency key (200): median {statistics.median(authed) * 1e3:.2f} ms, "
        f"p95 {percentile(authed, 0.95) * 1e3:.2f} ms"
        if authed
        else "  with the agency key: no 200"
    )
    print(
        f"  without a key (401):       median {statistics.median(anonymous) * 1e3:.2f} ms, "
        f"p95 {percentile(anonymous, 0.95) * 1e3:.2f} ms"
        if anonymous
        else "  without a key: no 401"
    )
    wrong = {k: n for k, n in ratio_statuses.items() if k[0] != k[1]}
    if wrong:
        print(f"  unexpected statuses (expected, got): {wrong}")
    print(
        f"  ratio {ratio:.2f} (of the fastest samples: {min(authed) / min(anonymous):.2f}; machine load "
        f"average {os.getloadavg()[0]:.1f})"
        if authed and anonymous
        else f"  ratio {ratio:.2f}"
    )
    for name, label in (("authed", "with the key"), ("anonymous", "without a key")):
        if name in ratio_data["cpu"]:
            web, backends, own = ratio_data["cpu"][name]
            print(
                f"  CPU per request {label + ':':<15} web worker {web * 1e3:.2f} ms + PostgreSQL {backends * 1e3:.2f} ms "
                f"+ client {own * 1e3:.2f} ms = {(web + backends + own) * 1e3:.2f} ms"
            )

    goals = [
        (f"zero 5xx / connection errors ({server_errors})", server_errors == 0),
        (
            f"peak connections {monitor.peak} <= configured total {total_bound}",
            config["DATABASE_POOL"] and monitor.error is None and monitor.samples > 0 and monitor.peak <= total_bound,
        ),
        (f"authenticated / 401 median ratio {ratio:.2f} <= {GOAL_RATIO:g}", ratio <= GOAL_RATIO),
    ]
    if monitor.peak_by_role:
        over = {role: n for role, n in monitor.peak_by_role.items() if n > shares.get(role, 0)}
        goals.append(
            (
                "every kind of process within its share ("
                + ", ".join(f"{role} {n}/{shares.get(role, 0)}" for role, n in sorted(monitor.peak_by_role.items()))
                + ")",
                not over,
            )
        )
    print()
    for text, ok in goals:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return all(ok for _, ok in goals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--max-requests", type=int, default=200_000, help="operations over all clients, at most")
    parser.add_argument("--mix", default="list=3,fetch=4,submit=2,upload=1")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--per-page", type=int, default=50)
    parser.add_argument("--submit-images", type=int, default=3)
    parser.add_argument("--boxes", type=int, default=5, help="boxes per submitted image")
    parser.add_argument("--ratio-samples", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a client waits for an answer")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/0",
        help="the broker (django-q2's keys are named by a unique DJANGO_Q_NAME)",
    )
    parser.add_argument("--keep-log", action="store_true", help="keep the server's log (its path is printed)")
    args = parser.parse_args()
    if not 1 <= args.clients <= 1000 or not 0 < args.duration <= 600:
        raise SystemExit("--clients 1..1000, --duration up to 600 s")
    if not 2 <= args.images <= 10_000 or args.submit_images >= args.images:
        raise SystemExit("--images 2..10000, more than --submit-images")
    mix = parse_mix(args.mix)
    for address in (args.server, args.redis):
        if urlsplit(address).hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit(f"{address}: only 127.0.0.1 is used")
    server_url = args.server.rstrip("/")
    rng = random.Random(args.seed)

    workdir = Path(tempfile.mkdtemp(prefix="labelhub-bench-load-"))
    env = server_env(server_url, str(workdir / "media"), str(workdir / "prometheus"), args.redis)
    config = configuration(env)
    recreate_database(server_url)
    server = None
    try:
        server = Server(env, workdir / "serve.log")
        print(f"serve on 127.0.0.1:{server.port}, database {DB_NAME}, log {server.log_path}", flush=True)
        admin = server.wait_ready()
        started = time.monotonic()
        setup = set_up(server.port, admin, args.images, rng)
        print(
            f"setup: {args.images} images finished, campaign {setup['campaign_id']} active "
            f"({time.monotonic() - started:.1f} s); load for {args.duration:g} s ...",
            flush=True,
        )

        load_before = os.getloadavg()
        monitor = ConnectionMonitor(
            server_url, ProcessRoles(server.process.pid, urlsplit(server_url).port or 5432, server.log_path)
        )
        monitor.start()
        cpu_before = (server.cpu_seconds(), time.process_time())
        elapsed, workers = run_load(server.port, setup, args, mix)
        cpu = {
            "server": server.cpu_seconds() - cpu_before[0],
            "client": time.process_time() - cpu_before[1],
            "load": (load_before[0], os.getloadavg()[0]),
        }
        monitor.stop()
        ratio_data = measure_ratio(server.port, setup, args.ratio_samples, cpu_meter(server.process.pid, server_url))
        ok = report(args, config, elapsed, workers, monitor, ratio_data, cpu)
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
            if stopped is None:
                print("serve did not stop within 20 s after SIGTERM; killed", file=sys.stderr)
            else:
                print(f"serve stopped {stopped:.1f} s after SIGTERM")
        recreate_database(server_url, drop_only=True)
        if args.keep_log and server is not None:
            kept = Path(tempfile.gettempdir()) / f"labelhub-bench-load-{os.getpid()}.log"
            shutil.copy(server.log_path, kept)
            print(f"server log kept: {kept}")
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
