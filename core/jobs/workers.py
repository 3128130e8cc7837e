"""Which process runs a job: ``"<host>:<pid>"``, and whether that process is gone."""

from __future__ import annotations

import os
import socket


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def worker_is_dead(worker: str) -> bool:
    """Whether ``worker`` ("host:pid") names a process of this host that no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdecimal():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False
