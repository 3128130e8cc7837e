"""Job start latency: from the answer to ``PUT /image_sets/{id}`` ``{"new_status": "finished"}`` to the job running.

    .venv/bin/python bench/job_latency.py [--runs 20] [--brokers redis,orm]

Starts labelhub as docs/configuration.md does (``manage.py serve``: gunicorn with two
web workers and the django-q2 cluster with two job workers; local storage in
a temporary MEDIA_ROOT), once per broker: Redis (``REDIS_URL``, default
``redis://127.0.0.1:6379/0``; a queue name of its own, its keys deleted at the
end) and the ORM broker (no REDIS_URL: the cluster polls the database every
``DJANGO_Q_POLL`` seconds, 0.2 by default, when its queue is empty).

Each run creates a set over HTTP, puts one small PNG in its dropbox, sends
the PUT that finishes it and notes the wall clock when the answer has been
read; the job's ``date_started`` (stamped by the worker when it claims the
job, same machine clock) minus that instant is the latency. The next run
starts once the job has succeeded and after a random pause of up to 0.5 s
(so the finish does not fall in step with the ORM broker's polling), the
workers being idle each time; the cluster's first two runs are warm-up and
not counted. The web process hands the job to the broker before it answers,
so with Redis the job may start before the answer is read (a negative
latency). Also shown: from sending the PUT to ``date_started`` (never
negative), from ``enqueued_at`` (the hand-over to the broker) to
``date_started``, and the PUT's own round trip.

The database is a SQLite file in a temporary folder unless DATABASE_URL names
a PostgreSQL server: then a database ``labelhub_bench_latency`` is created on
it and dropped at the end. The server processes are stopped and the
temporary folders removed whatever happens.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

from benchdb import drop_fresh_database, fresh_database, postgres_server_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = "labelhub_bench_latency"
GOAL_REDIS_MS = 100.0
WARMUP = 2
START_TIMEOUT = 60.0
JOB_TIMEOUT = 30.0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(env: dict, log_path: Path):
    """``manage.py serve`` on a free port; yields its base URL; SIGTERM (then SIGKILL) its process group."""
    import requests

    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise SystemExit(f"serve exited:\n{log_path.read_text(errors='replace')[-3000:]}")
            with suppress(requests.RequestException):
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"serve did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def measure(base: str, headers: dict, runs: int) -> list[dict]:
    """``runs`` finishes, one after the other; each waits for its job to succeed."""
    import requests

    from imagesets.models import ImageSetJob
    from imagesets.naming import dropbox_name
    from integrations.storage import get_storage

    png = _png()
    samples = []
    with requests.Session() as http:
        for number in range(WARMUP + runs):
            title = f"latency-{uuid.uuid4().hex[:12]}"
            response = http.post(f"{base}/api/v1/image_sets", json={"title": title}, headers=headers, timeout=30)
            assert response.status_code == 200, response.text
            imageset_id = response.json()["imageset_id"]
            get_storage().write(f"{dropbox_name(title)}/one.png", [png])
            time.sleep(random.uniform(0, 0.5))
            sent = time.time()
            response = http.put(
                f"{base}/api/v1/image_sets/{imageset_id}", json={"new_status": "finished"}, headers=headers, timeout=30
            )
            answered = time.time()
            assert (response.status_code, response.json()) == (200, "ok"), response.text
            deadline = time.monotonic() + JOB_TIMEOUT
            while True:
                job = ImageSetJob.objects.filter(imageset_id=imageset_id).first()
                if job is not None and job.status == "succeeded":
                    break
                if job is not None and job.status == "failed" or time.monotonic() > deadline:
                    raise SystemExit(
                        f"job of set {imageset_id} did not succeed: {job and job.status} {job and job.error}"
                    )
                time.sleep(0.02)
            if number >= WARMUP:
                samples.append(
                    {
                        "latency_ms": (job.date_started.timestamp() - answered) * 1000,
                        "from_sent_ms": (job.date_started.timestamp() - sent) * 1000,
                        "put_ms": (answered - sent) * 1000,
                        "handover_ms": (job.date_started - job.enqueued_at).total_seconds() * 1000
                        if job.enqueued_at
                        else float("nan"),
                    }
                )
    return samples


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return f"{statistics.median(ordered):7.1f} {p90:7.1f} {ordered[0]:7.1f} {ordered[-1]:7.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="measured finishes per broker (default 20)")
    parser.add_argument("--brokers", default="redis,orm", help="brokers to measure, comma-separated")
    args = parser.parse_args()
    brokers = [b.strip() for b in args.brokers.split(",") if b.strip()]
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"

    workdir = Path(tempfile.mkdtemp(prefix="labelhub-bench-latency-"))
    media_root = workdir / "media"
    media_root.mkdir()
    created_database = False
    results: dict[str, list[dict]] = {}
    try:
        db_url = fresh_database(BENCH_DATABASE, workdir)
        created_database = True
        base_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AZURE_ML_", "AZURE_STORAGE_")) and k not in ("DATABASE_TEST_NAME", "REDIS_URL")
        }
        base_env.update(
            {
                "DATABASE_URL": db_url,
                "DJANGO_SETTINGS_MODULE": "labelhub.settings",
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": base_env.get("DJANGO_SECRET_KEY", "labelhub-bench-secret-key-not-for-production"),
                "DJANGO_Q_SYNC": "0",
                "DJANGO_Q_WORKERS": "2",
                "WEB_WORKERS": "2",
                "WEB_THREADS": "4",
                "STORAGE_BACKEND": "local",
                "MEDIA_ROOT": str(media_root),
                "LOG_LEVEL": "WARNING",
                "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
            }
        )
        os.environ.update(base_env)
        os.environ.pop("REDIS_URL", None)
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from accounts.models import User
        from accounts.services import apikey_issue

        call_command("migrate", verbosity=0)
        admin, _ = User.objects.get_or_create(email="bench-latency@example.com", defaults={"is_staff": True})
        issued = apikey_issue(user=admin)
        headers = {"Authentication-Key": issued.apikey, "Authentication-Secret": issued.secret}
        database = "PostgreSQL" if postgres_server_url() else "SQLite"
        print(
            f"database {database}, {os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )

        for broker in brokers:
            name = f"bench-latency-{uuid.uuid4().hex[:8]}"
            env = {**base_env, "DJANGO_Q_NAME": name}
            if broker == "redis":
                import redis

                redis.from_url(redis_url).ping()
                env["REDIS_URL"] = redis_url
            elif broker != "orm":
                raise SystemExit(f"unknown broker {broker!r} (redis or orm)")
            try:
                with serve(env, workdir / f"serve-{broker}.log") as base:
                    results[broker] = measure(base, headers, args.runs)
            finally:
                if broker == "redis":
                    client = redis.from_url(redis_url)
                    keys = [name, *client.scan_iter(match=f"*{name}*")]
                    client.delete(*keys)
            print(f"  {broker}: {args.runs} runs done", flush=True)
        poll = settings.Q_CLUSTER.get("poll")
    finally:
        try:
            if created_database:
                from django.db import connections

                connections.close_all()  # this process's own, before the database goes
                drop_fresh_database(BENCH_DATABASE)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"milliseconds over {args.runs} runs per broker: median  p90  min  max")
    print(
        f"{'broker':>6} | {'PUT answer -> date_started':>31} | {'PUT sent -> date_started':>31} | "
        f"{'enqueued_at -> date_started':>31} | {'PUT round trip':>31}"
    )
    ok = True
    for broker, samples in results.items():
        print(
            f"{broker:>6} | {summary([s['latency_ms'] for s in samples]):>31} | "
            f"{summary([s['from_sent_ms'] for s in samples]):>31} | "
            f"{summary([s['handover_ms'] for s in samples]):>31} | {summary([s['put_ms'] for s in samples]):>31}"
        )
    if "redis" in results:
        median = statistics.median(s["latency_ms"] for s in results["redis"])
        met = median < GOAL_REDIS_MS
        ok &= met
        print(
            f"goal: Redis broker well under {GOAL_REDIS_MS:.0f} ms -> {'met' if met else 'MISSED'} "
            f"(median {median:.1f} ms)"
        )
    if "orm" in results:
        print(f"ORM broker: the cluster polls the database every DJANGO_Q_POLL = {poll} s while idle")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
