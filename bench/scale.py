"""Finishing large image sets: wall time, images/s, peak RSS and queries per 1,000 images, and resume.

    .venv/bin/python bench/scale.py [--local 1000,10000,100000] [--azure 20000]
                                    [--resume 100000] [--kill-at 60000] [--size-bytes N]

Every run starts from nothing: a fresh database, a fresh storage folder (local:
a temporary MEDIA_ROOT; azure: an Azurite of its own on a temporary data
folder, tools/azurite from `make test`), all removed at the end. A
preparation process migrates the database, creates the set, writes ``N``
copies of one small JPEG straight into its dropbox through the storage API
(local: ``get_storage().write``; Azurite: the same call from 16 threads, i.e.
parallel SDK uploads) and finishes the set without queueing the job
(``imageset_finish(..., queue=False)``). A second, fresh process then runs the
job inline (``imageset_finish_run``) and measures:

- wall time of the job and images/s;
- peak RSS of that process (``getrusage(RUSAGE_SELF).ru_maxrss``; the process
  does nothing else, so it is the job's worker's peak) and its RSS just
  before the job (Django and the app loaded);
- database queries per 1,000 images: every statement executed on any of the
  process's connections during the job (an ``execute_wrapper`` installed on
  each connection as it is created, so the heartbeat thread counts too);
- storage calls: copies, ranged reads and listing passes made by the job, the
  time of the last listing pass (the one that checks that no file arrived
  while the job ran) and of the dropbox's deletion at the end;
- images/s over the first and the last fifth of the copies (a rate that
  falls as the set grows shows a cost that grows with the number of files).

``--resume N`` finishes a local set of ``N`` images in a process that is
killed with SIGKILL once more than ``--kill-at`` images are registered (the
benchmark polls the database), then runs the job again in a new process, as
the job sweep would after a worker died, and reports how many copies that
second run made: only the files not yet registered must be copied again.

The database is SQLite (a file in the run's temporary folder) unless
DATABASE_URL names a PostgreSQL server: then a database
``labelhub_bench_scale`` on that server is created for each run and dropped
after it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from benchdb import drop_fresh_database, fresh_database, postgres_server_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = "labelhub_bench_scale"
CHILD_TIMEOUT = 3600.0  # seconds; a run that takes longer is killed and reported as failed
UPLOAD_WORKERS = 16


# --- the database -----------------------------------------------------------------------------


def registered_count(db_url: str, imageset_id: int) -> int:
    """Images registered for the set, read straight from the database (the job's process is not asked)."""
    query = "SELECT count(*) FROM imagesets_image WHERE imageset_id = {}"
    if db_url.startswith("sqlite:///"):
        with sqlite3.connect(db_url[len("sqlite:///") :], timeout=30) as conn:
            return conn.execute(query.format("?"), (imageset_id,)).fetchone()[0]
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute(query.format("%s"), (imageset_id,)).fetchone()[0]


# --- child processes --------------------------------------------------------------------------


def child_env(*, db_url: str, backend: str, media_root: Path, azure: str = "") -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AZURE_ML_", "AZURE_STORAGE_"))
        and k not in ("DATABASE_TEST_NAME", "PROMETHEUS_MULTIPROC_DIR", "REDIS_URL")
    }
    env.update(
        {
            "DATABASE_URL": db_url,
            "DJANGO_SETTINGS_MODULE": "labelhub.settings",
            "DJANGO_DEBUG": "0",  # DEBUG would keep every query in memory
            "DJANGO_SECRET_KEY": env.get("DJANGO_SECRET_KEY", "labelhub-bench-secret-key-not-for-production"),
            "DJANGO_Q_NAME": f"bench-scale-{uuid.uuid4().hex[:8]}",
            "DJANGO_Q_SYNC": "0",
            "LOG_LEVEL": "WARNING",
            "STORAGE_BACKEND": backend,
            "MEDIA_ROOT": str(media_root),
            "PYTHONPATH": str(ROOT),
        }
    )
    if azure:
        env["AZURE_STORAGE_CONNECTION_STRING"] = azure
    return env


