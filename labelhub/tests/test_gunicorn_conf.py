"""gunicorn with labelhub/gunicorn_conf.py, as docs/configuration.md runs it.

Two workers: /metrics sums every process (prometheus-client's multiprocess mode), a killed
worker is replaced without losing what it counted (child_exit), and each API request is one
JSON log line.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from core.metrics.multiprocess import prepare_multiproc_dir
from testing.azurite import free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "gunicorn-metrics-token"
HEALTHZ = (("method", "GET"), ("status", "200"), ("view", "healthz"))
ADDRESS_FAILURES = 24


def database_url() -> str:
    """The test database this test runs in, as a DATABASE_URL for the server process."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Connection": "close", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def per_worker(folder: Path, key) -> dict[int, float]:
    """The value of one counter sample in each process's own file (``counter_<pid>.db``)."""
    values = {}
    for path in folder.glob("counter_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        if path.stat().st_size == 0:
            continue  # a process that is starting has not sized its file yet
        for family in MultiProcessCollector.merge([str(path)]):
            for s in family.samples:
                if (s.name, tuple(sorted(s.labels.items()))) == key:
                    values[pid] = s.value
    return values


def scrape(base: str) -> dict:
    status, body = get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def server_env(tmp_path: Path, folder: Path) -> dict[str, str]:
    """The environment of a gunicorn server on the test database: no Redis, storage and caches under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DATABASE_URL=database_url(),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="gunicorn-test-secret-key-not-for-production",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        MEDIA_ROOT=str(tmp_path / "media"),
        STORAGE_BACKEND="local",
        PROMETHEUS_MULTIPROC_DIR=str(folder),
        METRICS_TOKEN=TOKEN,
        LOG_FORMAT="json",
        DJANGO_Q_NAME=os.environ.get("DJANGO_Q_NAME", "labelhub-tests"),
        # The API-key failure counters (files without Redis) of this server only, not of every run on the machine.
        CACHE_DIR=str(tmp_path / "cache"),
        API_AUTH_FAILURES_PER_ADDRESS=f"{ADDRESS_FAILURES}/10m",
    )
    env.pop("REDIS_URL", None)
    return env


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """gunicorn with labelhub/gunicorn_conf.py and two workers, its output in ``log``."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "labelhub/gunicorn_conf.py",
                "labelhub.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def server(tmp_path):
    """gunicorn as docs/configuration.md runs it, two workers, multiprocess metrics in a fresh folder, JSON logs."""
    folder = prepare_multiproc_dir(tmp_path / "prometheus")
    port = free_port()
    log = tmp_path / "server.log"
    process = start_gunicorn(server_env(tmp_path, folder), port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "gunicorn did not answer /readyz within 60 s:\n" + log.read_text()
            time.sleep(0.3)
        yield base, folder, process, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_metrics_add_up_across_two_gunicorn_workers_and_survive_a_killed_worker(server):
    base, folder, master, log = server
    key = ("labelhub_http_requests_total", HEALTHZ)
    sent = 0
    # Fresh connections from several threads until both workers have answered some.
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(40):
            statuses = list(pool.map(lambda _: get(f"{base}/healthz")[0], range(16)))
            assert statuses == [200] * 16
            sent += 16
            if len([v for v in per_worker(folder, key).values() if v > 0]) >= 2:
                break
    workers = {pid: value for pid, value in per_worker(folder, key).items() if value > 0}
    assert len(workers) == 2, f"one worker served every request: {workers}"
    assert sum(workers.values()) == sent and all(v < sent for v in workers.values())

    # Three refused keys, and a job recorded by another kind of process (a django-q2 worker would).
    for _ in range(3):
        assert get(f"{base}/api/v1/image_sets", {"Authentication-Key": "nope", "Authentication-Secret": "x"})[0] == 401
    job_process = subprocess.run(
        [
            sys.executable,
            "-c",
            "from core import metrics; metrics.job_started('imageset_finish'); "
            "metrics.job_succeeded('imageset_finish', 2.5)",
        ],
        cwd=ROOT,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
        timeout=60,
    )
    assert job_process.returncode == 0

    # Whichever worker answers the scrape, it reports the sum over every process.
    for _ in range(6):
        values = scrape(base)
        assert values[key] == sent
        assert values[("labelhub_api_key_auth_failures_total", (("reason", "unknown_key"),))] == 3
        assert values[("labelhub_jobs_started_total", (("kind", "imageset_finish"),))] == 1
        assert (
            values[("labelhub_job_duration_seconds_count", (("kind", "imageset_finish"), ("outcome", "succeeded")))]
            == 1
        )
        assert values[("labelhub_jobs_queued", (("kind", "imageset_finish"),))] == 0
        assert values[("labelhub_domain_gauges_failures_total", ())] == 0
    # The domain gauges are the scrape's own, not per-process files: one sample, whichever worker answers.
    body = get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})[1].decode()
    assert [line.split()[0] for line in body.splitlines() if line.startswith("labelhub_campaign_images_labeled")] == [
        "labelhub_campaign_images_labeled"
    ]
    assert not any(p.name.startswith("gauge") for p in folder.iterdir())

    # A worker killed outright is replaced by gunicorn; what it counted stays counted.
    victim = max(workers, key=workers.get)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        assert master.poll() is None, log.read_text()
        status, _ = get(f"{base}/healthz")
        assert status == 200
        sent += 1
        if len(per_worker(folder, key)) >= 3:  # the replacement has answered too
            break
        assert time.monotonic() < deadline, "no replacement worker answered"
    assert scrape(base)[key] == sent

    # Every API request logged one JSON line with its request id (probes are not logged at INFO).
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line["logger"] == "labelhub.request"]
    assert len([line for line in request_lines if line["path"] == "/api/v1/image_sets"]) == 3
    assert all(
        line["status"] == 401 and len(line["request_id"]) == 32
        for line in request_lines
        if line["path"] == "/api/v1/image_sets"
    )


