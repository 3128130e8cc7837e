"""Run labelhub as one process group: the web server and the django-q2 worker.

Ctrl-C (or SIGTERM) stops both. On the first run a local image-admin
``admin@localhost`` is created and its API key, secret and admin-site
password are printed once.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import apikey_issue

LOCAL_ADMIN = "admin@localhost"


class Command(BaseCommand):
    help = "Run the web server and the background worker together (development default)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8080")
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args, addrport, no_migrate, **options):
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        self._first_run_admin()
        manage = [sys.executable, os.path.abspath(sys.argv[0])]
        children = [
            subprocess.Popen([*manage, "runserver", addrport, "--noreload"]),
            subprocess.Popen([*manage, "qcluster"]),
        ]
        self.stdout.write(f"labelhub on http://{addrport}/api/v1 (admin: http://{addrport}/admin/) — Ctrl-C stops")

        def stop(*_):
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGINT)

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()

    def _first_run_admin(self):
        if User.objects.filter(is_staff=True).exists():
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_superuser(email=LOCAL_ADMIN, password=password)
        issued = apikey_issue(user=user)
        self.stdout.write(
            "First run: created the local image-admin (shown only now, keep it):\n"
            f"  admin site: {LOCAL_ADMIN} / {password}\n"
            f"  API headers: {json.dumps({'Authentication-Key': issued.apikey, 'Authentication-Secret': issued.secret})}"
        )
