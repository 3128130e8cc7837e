"""Peak memory of the finish job when a dropbox holds huge files that are not images.

    .venv/bin/python bench/hostile_ingest.py [--images 1000] [--junk 10] [--junk-mb 200]

Local storage in a temporary folder, a throwaway SQLite database. Each case
runs in a fresh process (its peak RSS is its own): the finish job of a set of
``--images`` small JPEGs alone, then of the same images plus ``--junk`` files
of ``--junk-mb`` MB that are not images (a zip header, then random bytes: a
video or an archive dropped by mistake). It prints wall time, peak RSS of the
process, the bytes the probe read per file (the copies are streamed by the
storage backend and not counted) and what the job skipped. The goal: peak
RSS flat with and without the huge files, at most 64 KiB read from each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_case(images: int, junk: int, junk_mb: int) -> dict:
    """Set up Django on a fresh database and storage in this process, then run one finish job."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import User
    from imagesets import services
    from imagesets.models import ImageSetJob
    from imagesets.naming import dropbox_name
    from imagesets.tests import samples
    from integrations.storage import get_storage

    storage = get_storage()
    user = User.objects.create_user(email="bench@localhost", is_staff=True)
    imageset = services.imageset_create(title="hostile-bench", created_by=user)
    dropbox = dropbox_name(imageset.title)
    jpeg = samples.jpeg(640, 480)
    for i in range(images):
        storage.write(f"{dropbox}/img-{i:05}.jpg", [jpeg], content_type="image/jpeg")
    chunk = os.urandom(1024 * 1024)
    for i in range(junk):
        # A zip's magic, then random megabytes: no image format starts like this.
        storage.write(
            f"{dropbox}/junk-{i}.zip",
            (b"PK\x03\x04" + chunk[4:] if n == 0 else chunk for n in range(junk_mb)),
            content_type="application/zip",
        )

    read = {"bytes": 0, "max_per_file": 0}
    real_read_range = storage.read_range

    def counting_read_range(path, offset, length):
        data = real_read_range(path, offset, length)
        read["bytes"] += len(data)
        read["max_per_file"] = max(read["max_per_file"], offset + len(data))
        return data

    storage.read_range = counting_read_range
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    services.imageset_finish(imageset_id=imageset.pk, queue=False)
    started = time.perf_counter()
    services.imageset_finish_run(imageset_id=imageset.pk)
    seconds = time.perf_counter() - started
    job = ImageSetJob.objects.get(imageset=imageset)
    return {
        "status": job.status,
        "files": job.total,
        "skipped": len(job.skipped),
        "skipped_reason": sorted(set((job.result.get("skipped_reasons") or {}).values())),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_job_mb": round(rss_before / 1024, 1),
        "probe_bytes_per_file": round(read["bytes"] / max(job.total, 1)),
        "probe_max_bytes_one_file": read["max_per_file"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--junk", type=int, default=10)
    parser.add_argument("--junk-mb", type=int, default=200)
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case in this process
    args = parser.parse_args()

    if args.case:
        images, junk = (int(n) for n in args.case.split(","))
        print(json.dumps(run_case(images, junk, args.junk_mb)))
        return

    rows = []
    for junk in (0, args.junk):
        with tempfile.TemporaryDirectory(prefix="labelhub-hostile-") as folder:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "labelhub.settings",
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": "bench-only-" + "x" * 50,
                "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
                "MEDIA_ROOT": f"{folder}/media",
                "STORAGE_BACKEND": "local",
                "DJANGO_Q_SYNC": "1",
            }
            env.pop("REDIS_URL", None)
            out = subprocess.run(
                [sys.executable, __file__, "--case", f"{args.images},{junk}", "--junk-mb", str(args.junk_mb)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rows.append((junk, json.loads(out.strip().splitlines()[-1])))

    print(
        f"{'case':<34} {'status':<10} {'files':>6} {'skipped':>7} {'wall s':>7} {'RSS before job MB':>17} "
        f"{'peak RSS MB':>11} {'probe B/file':>12} {'max B one file':>14}"
    )
    for junk, row in rows:
        case = f"{args.images} images + {junk} x {args.junk_mb} MB junk" if junk else f"{args.images} images"
        print(
            f"{case:<34} {row['status']:<10} {row['files']:>6} {row['skipped']:>7} {row['seconds']:>7} "
            f"{row['rss_before_job_mb']:>17} {row['peak_rss_mb']:>11} {row['probe_bytes_per_file']:>12} {row['probe_max_bytes_one_file']:>14}"
        )
    growth = rows[1][1]["peak_rss_mb"] - rows[0][1]["peak_rss_mb"]
    print(f"skipped because: {rows[1][1]['skipped_reason']}")
    print(
        f"peak RSS growth from the junk: {growth:+.1f} MB "
        f"({'PASS' if growth < 20 else 'FAIL'}: flat, under 20 MB); "
        f"most read of one file: {rows[1][1]['probe_max_bytes_one_file']} B "
        f"({'PASS' if rows[1][1]['probe_max_bytes_one_file'] <= 64 * 1024 else 'FAIL'}: at most 64 KiB)"
    )


if __name__ == "__main__":
    main()
