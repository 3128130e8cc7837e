"""The client is a package of its own: it builds as a wheel holding its code, its command and only its own
dependencies (httpx, click, standardwebhooks)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def test_the_client_builds_as_a_wheel_with_the_labelhub_command_and_only_its_own_dependencies(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(PACKAGE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp_path.glob("labelhub_client-*.whl")

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = archive.read(info).decode()
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()

    sources = {path.relative_to(PACKAGE).as_posix() for path in (PACKAGE / "labelhub_client").rglob("*.py")}
    assert sources <= names
    assert not any(name.startswith("tests/") for name in names)
    assert "labelhub = labelhub_client.cli:main" in entry_points
    requires = sorted(
        line.split(":", 1)[1].split(">")[0].split("<")[0].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    )
    assert requires == ["click", "httpx", "standardwebhooks"]
