"""prometheus-client's multiprocess folder (``PROMETHEUS_MULTIPROC_DIR``): whether it is in use, and preparing it.

With the variable set, every process writes its values to files in that folder
and a scrape sums them (``core.metrics`` tells the whole story). ``manage.py
serve`` empties the folder before it starts the processes.
"""

from __future__ import annotations

import os
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiproc_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiproc_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` and empty it of metric files of earlier runs; call before starting the processes.

    Only prometheus-client's ``*.db`` files are removed, nothing else that
    may be in the folder.
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink(missing_ok=True)
    return folder