def start_child(mode: str, env: dict, **params) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, "--child", mode, "--params", json.dumps(params)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def child_result(process: subprocess.Popen, timeout: float = CHILD_TIMEOUT) -> dict:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        raise SystemExit(f"a benchmark process ran over {timeout:.0f} s and was killed:\n{err[-3000:]}") from None
    if process.returncode != 0:
        raise SystemExit(f"a benchmark process failed ({process.returncode}):\n{out[-2000:]}\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def run_child(mode: str, env: dict, **params) -> dict:
    return child_result(start_child(mode, env, **params))


# --- inside a child ---------------------------------------------------------------------------


def setup_django() -> None:
    import django

    django.setup()


def small_jpeg(size_bytes: int) -> bytes:
    """A JPEG of roughly ``size_bytes`` (a noise picture whose side is searched for that size)."""
    from PIL import Image

    side, best = 8, b""
    while True:
        out = io.BytesIO()
        Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="JPEG", quality=75)
        if out.tell() > size_bytes and best:
            return best
        best, side = out.getvalue(), side + 8


def child_prepare(params: dict) -> dict:
    """Migrate, create the set, write its files into the dropbox, finish it without queueing the job."""
    from concurrent.futures import ThreadPoolExecutor

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import User
    from imagesets.services import imageset_create, imageset_finish
    from integrations.storage import get_storage

    count = params["count"]
    user, _ = User.objects.get_or_create(email="bench-scale@example.com", defaults={"is_staff": True})
    imageset = imageset_create(title=f"scale-{count}-{uuid.uuid4().hex[:8]}", created_by=user)
    dropbox = imageset.blobstorage_path  # the dropbox container while the set is created
    data = small_jpeg(params["size_bytes"])
    storage = get_storage()

    def write(first: int) -> None:
        for i in range(first, min(first + 1000, count)):
            storage.write(f"{dropbox}/img-{i:07d}.jpg", [data], content_type="image/jpeg")

    started = time.perf_counter()
    if params["backend"] == "azure":
        with ThreadPoolExecutor(UPLOAD_WORKERS) as pool:
            list(pool.map(write, range(0, count, 1000)))
    else:
        for first in range(0, count, 1000):
            write(first)
    written = time.perf_counter() - started
    imageset_finish(imageset_id=imageset.pk, queue=False)
    return {"imageset_id": imageset.pk, "file_bytes": len(data), "write_seconds": written}


class _Counter:
    def __init__(self):
        self.value = 0
        self._lock = threading.Lock()

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.value += n


