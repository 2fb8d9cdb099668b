"""Throughput of the collector's write-ahead log: durable appends (fsync on) and sequential reads.

    python bench/wal.py [--dir PATH] [--seconds 3] [--read-mb 512]

Each append case runs THREADS threads that append payloads of one size for ``--seconds``; an append
counts once it returned, i.e. once its record was fsync'd. Printed: appends/s, MB/s of payload, and
appends per fsync (how many records each group commit carried). The read case appends
``--read-mb`` MB of 64 KB records (fsync off, so the figure is not capped by the disk's flush rate),
reopens the log and reads it all through one consumer: mostly the page cache, so it measures
the log's own cost (syscalls, CRC, copies) rather than the disk. Use ``--dir`` to bench a disk other
than the temporary directory's.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

from otel_llm.collector.wal import WriteAheadLog

CASES = ((64 << 10, 1), (64 << 10, 8), (4 << 10, 1), (4 << 10, 8))


def bench_appends(directory: Path, size: int, threads: int, seconds: float) -> tuple[float, float, float]:
    """(appends/s, payload MB/s, appends per fsync) with fsync on, for ``threads`` appenders."""
    shutil.rmtree(directory, ignore_errors=True)
    log = WriteAheadLog(directory, max_bytes=4 << 30)
    log.consumer("bench")  # a consumer that never commits: segments stay, as in an outage
    body = bytes(range(256)) * (size // 256)
    counts = [0] * threads
    stop = threading.Event()

    def run(slot: int) -> None:
        while not stop.is_set():
            log.append(body)
            counts[slot] += 1

    workers = [threading.Thread(target=run, args=(slot,)) for slot in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    appends = sum(counts)
    fsyncs = max(1, log.fsync_count)
    log.close()
    shutil.rmtree(directory, ignore_errors=True)
    return appends / elapsed, appends * size / elapsed / 1e6, appends / fsyncs


def bench_reads(directory: Path, megabytes: int, size: int = 64 << 10) -> tuple[float, float]:
    """(records/s, payload MB/s) reading ``megabytes`` of ``size``-byte records through one consumer."""
    shutil.rmtree(directory, ignore_errors=True)
    log = WriteAheadLog(directory, max_bytes=4 << 30, fsync=False)
    log.consumer("reader")
    body = bytes(range(256)) * (size // 256)
    count = megabytes * (1 << 20) // size
    for _ in range(count):
        log.append(body)
    log.close()
    log = WriteAheadLog(directory, max_bytes=4 << 30, fsync=False)
    cursor = log.consumer("reader")
    read = 0
    started = time.perf_counter()
    while records := cursor.read(256):
        read += len(records)
    elapsed = time.perf_counter() - started
    log.close()
    shutil.rmtree(directory, ignore_errors=True)
    assert read == count, (read, count)
    return read / elapsed, read * size / elapsed / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="where to put the log (default: a temporary dir)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per append case")
    parser.add_argument("--read-mb", type=int, default=512, help="MB to write, then read back")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="otel-llm-wal-bench-", dir=args.dir))
    try:
        print("appends with fsync on (each append returns once durable)")
        for size, threads in CASES:
            rate, mbps, per_fsync = bench_appends(base / "log", size, threads, args.seconds)
            print(
                f"  {size >> 10:>3} KB x {threads} thread{'s' if threads > 1 else ' '}  "
                f"{rate:9,.0f} appends/s  {mbps:7.1f} MB/s  {per_fsync:5.1f} appends/fsync"
            )
        rate, mbps = bench_reads(base / "log", args.read_mb)
        print(f"reads, 64 KB records, one consumer: {rate:9,.0f} records/s  {mbps:7.1f} MB/s")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
