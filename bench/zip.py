"""The zip writer of the YOLO/VOC exports: labelhub's ``archive.zip_chunks`` against ``stream-zip``.

    .venv/bin/python bench/zip.py --entries 100000 [--runs 2] [--writers ours,stream-zip] [--check]

Each writer zips the same ``--entries`` YOLO label files (names like
``labels/uploads/set-042/IMG_0001234.txt``, ten box lines each, made
deterministically from the entry's number) and the chunks are hashed and
counted, never kept. Every run is a fresh Python process, and its peak RSS
is read from ``VmHWM`` in ``/proc/self/status``, the high-water mark of this
process's own memory since its ``exec``: ``getrusage(RUSAGE_SELF).ru_maxrss``
carries the parent's peak over ``fork`` and ``exec`` on Linux, so after the
parent had read a 100,000-entry zip back with ``--check`` it reported the
parent's 89 MB as the child's baseline. ``baseline`` is the peak just before
the first entry (interpreter and modules loaded), ``growth`` the peak minus
it. One more process per writer measures the Python heap with
``tracemalloc`` (its peak while zipping, so what the writer holds). Each
writer runs ``--runs`` times: the SHA-256 of every run must be the same.
The ``none`` writer only makes the entries (their share of the seconds).

``stream-zip`` is configured as labelhub would use it: deflate level 6 (as
``archive``), ``ZIP_AUTO`` (ZIP64 records when the offsets or the entry
count need them), a fixed 1980-01-01 UTC date, mode 0o100644, no extended
timestamps, 256 KiB chunks. ``--check`` also writes each archive to a
temporary file and opens it with ``zipfile`` (reading every entry back) and
``unzip -tqq``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WRITERS = ("none", "ours", "stream-zip")


def entries(count: int):
    """``count`` (name, YOLO label lines) pairs, the same on every run."""
    for i in range(count):
        rng = random.Random(i)
        lines = "".join(
            f"{rng.randrange(12)} {rng.random()!r} {rng.random()!r} {rng.random() / 4!r} {rng.random() / 4!r}\n"
            for _ in range(10)
        )
        yield f"labels/uploads/set-{i % 100:03d}/IMG_{i:07d}.txt", lines.encode()


def writer(name: str):
    if name == "none":
        return lambda pairs: (content for _, content in pairs)
    if name == "ours":
        from campaigns.export.archive import zip_chunks

        return zip_chunks
    if name == "stream-zip":
        from datetime import UTC, datetime

        from stream_zip import ZIP_AUTO, stream_zip

        fixed = datetime(1980, 1, 1, tzinfo=UTC)

        def stream_zip_chunks(pairs):
            members = ((n, fixed, 0o100644, ZIP_AUTO(len(c), level=6), (c,)) for n, c in pairs)
            return stream_zip(members, chunk_size=256 * 1024, extended_timestamps=False)

        return stream_zip_chunks
    raise SystemExit(f"unknown writer {name!r}")


def max_rss_mb() -> float:
    """This process's peak RSS in MiB (``VmHWM``, reset by ``exec``, unlike ``ru_maxrss``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc/self/status (Linux only)")


def child(args) -> None:
    """One run of one writer in this (fresh) process; prints a JSON line."""
    zip_chunks = writer(args.child)
    baseline = max_rss_mb()
    out = open(args.out, "wb") if args.out else None  # noqa: SIM115 - closed below
    if args.tracemalloc:
        tracemalloc.start()
    digest = hashlib.sha256()
    size = chunks = largest = 0
    started = time.perf_counter()
    for chunk in zip_chunks(entries(args.entries)):
        digest.update(chunk)
        size += len(chunk)
        chunks += 1
        largest = max(largest, len(chunk))
        if out:
            out.write(chunk)
    seconds = time.perf_counter() - started
    heap = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
    if out:
        out.close()
    print(
        json.dumps(
            {
                "writer": args.child,
                "seconds": seconds,
                "size": size,
                "chunks": chunks,
                "largest_chunk": largest,
                "sha256": digest.hexdigest(),
                "baseline_mb": baseline,
                "peak_mb": max_rss_mb(),
                "heap_peak_mb": heap,
            }
        )
    )


def run_child(name: str, count: int, *, trace: bool = False, out: str | None = None) -> dict:
    command = [sys.executable, __file__, "--child", name, "--entries", str(count)]
    if trace:
        command.append("--tracemalloc")
    if out:
        command += ["--out", out]
    done = subprocess.run(
        command, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def check(path: str, count: int) -> str:
    with zipfile.ZipFile(path) as zipped:
        infos = zipped.infolist()
        assert len(infos) == count, (len(infos), count)
        expected = entries(count)
        for info in infos:
            name, content = next(expected)
            assert info.filename == name and zipped.read(info) == content, name
        assert zipped.testzip() is None
    if shutil.which("unzip"):
        subprocess.run(["unzip", "-tqq", path], check=True)
        return "zipfile + unzip -t ok"
    return "zipfile ok (no unzip)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default="100000", help="comma-separated entry counts")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--writers", default=",".join(WRITERS), help="of " + ", ".join(WRITERS))
    parser.add_argument("--check", action="store_true", help="open every archive with zipfile and unzip -t")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.entries = int(args.entries)
        child(args)
        return

    print(
        "| entries | writer | seconds (runs) | size | peak RSS / baseline / growth (MiB) | heap peak (tracemalloc) | sha256 of the runs |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for count in (int(n) for n in args.entries.split(",")):
        for name in args.writers.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "out.zip") if args.check and name != "none" else None
                runs = [run_child(name, count, out=out if i == 0 else None) for i in range(args.runs)]
                checked = check(out, count) if out else ""
            traced = run_child(name, count, trace=True)
            hashes = {r["sha256"] for r in runs} | {traced["sha256"]}
            same = "identical" if len(hashes) == 1 else "DIFFER"
            peak = max(r["peak_mb"] for r in runs)
            baseline = min(r["baseline_mb"] for r in runs)
            seconds = " / ".join(f"{r['seconds']:.2f}" for r in runs)
            print(
                f"| {count:,} | {name} | {seconds} s | {runs[0]['size'] / 2**20:.1f} MiB "
                f"| {peak:.1f} / {baseline:.1f} / **{peak - baseline:.1f} MiB** | {traced['heap_peak_mb']:.1f} MiB "
                f"| {same} (`{runs[0]['sha256'][:12]}`) {checked} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