def child_run(params: dict) -> dict:
    """Run the finish job inline and measure it (this process does nothing else)."""
    import psutil
    from django.conf import settings
    from django.db import connection
    from django.db.backends.signals import connection_created

    from imagesets.models import Image, ImageSetJob
    from imagesets.services import imageset_finish_run
    from integrations.storage import get_storage

    imageset_id = params["imageset_id"]
    storage_class = type(get_storage())
    copies, reads, queries = _Counter(), _Counter(), _Counter()
    passes: list[float] = []  # seconds each listing pass took, from its first request to its end
    deleting: list[float] = []
    copied_at: list[float] = []  # when every 1,000th copy was made

    original_copy, original_read, original_list = storage_class.copy, storage_class.read_range, storage_class.list
    original_delete_dropbox = storage_class.delete_dropbox

    def copy(self, *args, **kwargs):
        result = original_copy(self, *args, **kwargs)
        with copies._lock:  # counted once made: a copy cut short by the kill is not "done"
            copies.value += 1
            if copies.value % 1000 == 0:
                copied_at.append(time.perf_counter())
        return result

    def delete_dropbox(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original_delete_dropbox(self, *args, **kwargs)
        finally:
            deleting.append(time.perf_counter() - started)

    def read_range(self, *args, **kwargs):
        reads.add()
        return original_read(self, *args, **kwargs)

    def list_(self, prefix, *args, **kwargs):
        started = time.perf_counter()
        yield from original_list(self, prefix, *args, **kwargs)
        passes.append(time.perf_counter() - started)

    storage_class.copy, storage_class.read_range, storage_class.list = copy, read_range, list_
    storage_class.delete_dropbox = delete_dropbox

    def count_query(execute, sql, params, many, context):
        queries.add()
        return execute(sql, params, many, context)

    def on_connection(sender, connection, **kwargs):
        if count_query not in connection.execute_wrappers:
            connection.execute_wrappers.append(count_query)

    connection_created.connect(on_connection, weak=False)
    connection.execute_wrappers.append(count_query)  # this thread's connection (the job's own)

    baseline_mb = psutil.Process().memory_info().rss / 2**20
    started = time.perf_counter()
    job = imageset_finish_run(imageset_id=imageset_id)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    counted_queries = queries.value
    connection_created.disconnect(on_connection)
    connection.execute_wrappers.remove(count_query)

    job = ImageSetJob.objects.get(imageset_id=imageset_id)
    fifth = len(copied_at) // 5
    rates = [
        1000 * fifth / (copied_at[fifth] - started) if fifth else float("nan"),
        1000 * fifth / (copied_at[-1] - copied_at[-1 - fifth]) if fifth else float("nan"),
    ]
    return {
        "seconds": seconds,
        "status": job.status,
        "error": job.error,
        "attempts": job.attempts,
        "registered": Image.objects.filter(imageset_id=imageset_id).count(),
        "skipped": len(job.skipped or []),
        "copies": copies.value,
        "reads": reads.value,
        "queries": counted_queries,
        "list_passes": [round(s, 3) for s in passes],
        "delete_dropbox_seconds": sum(deleting),
        "copy_rates": rates,
        "baseline_mb": baseline_mb,
        "peak_mb": peak_mb,
        "workers": int(settings.IMAGESET_COPY_WORKERS),
    }


# --- one run, from nothing to nothing ---------------------------------------------------------


def one_run(*, backend: str, count: int, size_bytes: int, kill_at: int | None = None) -> dict:
    from testing.azurite import AZURITE_BIN, Azurite

    workdir = Path(tempfile.mkdtemp(prefix="labelhub-bench-scale-"))
    azurite = None
    try:
        db_url = fresh_database(BENCH_DATABASE, workdir)
        azure = ""
        if backend == "azure":
            if not os.access(AZURITE_BIN, os.X_OK):
                raise SystemExit(f"Azurite is missing at {AZURITE_BIN}; `make test` installs it.")
            azurite = Azurite(workdir / "azurite").start()
            azure = azurite.connection_string
        env = child_env(db_url=db_url, backend=backend, media_root=workdir / "media", azure=azure)
        prepared = run_child("prepare", env, count=count, backend=backend, size_bytes=size_bytes)
        print(
            f"  {backend} {count:,}: wrote {count:,} files of {prepared['file_bytes']:,} bytes into the dropbox "
            f"in {prepared['write_seconds']:.1f} s",
            flush=True,
        )
        run = {
            "backend": backend,
            "count": count,
            "file_bytes": prepared["file_bytes"],
            "database": "postgresql" if postgres_server_url() else "sqlite",
        }
        if kill_at is not None:
            run["killed"] = run_killed(env, db_url, prepared["imageset_id"], kill_at)
            print(
                f"  killed the first run with {run['killed']['registered_at_kill']:,} images registered "
                f"after {run['killed']['seconds']:.1f} s",
                flush=True,
            )
        run.update(run_child("run", env, imageset_id=prepared["imageset_id"]))
        if run["status"] != "succeeded" or run["registered"] != count:
            raise SystemExit(
                f"the job ended {run['status']} with {run['registered']} of {count} images: {run['error']}"
            )
        return run
    finally:
        if azurite is not None:
            azurite.stop()
        try:
            drop_fresh_database(BENCH_DATABASE)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def run_killed(env: dict, db_url: str, imageset_id: int, kill_at: int) -> dict:
    """Run the job in a process and SIGKILL it once more than ``kill_at`` images are registered."""
    process = start_child("run", env, imageset_id=imageset_id)
    started = time.perf_counter()
    try:
        while process.poll() is None:
            if time.perf_counter() - started > CHILD_TIMEOUT:
                raise SystemExit("the run to be killed never got far enough")
            try:
                if registered_count(db_url, imageset_id) > kill_at:
                    break
            except Exception:  # noqa: BLE001 - the tables may be locked a moment; ask again
                pass
            time.sleep(0.05)
        else:
            raise SystemExit(f"the job ended before {kill_at:,} images were registered; use a larger --resume")
        os.killpg(process.pid, signal.SIGKILL)
        seconds = time.perf_counter() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    return {"registered_at_kill": registered_count(db_url, imageset_id), "seconds": seconds}


# --- report -------------------------------------------------------------------------------------


def print_row(run: dict) -> None:
    count = run["count"]
    passes = run["list_passes"]
    print(
        f"| {run['backend']} | {run['database']} | {count:,} | {run['seconds']:.1f} | {count / run['seconds']:,.0f} | "
        f"{run['peak_mb']:.0f} | {run['baseline_mb']:.0f} | {run['queries'] * 1000 / count:.1f} | "
        f"{run['copies']:,} | {run['reads']:,} | {len(passes)} | {passes[-1] if passes else 0:.2f} | "
        f"{run['delete_dropbox_seconds']:.2f} | {' / '.join(_rate(r) for r in run['copy_rates'])} |",
        flush=True,
    )


def _rate(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}"  # NaN: fewer than 5,000 copies


HEADER = (
    "| backend | database | images | job wall s | images/s | peak RSS MB | RSS before job MB | "
    "queries / 1,000 images | copies | ranged reads | listing passes | last pass s | dropbox delete s | "
    "images/s first / last fifth |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip() and int(part) > 0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", default="1000,10000,100000", help="set sizes on local storage ('' for none)")
    parser.add_argument("--azure", default="20000", help="set sizes on Azurite ('' for none)")
    parser.add_argument("--resume", type=int, default=100000, help="size of the interrupted local set (0: none)")
    parser.add_argument(
        "--kill-at", type=int, default=None, help="kill the first run past this many images (default 60%% of --resume)"
    )
    parser.add_argument("--size-bytes", type=int, default=1500, help="about how large each JPEG is (default 1500)")
    parser.add_argument("--child", choices=["prepare", "run"], help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        setup_django()
        params = json.loads(args.params)
        print(json.dumps(child_prepare(params) if args.child == "prepare" else child_run(params)))
        return 0

    database = f"PostgreSQL ({BENCH_DATABASE})" if postgres_server_url() else "SQLite"
    print(
        f"database {database}, {os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    runs = []
    print(HEADER)
    for backend, sizes in (("local", counts(args.local)), ("azure", counts(args.azure))):
        for count in sizes:
            run = one_run(backend=backend, count=count, size_bytes=args.size_bytes)
            runs.append(run)
            print_row(run)

    ok = True
    local = [r for r in runs if r["backend"] == "local"]
    if len(local) > 1:
        low, high = min(local, key=lambda r: r["count"]), max(local, key=lambda r: r["count"])
        growth = high["peak_mb"] - low["peak_mb"]
        print(
            f"\npeak RSS from {low['count']:,} to {high['count']:,} local images: "
            f"{low['peak_mb']:.0f} -> {high['peak_mb']:.0f} MB ({growth:+.0f} MB)"
        )

    if args.resume:
        kill_at = args.kill_at if args.kill_at is not None else int(args.resume * 0.6)
        print(
            f"\nresume: {args.resume:,} local images, first run killed with SIGKILL past {kill_at:,} registered",
            flush=True,
        )
        run = one_run(backend="local", count=args.resume, size_bytes=args.size_bytes, kill_at=kill_at)
        remaining = args.resume - run["killed"]["registered_at_kill"]
        print(HEADER)
        print_row(run)
        print(
            f"\nkilled at {run['killed']['registered_at_kill']:,} registered images; the second run "
            f"(attempt {run['attempts']}) made {run['copies']:,} copies for the {remaining:,} images not "
            f"yet registered ({run['copies'] - remaining:+,}) and registered all {run['registered']:,}"
        )
        if run["copies"] > remaining + 1000:
            print("  resume goal MISSED: the second run redid copies the first run had registered")
            ok = False
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
