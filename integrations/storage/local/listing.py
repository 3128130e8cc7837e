"""Listing and removing folders of any size in bounded memory."""

from __future__ import annotations

import heapq
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import suppress

# Keys sorted in memory at most; a larger listing is sorted in runs spilled to
# temporary files and merged, so listing a million-file dropbox holds a few MB.
LIST_SORT_RUN = 5_000
SPILL_READ_SIZE = 8 * 1024


def walk_keys(directory: str, relative: str) -> Iterator[str]:
    """Every file key under ``directory`` (named ``relative`` in its container), one directory at a time."""
    stack = [(directory, f"{relative}/" if relative else "")]
    while stack:
        path, key_prefix = stack.pop()
        try:
            entries = os.scandir(path)
        except (FileNotFoundError, NotADirectoryError):  # removed while listing
            continue
        with entries:
            for entry in entries:
                if entry.is_dir():
                    if not entry.is_symlink():  # as os.walk: a linked folder is neither listed nor entered
                        stack.append((entry.path, f"{key_prefix}{entry.name}/"))
                else:
                    yield key_prefix + entry.name


def sorted_in_bounded_memory(keys: Iterable[str], run: int | None = None) -> Iterator[str]:
    """``sorted(keys)``, holding at most ``run`` keys in memory (an external merge sort)."""
    run = run or LIST_SORT_RUN
    batch: list[str] = []
    spilled: list = []
    try:
        for key in keys:
            batch.append(key)
            if len(batch) >= run:
                spilled.append(_spill(sorted(batch)))
                batch = []
        batch.sort()
        if not spilled:
            yield from batch
            return
        yield from heapq.merge(batch, *(_read_spilled(f) for f in spilled))
    finally:
        for f in spilled:
            f.close()


def _spill(keys: list[str]):
    f = tempfile.TemporaryFile()
    # A file name cannot hold NUL: it separates the keys.
    f.write(b"".join(os.fsencode(key) + b"\0" for key in keys))
    f.seek(0)
    return f


def _read_spilled(f) -> Iterator[str]:
    # Small reads: the merge holds one buffer per run (a million keys are 200 runs).
    rest = b""
    while chunk := f.read(SPILL_READ_SIZE):
        *keys, rest = (rest + chunk).split(b"\0")
        for key in keys:
            yield os.fsdecode(key)


def remove_tree(path: str) -> None:
    """``shutil.rmtree`` without reading a whole folder into memory first (it lists each one whole)."""
    folders = []
    stack = [path]
    while stack:
        folder = stack.pop()
        folders.append(folder)
        removed = True
        while removed:  # entries removed while reading a folder may hide others: read it again until empty
            removed = False
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.path not in stack:
                            stack.append(entry.path)
                    else:
                        with suppress(FileNotFoundError):
                            os.unlink(entry.path)
                        removed = True
    for folder in reversed(folders):
        os.rmdir(folder)
