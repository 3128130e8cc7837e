"""Latency of one server-side copy on Azurite: a plain source URL against a source SAS.

    .venv/bin/python bench/copy_source.py [--copies 100] [--size-kib 200] [--rounds 2]

Starts its own Azurite with two accounts (tools/azurite, installed by
`make test`). Copies one blob of the given size that many times, one at a
time, three ways: inside the account with a read SAS on the source (what
labelhub did before), inside the account with the plain source URL
(``AzureStorage.copy`` now: the destination request's Shared Key authorises
the source), and from the second account (``copy(..., source_storage=...)``,
which needs and sends a read SAS). Azurite verifies a source that carries a
SAS, or that is in another account, by requesting it from itself.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed_ms(fn, copies: int) -> tuple[float, float]:
    samples = []
    for i in range(copies):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), statistics.mean(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=100, help="copies per measurement")
    parser.add_argument("--size-kib", type=int, default=200, help="size of the copied blob")
    parser.add_argument("--rounds", type=int, default=2, help="times to repeat the same-account pair")
    args = parser.parse_args()

    from integrations.storage.azure import AzureStorage
    from testing.azurite import SECOND_ACCOUNT_NAME, Azurite

    location = tempfile.mkdtemp(prefix="labelhub-bench-copy-")
    data = os.urandom(args.size_kib * 1024)
    try:
        with Azurite(Path(location)) as azurite:
            storage = AzureStorage(azurite.connection_string)
            other = AzureStorage(azurite.connection_string_for(SECOND_ACCOUNT_NAME))
            storage.write("bench-src/a.bin", [data])
            other.write("bench-other/a.bin", [data])
            source = storage._service.get_blob_client("bench-src", "a.bin")

            def with_source_sas(i):
                url = storage._blob_read_sas_url(source, valid_for=timedelta(hours=1))
                copied = storage._service.get_blob_client("bench-sas", f"{i}.bin").start_copy_from_url(url)
                assert copied["copy_status"] == "success"

            storage.copy("bench-src/a.bin", "bench-sas/warm.bin")
            storage.copy("bench-src/a.bin", "bench-plain/warm.bin")
            rows = []
            for _ in range(args.rounds):
                rows.append(("same account, source SAS (before)", timed_ms(with_source_sas, args.copies)))
                rows.append(
                    (
                        "same account, plain URL (copy)",
                        timed_ms(lambda i: storage.copy("bench-src/a.bin", f"bench-plain/{i}.bin"), args.copies),
                    )
                )
            rows.append(
                (
                    "other account, source SAS (copy)",
                    timed_ms(
                        lambda i: storage.copy("bench-other/a.bin", f"bench-cross/{i}.bin", source_storage=other),
                        args.copies,
                    ),
                )
            )
    finally:
        shutil.rmtree(location, ignore_errors=True)

    print(f"{args.copies} copies of {args.size_kib} KiB, one at a time")
    for label, (median, mean) in rows:
        print(f"  {label:<36} median {median:5.1f} ms   mean {mean:5.1f} ms")


if __name__ == "__main__":
    main()
