"""labelhub's container image (Dockerfile, deploy/image/): built, and its roles run as a deployment runs them.

The image is built with ``deploy/image/build.sh`` (tag ``labelhub:test``; the
layers ``make image`` built are reused, so a rebuild takes seconds), or taken
as it is from ``LABELHUB_CONTAINER_IMAGE``. Against the machine's PostgreSQL
(a database of the test's own, dropped after) and Redis, the ``migrate`` role
runs once, ``manage createapikey`` issues the admin's key, then the ``web``,
``worker`` and ``webhooks`` roles run side by side, each as uid 10001 on a
read-only root filesystem with a tmpfs on /tmp, local storage in a folder
they share. The seed flow walks through the web container's port; /readyz
and /metrics answer; SIGTERM (``stop -t 10``) stops every role well within
its grace period.

Needs a container engine (podman, or docker with a daemon): skipped without
one, unless ``LABELHUB_CONTAINER_TEST=1`` (CI), which makes a missing engine
or a failed build a failure. Runs in the PostgreSQL pass of ``make test``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
import uuid
from contextlib import suppress
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from django.conf import settings
from django.db import connection
from psycopg import sql

from labelhub.tests.test_full_flow import run_seed_flow
from testing.azurite import free_port

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "deploy" / "image" / "build.sh"
CONTAINERS_CONF = REPO_ROOT / "deploy" / "image" / "containers.conf"
REQUIRED = os.environ.get("LABELHUB_CONTAINER_TEST") == "1"
PREBUILT_IMAGE = os.environ.get("LABELHUB_CONTAINER_IMAGE", "")
IMAGE = PREBUILT_IMAGE or "labelhub:test"
REDIS_URL = os.environ.get("IMAGESETS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
APP_UID = "10001"
START_TIMEOUT = 90.0
# gunicorn's WEB_GRACEFUL_TIMEOUT in the web container, and the grace period `stop` gives before SIGKILL.
GRACEFUL_TIMEOUT = 5
STOP_GRACE = 10


def skip_or_fail(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason} (LABELHUB_CONTAINER_TEST=1: the container test must run)")
    pytest.skip(reason)


def find_engine() -> tuple[str, dict]:
    """The engine's command and the environment to run it with (podman: the project's containers.conf)."""
    env = dict(os.environ)
    if shutil.which("podman"):
        if "CONTAINERS_CONF" not in env and shutil.which("runc"):
            env["CONTAINERS_CONF"] = str(CONTAINERS_CONF)
        return "podman", env
    if shutil.which("docker"):
        info = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
        if info.returncode == 0:
            return "docker", env
        skip_or_fail("docker is installed but its daemon does not answer (`docker info` failed); no podman")
    skip_or_fail("no container engine: install podman (apt-get install podman runc) or docker")
    raise AssertionError("unreachable")


class Engine:
    def __init__(self, command: str, env: dict):
        self.command = command
        self.env = env

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [self.command, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            pytest.fail(f"{self.command} {' '.join(args[:3])} ... exited {result.returncode}:\n{result.stderr[-3000:]}")
        return result

    def logs(self, name: str) -> str:
        result = self.run("logs", "--tail", "60", name, check=False)
        return f"--- {name} ---\n{result.stdout[-4000:]}{result.stderr[-4000:]}"


@pytest.fixture(scope="module")
def engine() -> Engine:
    if connection.vendor != "postgresql":
        pytest.skip("the containers run on PostgreSQL: this test runs in the PostgreSQL pass of `make test`")
    return Engine(*find_engine())


@pytest.fixture(scope="module")
def image(engine) -> str:
    if PREBUILT_IMAGE:
        if engine.run("image", "inspect", IMAGE, check=False).returncode != 0:
            pytest.fail(f"LABELHUB_CONTAINER_IMAGE={IMAGE} is not an image of {engine.command}")
        return IMAGE
    started = time.monotonic()
    build = subprocess.run(
        [str(BUILD_SCRIPT)],
        cwd=REPO_ROOT,
        env={**engine.env, "ENGINE": engine.command, "IMAGE": IMAGE},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if build.returncode != 0:
        output = f"{build.stdout[-2000:]}\n{build.stderr[-3000:]}"
        skip_or_fail(f"the image did not build (deploy/image/build.sh):\n{output}")
    print(f"image {IMAGE} built in {time.monotonic() - started:.0f} s: {build.stdout.strip().splitlines()[-1]}")
    return IMAGE


@pytest.fixture
def database() -> str:
    """A fresh PostgreSQL database on the suite's server, for the containers; dropped after."""
    s = connection.settings_dict
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    name = f"labelhub_container_test_{uuid.uuid4().hex[:8]}"
    admin = {"host": host, "port": port, "user": s["USER"], "password": s["PASSWORD"] or None, "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    try:
        yield f"postgres://{auth}@{host}:{port}/{name}"
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_the_image_runs_migrate_web_worker_and_webhooks_and_the_seed_flow_passes_through_it(
    engine, image, database, tmp_path
):
    redis.from_url(REDIS_URL).ping()  # the machine's Redis must be up (CI starts it)
    test_started = time.monotonic()

    labels = json.loads(engine.run("image", "inspect", "--format", "{{json .Config.Labels}}", image).stdout)
    for key in ("title", "version", "revision", "source", "created"):
        assert labels.get(f"org.opencontainers.image.{key}"), f"label org.opencontainers.image.{key} missing"
    assert re.fullmatch(r"[0-9a-f]{40}", labels["org.opencontainers.image.revision"]), labels

    # Shared by the web and worker containers (local storage); the app's user must write to it.
    media = tmp_path / "container-media"
    media.mkdir()
    media.chmod(0o777)
    port = free_port()
    prefix = f"labelhub-ct-{uuid.uuid4().hex[:8]}"
    env = {
        "DATABASE_URL": database,
        "REDIS_URL": REDIS_URL,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_Q_NAME": prefix,
        "DJANGO_Q_WORKERS": "2",
        "WEBHOOKS_WORKERS": "1",
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "2",
        "WEB_THREADS": "4",
        "WEB_GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT),
        "STORAGE_BACKEND": "local",
        "MEDIA_ROOT": "/media",
        "AZURE_STORAGE_IMAGESET_CONTAINER": settings.AZURE_STORAGE_IMAGESET_CONTAINER,
        "METRICS_TOKEN": "scrape-me",
        "JOBS_SWEEP_INTERVAL": "1",
        "JOBS_HEARTBEAT_INTERVAL": "1",
    }
    common = ["--network", "host", "--volume", f"{media}:/media"]
    for key, value in env.items():
        common += ["--env", f"{key}={value}"]
    # A deployment's pods: nothing writable but /tmp.
    locked = ["--read-only", "--tmpfs", "/tmp"]
    names = {role: f"{prefix}-{role}" for role in ("web", "worker", "webhooks")}

    try:
        migrate = engine.run("run", "--rm", "--name", f"{prefix}-migrate", *common, *locked, image, "migrate")
        assert "Applying accounts.0001" in migrate.stdout, migrate.stdout[-2000:]
        issued = engine.run(
            "run", "--rm", *common, *locked, image, "manage", "createapikey", "jayke@test.com", "--admin"
        )
        key = json.loads(issued.stdout.strip().splitlines()[-1])
        headers = {"Authentication-Key": key["apikey"], "Authentication-Secret": key["apisecret"]}

        for role, name in names.items():
            engine.run("run", "--detach", "--name", name, *common, *locked, image, role)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            for name in names.values():
                running = engine.run("inspect", "--format", "{{.State.Running}}", name).stdout.strip()
                assert running == "true", f"{name} exited:\n{engine.logs(name)}"
            with suppress(requests.RequestException):
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"the web container did not start:\n{engine.logs(names['web'])}"
            time.sleep(0.5)
        started_in = time.monotonic() - test_started

        # Every process of every role runs as the image's user, not root.
        for name in names.values():
            assert engine.run("exec", name, "id", "-u").stdout.strip() == APP_UID
            # Real, effective, saved and filesystem uid of every process in the container.
            status = engine.run("exec", name, "sh", "-c", "grep -h '^Uid:' /proc/[0-9]*/status").stdout
            uids = {uid for line in status.splitlines() for uid in line.split()[1:]}
            assert status.count("Uid:") >= 3 and uids == {APP_UID}, f"{name}: processes run as {status}"
        # The root filesystem is read-only; /tmp (the metrics folder and the file cache) is not.
        web = names["web"]
        denied = engine.run("exec", web, "sh", "-c", "touch /app/written", check=False)
        assert denied.returncode != 0 and "Read-only file system" in denied.stderr, denied.stderr
        assert engine.run("exec", web, "sh", "-c", "ls /tmp/prometheus | grep -c '[.]db$'").stdout.strip() != "0"

        with requests.Session() as http:
            ready = http.get(f"{base}/readyz", timeout=10)
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"database": "ok", "storage": "ok", "broker": "ok"}
            # Static files collected at build time, served by WhiteNoise.
            assert http.get(f"{base}/static/admin/css/base.css", timeout=10).status_code == 200
            run_seed_flow(
                http,
                f"{base}/api/v1",
                headers,
                container=settings.AZURE_STORAGE_IMAGESET_CONTAINER,
                read_stored=lambda path: (media / path).read_bytes(),
            )
            scraped = http.get(f"{base}/metrics", headers={"Authorization": "Bearer scrape-me"}, timeout=10)
            assert scraped.status_code == 200
            assert 'labelhub_http_requests_total{method="PUT"' in scraped.text
        flow_done = time.monotonic() - test_started

        # SIGTERM, then SIGKILL after STOP_GRACE seconds: every role is gone well before the kill.
        stops = {}
        for role, name in names.items():
            stopping = time.monotonic()
            engine.run("stop", "--time", str(STOP_GRACE), name, timeout=STOP_GRACE + 30)
            stops[role] = time.monotonic() - stopping
            exit_code = engine.run("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
            assert exit_code != "137", f"{role} was killed after {stops[role]:.1f} s:\n{engine.logs(name)}"
        assert stops["web"] < GRACEFUL_TIMEOUT + 2, stops
        assert max(stops.values()) < STOP_GRACE - 1, stops
        print(
            f"containers up in {started_in:.1f} s, seed flow done at {flow_done:.1f} s, "
            + ", ".join(f"{role} stopped in {seconds:.1f} s" for role, seconds in stops.items())
        )
    finally:
        quick = ["--time", "0"] if engine.command == "podman" else []
        for name in [*names.values(), f"{prefix}-migrate"]:
            engine.run("rm", "--force", *quick, name, check=False)


def test_the_compose_stack_migrates_once_then_runs_every_role():
    """compose.yaml as `docker compose` reads it (no engine needed; `compose up` itself needs the images pulled)."""
    import yaml

    stack = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    services = stack["services"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"].startswith("redis:")
    assert services["azurite"]["image"] == "mcr.microsoft.com/azure-storage/azurite"
    roles = {name: service["command"] for name, service in services.items() if "build" in service}
    assert roles == {
        "migrate": ["migrate"],
        "web": ["web"],
        "web-2": ["web"],
        "worker": ["worker"],
        "webhooks": ["webhooks"],
    }
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in roles:
        service = services[name]
        assert service["read_only"] is True and service["tmpfs"] == ["/tmp"], name
        assert {"postgres", "redis", "azurite"} >= set(service["depends_on"]) - {"migrate"}
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
        env = service["environment"]
        assert (
            env["STORAGE_BACKEND"] == "azure"
            and "BlobEndpoint=http://azurite:10000/" in env["AZURE_STORAGE_CONNECTION_STRING"]
        )
        if name != "migrate":
            assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    for name in ("postgres", "redis", "azurite", "web", "web-2"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    # Every role the compose file names is one the entrypoint knows.
    entrypoint = (REPO_ROOT / "deploy" / "image" / "entrypoint.sh").read_text()
    for command in roles.values():
        assert f"    {command[0]})\n" in entrypoint
