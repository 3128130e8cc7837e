"""Run labelhub as one process group: gunicorn (the web server) and the two django-q2 clusters.

The same production server whatever the settings: gunicorn with threaded
workers (``labelhub/gunicorn_conf.py``; ``WEB_WORKERS`` x ``WEB_THREADS``),
``qcluster`` for the jobs (``DJANGO_Q_WORKERS`` worker processes) and
``qcluster`` for the webhook deliveries (``Q_CLUSTER_NAME`` set to
``WEBHOOKS_QUEUE``; ``WEBHOOKS_WORKERS`` processes), so a slow receiver
never holds a job worker. Ctrl-C or SIGTERM stops them all within a few
seconds; if one dies, the others are stopped too and the command exits
non-zero. Prometheus metrics of every process are
collected in one ``PROMETHEUS_MULTIPROC_DIR`` (``var/prometheus`` unless set),
emptied at start. On the first run a local image-admin ``admin@localhost``
is created and its API key, secret and admin-site password printed once.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from accounts.models import User
from accounts.services import apikey_issue
from core.metrics.multiprocess import prepare_multiproc_dir

LOCAL_ADMIN = "admin@localhost"
GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn_conf.py"
# After SIGTERM, how long the children get before they are killed.
STOP_TIMEOUT = 8.0


class Command(BaseCommand):
    help = "Run the web server (gunicorn) and the background workers (django-q2) together."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default=os.environ.get("WEB_BIND", "127.0.0.1:8080"))
        parser.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
        parser.add_argument(
            "--no-worker", action="store_true", help="web server only (job and webhook workers run elsewhere)"
        )

    def handle(self, *args, addrport, no_migrate, no_worker, **options):
        if ":" not in addrport:
            addrport = f"127.0.0.1:{addrport}"
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        self._first_run_admin()
        # This process only watches its children from now on: give back its connections.
        for alias in connections:
            connections[alias].close()
            if hasattr(connections[alias], "close_pool"):
                connections[alias].close_pool()

        env = dict(os.environ)
        metrics_dir = env.get("PROMETHEUS_MULTIPROC_DIR") or str(Path(settings.BASE_DIR) / "var" / "prometheus")
        env["PROMETHEUS_MULTIPROC_DIR"] = str(prepare_multiproc_dir(metrics_dir))
        manage = [sys.executable, os.path.abspath(sys.argv[0])]
        commands = [
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--bind", addrport, "labelhub.wsgi"],
        ]
        envs = [env]
        if not no_worker:
            commands.append([*manage, "qcluster"])
            envs.append(env)
            commands.append([*manage, "qcluster"])
            envs.append({**env, "Q_CLUSTER_NAME": settings.WEBHOOKS_QUEUE})
        # Each child leads its own process group, so stopping it stops what it forked too.
        children = [
            subprocess.Popen(command, env=child_env, start_new_session=True)
            for command, child_env in zip(commands, envs, strict=True)
        ]
        self.stdout.write(
            f"labelhub on http://{addrport}/api/v1 (admin: http://{addrport}/admin/) — Ctrl-C stops",
        )
        self.stdout.flush()

        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
        died = [child for child in children if child.poll() is not None]
        self._stop(children)
        if died and not stopping:
            raise CommandError(f"{' '.join(died[0].args[:3])} exited with {died[0].returncode}; stopped the rest")

    def _stop(self, children) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # A job in flight is recovered by the next worker (core.jobs sweep).
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()

    def _first_run_admin(self):
        if User.objects.filter(is_staff=True).exists():
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_superuser(email=LOCAL_ADMIN, password=password)
        issued = apikey_issue(user=user)
        self.stdout.write(
            "First run: created the local image-admin (shown only now, keep it):\n"
            f"  admin site: {LOCAL_ADMIN} / {password}\n"
            "  API headers: "
            + json.dumps({"Authentication-Key": issued.apikey, "Authentication-Secret": issued.secret})
        )
