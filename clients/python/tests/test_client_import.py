"""The client stands alone: importing it loads nothing of Django or of the labelhub server."""

from __future__ import annotations

import subprocess
import sys

SERVER_PACKAGES = ("django", "rest_framework", "labelhub", "accounts", "campaigns", "core", "imagesets")
SERVER_PACKAGES += ("integrations", "testing", "webhooks")


def test_importing_the_client_imports_no_django_nor_server_module():
    script = (
        "import sys, labelhub_client, labelhub_client.client, labelhub_client.webhooks\n"
        f"server = {SERVER_PACKAGES!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in server))\n"
    )
    environment = {"PATH": "/usr/bin:/bin"}  # no DJANGO_SETTINGS_MODULE, no PYTHONPATH of the server
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd="/", check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