def test_failed_keys_are_counted_across_both_workers_and_then_refused_with_429(server):
    base, folder, _, _ = server
    key = ("labelhub_api_key_auth_failures_total", (("reason", "unknown_key"),))

    def wrong_key(n: int) -> int:
        return get(f"{base}/api/v1/image_sets", {"Authentication-Key": f"nope-{n}", "Authentication-Secret": "x"})[0]

    # Fresh connections from several threads, so that both workers count some of the failures.
    with ThreadPoolExecutor(max_workers=4) as pool:
        for batch in range(ADDRESS_FAILURES // 4):
            assert list(pool.map(wrong_key, range(batch * 4, batch * 4 + 4))) == [401] * 4
    counted = per_worker(folder, key)
    assert len(counted) == 2 and sum(counted.values()) == ADDRESS_FAILURES, counted

    status, body = get(f"{base}/api/v1/image_sets", {"Authentication-Key": "nope-last", "Authentication-Secret": "x"})
    assert status == 429, body
    assert json.loads(body)["detail"].startswith("Too many failed authentication attempts.")


@pytest.fixture
def silent_broker():
    """A "Redis" that accepts connections and never answers: a broker ping hangs on it until its own timeout."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:  # the listener was closed
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
        thread.join(timeout=5)


def test_sigterm_lets_a_request_in_flight_finish_and_stops_taking_new_ones(tmp_path, silent_broker):
    """Issue 23, the web drains requests: on SIGTERM the master stops listening, the request a worker
    is serving gets its whole answer, and the master is gone within WEB_GRACEFUL_TIMEOUT (5 s)."""
    graceful = 5
    folder = prepare_multiproc_dir(tmp_path / "prometheus")
    port = free_port()
    log = tmp_path / "server.log"
    env = {**server_env(tmp_path, folder), "REDIS_URL": silent_broker}
    env.pop("WEB_GRACEFUL_TIMEOUT", None)  # gunicorn_conf.py's default
    master = start_gunicorn(env, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        # /readyz is slow here (the broker check waits its 3 s): /healthz says the server is up.
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert master.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 60 s:\n" + log.read_text()
            time.sleep(0.3)

        with ThreadPoolExecutor(max_workers=1) as pool:
            started = time.monotonic()
            in_flight = pool.submit(get, f"{base}/readyz")
            time.sleep(0.75)
            assert not in_flight.done(), "/readyz answered before SIGTERM: it is not a request in flight"
            master.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            status, body = in_flight.result(timeout=30)  # a reset connection would raise here
            answered = time.monotonic()

        assert status == 503, body
        answer = json.loads(body)
        assert answer["checks"] == {"database": "ok", "storage": "ok", "broker": "down"}, answer
        assert answered > signalled

        # Not taken any more: a new request gets no answer (reset, refused or left unaccepted).
        with pytest.raises(OSError):
            request = urllib.request.Request(f"{base}/healthz", headers={"Connection": "close"})
            urllib.request.urlopen(request, timeout=2).read()

        master.wait(timeout=graceful + 5)
        stopped = time.monotonic()
        assert stopped - signalled < graceful + 3, log.read_text()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        print(
            f"\n/readyz in flight {signalled - started:.2f} s at SIGTERM, answered {answered - signalled:.2f} s "
            f"after it ({answered - started:.2f} s in all); master exited {stopped - signalled:.2f} s after SIGTERM "
            f"with {master.returncode}"
        )
    finally:
        if master.poll() is None:
            master.kill()
            master.wait()
