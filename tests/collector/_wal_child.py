"""Appends to a write-ahead log until killed, printing each acknowledged record on its own line.

    python -m tests.collector._wal_child DIRECTORY THREADS

Each line is ``position thread counter``, written and flushed only after ``append`` returned, so
the parent knows exactly which records the log acknowledged; the payload is ``payload(thread,
counter)``, so it can be checked after a restart. Run as a separate process for ``kill -9``.
"""

from __future__ import annotations

import hashlib
import sys
import threading

from otel_llm.collector.wal import WriteAheadLog


def payload(thread: int, counter: int) -> bytes:
    """Deterministic bytes of 100 B to ~40 KB, so some appends straddle segment switches."""
    digest = hashlib.sha256(f"{thread}:{counter}".encode()).digest()
    return digest * (3 + (counter * 7919 + thread * 104729) % 1250)


def main() -> None:
    directory, threads = sys.argv[1], int(sys.argv[2])
    log = WriteAheadLog(directory, segment_bytes=1 << 20)
    out = threading.Lock()

    def run(thread: int) -> None:
        counter = 0
        while True:
            position = log.append(payload(thread, counter))
            with out:
                sys.stdout.write(f"{position} {thread} {counter}\n")
                sys.stdout.flush()
            counter += 1

    workers = [threading.Thread(target=run, args=(t,), daemon=True) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
