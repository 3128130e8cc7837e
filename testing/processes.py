"""A process of the suite's own (a job cluster, a second host) in a session of its own, stopped whatever happens."""

from __future__ import annotations

import os
import signal
import subprocess
from contextlib import contextmanager, suppress
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def process_group(command: list[str], *, env: dict, log_path: Path):
    """Run ``command`` from the repository root, its output in ``log_path``; yields the ``Popen``.

    It leads a session of its own, so its children (a django-q2 cluster's
    workers) are one process group. At the end the group is resumed (a test
    may have frozen it), asked to stop with SIGTERM, and what is left of it
    after 20 s is killed.
    """
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGCONT)
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
