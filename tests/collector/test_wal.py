"""The write-ahead log on a real disk: positions, consumers, restarts, damage, the disk budget,
group commit under concurrency, and ``kill -9`` of a process appending to it."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_llm.collector._wal_format import FILE_HEADER, RECORD
from otel_llm.collector.wal import WalClosed, WriteAheadLog
from tests.collector._wal_child import payload as child_payload

REPO = Path(__file__).resolve().parents[2]


def payload(position: int, size: int = 100) -> bytes:
    """The bytes stored at ``position`` in these tests: checkable after any restart."""
    return (f"<{position}>".encode() * size)[:size]


def read_all(cursor, batch: int = 64) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    while records := cursor.read(batch):
        out.extend(records)
    return out


def segment_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.wal"))


@pytest.fixture
def wal_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "wal"


def test_append_read_commit_and_lag(wal_dir: Path) -> None:
    log = WriteAheadLog(wal_dir)
    cursor = log.consumer("a")
    positions = [log.append(payload(i)) for i in range(1, 11)]
    assert positions == list(range(1, 11))
    assert cursor.lag == 10
    first = cursor.read(4)
    assert first == [(p, payload(p)) for p in range(1, 5)]
    assert cursor.read(100) == [(p, payload(p)) for p in range(5, 11)]
    assert cursor.read(100) == []
    cursor.commit(4)
    assert cursor.lag == 6
    cursor.commit(2)  # going back changes nothing
    assert cursor.committed == 4
    with pytest.raises(ValueError):
        cursor.commit(11)
    cursor.rewind()
    assert [p for p, _ in cursor.read(3)] == [5, 6, 7]
    assert log.consumer("a") is cursor and log.consumers() == ["a"]
    log.close()
    with pytest.raises(WalClosed):
        log.append(b"late")
    with pytest.raises(WalClosed):
        cursor.read()


def test_restart_resumes_after_the_committed_position(wal_dir: Path) -> None:
    log = WriteAheadLog(wal_dir, segment_bytes=1024)
    cursor = log.consumer("a")
    for i in range(1, 31):
        log.append(payload(i))
    assert len(cursor.read(20)) == 20
    cursor.commit(17)
    log.close()

    log = WriteAheadLog(wal_dir, segment_bytes=1024)
    assert log.consumers() == ["a"]
    cursor = log.consumer("a")
    assert cursor.committed == 17 and cursor.lag == 13
    assert read_all(cursor) == [(p, payload(p)) for p in range(18, 31)]
    assert log.append(payload(31)) == 31  # positions continue across restarts
    assert cursor.read() == [(31, payload(31))]
    log.close()


def test_a_new_consumer_starts_at_the_end(wal_dir: Path) -> None:
    log = WriteAheadLog(wal_dir)
    log.consumer("early")
    for i in range(1, 6):
        log.append(payload(i))
    late = log.consumer("late")
    assert late.read() == [] and late.lag == 0
    log.append(payload(6))
    assert late.read() == [(6, payload(6))]
    log.close()


def test_read_waits_for_an_append(wal_dir: Path) -> None:
    log = WriteAheadLog(wal_dir)
    cursor = log.consumer("a")
    timer = threading.Timer(0.1, lambda: log.append(b"soon"))
    timer.start()
    started = time.monotonic()
    assert cursor.read(10, timeout=5.0) == [(1, b"soon")]
    assert time.monotonic() - started < 2.0
    assert cursor.read(10, timeout=0.05) == []
    timer.join()
    log.close()


def test_committed_and_orphaned_segments_are_deleted(wal_dir: Path) -> None:
    log = WriteAheadLog(wal_dir, segment_bytes=1024)
    for i in range(1, 41):  # no consumer: nothing kept beyond the segment being appended to
        log.append(payload(i))
    assert len(segment_files(wal_dir)) == 1
    a, b = log.consumer("a"), log.consumer("b")
    for i in range(41, 141):
        log.append(payload(i))
    many = len(segment_files(wal_dir))
    assert many > 5
    records = read_all(a)
    a.commit(records[-1][0])
    assert len(segment_files(wal_dir)) == many  # b still needs them
    full = log.size_bytes
    assert full == sum(p.stat().st_size for p in segment_files(wal_dir))
    log.remove_consumer("b")
    assert log.consumers() == ["a"]
    assert len(segment_files(wal_dir)) == 1 and log.size_bytes < full
    assert log.size_bytes == segment_files(wal_dir)[0].stat().st_size
    with pytest.raises(WalClosed):
        b.read()
    log.close()
    assert not (wal_dir / "consumers" / (b"b".hex() + ".cursor")).exists()


def test_torn_tail_is_truncated(wal_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    log = WriteAheadLog(wal_dir)
    log.consumer("a")
    for i in range(1, 21):
        log.append(payload(i))
    log.close()
    last = segment_files(wal_dir)[-1]
    os.truncate(last, last.stat().st_size - 3)  # the last write was cut short by a crash

    with caplog.at_level(logging.WARNING, logger="otel_llm.collector"):
        log = WriteAheadLog(wal_dir)
    assert "truncated" in caplog.text
    cursor = log.consumer("a")
    assert read_all(cursor) == [(p, payload(p)) for p in range(1, 20)]
    assert log.append(payload(20)) == 20  # the torn record was never acknowledged: its place is free
    assert cursor.read() == [(20, payload(20))]
    log.close()


def test_garbage_never_stops_the_log_from_opening(wal_dir: Path) -> None:
    log = WriteAheadLog(wal_dir)
    log.consumer("a")
    for i in range(1, 6):
        log.append(payload(i))
    log.close()
    last = segment_files(wal_dir)[-1]
    with last.open("ab") as file:
        file.write(b"\0" * 4096 + os.urandom(5000))  # zeros from a crash, then junk
    log = WriteAheadLog(wal_dir)
    assert read_all(log.consumer("a")) == [(p, payload(p)) for p in range(1, 6)]
    log.close()

    (wal_dir / "00000000000000000100.wal").write_bytes(os.urandom(3000))  # a last segment of pure junk
    (wal_dir / "consumers" / (b"a".hex() + ".cursor")).write_bytes(b"{not json")
    log = WriteAheadLog(wal_dir)
    cursor = log.consumer("a")  # unreadable position: replays what is left rather than skip it
    assert read_all(cursor) == [(p, payload(p)) for p in range(1, 6)]
    assert log.append(b"after") == 100
    assert cursor.read() == [(100, b"after")]
    log.close()


def test_corrupted_middle_loses_the_rest_of_that_segment_only(wal_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    size = 200
    per_segment = 10
    segment_bytes = FILE_HEADER + per_segment * (RECORD.size + size)
    damage: list[tuple[str, int]] = []
    log = WriteAheadLog(wal_dir, segment_bytes=segment_bytes, on_corrupt=lambda n, c: damage.append((n, c)))
    log.consumer("a")
    for i in range(1, 36):
        log.append(payload(i, size))
    log.close()
    first = segment_files(wal_dir)[0]
    data = bytearray(first.read_bytes())
    data[FILE_HEADER + 3 * (RECORD.size + size) + RECORD.size + 50] ^= 0xFF  # a byte of record 4's payload
    first.write_bytes(bytes(data))

    log = WriteAheadLog(wal_dir, segment_bytes=segment_bytes, on_corrupt=lambda n, c: damage.append((n, c)))
    cursor = log.consumer("a")
    with caplog.at_level(logging.WARNING, logger="otel_llm.collector"):
        records = read_all(cursor, batch=7)
    assert [p for p, _ in records] == [1, 2, 3, *range(11, 36)]
    assert all(body == payload(p, size) for p, body in records)
    assert damage == [("a", 7)] and cursor.lost == 7
    assert "damaged at record 4" in caplog.text
    log.close()


def test_corrupted_header_before_a_restart_point(wal_dir: Path) -> None:
    """A reader that must find its place inside a damaged segment skips to the next segment."""
    size = 200
    segment_bytes = FILE_HEADER + 10 * (RECORD.size + size)
    log = WriteAheadLog(wal_dir, segment_bytes=segment_bytes)
    cursor = log.consumer("a")
    for i in range(1, 26):
        log.append(payload(i, size))
    cursor.commit(5)
    log.close()
    first = segment_files(wal_dir)[0]
    data = bytearray(first.read_bytes())
    data[FILE_HEADER + 2 * (RECORD.size + size) + 8] ^= 0x01  # the position field of record 3
    first.write_bytes(bytes(data))

    log = WriteAheadLog(wal_dir, segment_bytes=segment_bytes)
    cursor = log.consumer("a")
    assert [p for p, _ in read_all(cursor)] == list(range(11, 26))
    assert cursor.lost == 5  # records 6..10
    log.close()


def test_disk_budget_drops_the_oldest_segments_and_counts_per_consumer(wal_dir: Path) -> None:
    size = 1000
    segment_bytes = FILE_HEADER + 16 * (RECORD.size + size)  # exactly 16 records per segment
    max_bytes = 4 * segment_bytes + FILE_HEADER
    overflow: list[tuple[str, int]] = []
    log = WriteAheadLog(
        wal_dir, max_bytes=max_bytes, segment_bytes=segment_bytes, on_overflow=lambda n, c: overflow.append((n, c))
    )
    idle, busy = log.consumer("idle"), log.consumer("busy")
    for i in range(1, 101):
        assert log.append(payload(i, size)) == i
        busy.commit(busy.read()[-1][0])
        assert log.size_bytes <= max_bytes
    # Record 65 opens segment 5 of a full budget: segment 1 (1..16) goes; then at 81 and 97.
    assert overflow == [("idle", 16)] * 3
    assert idle.lost == 48
    records = read_all(idle)
    assert [p for p, _ in records] == list(range(49, 101))
    assert sum(c for _, c in overflow) + len(records) == 100  # every record read or counted
    with pytest.raises(ValueError):
        log.append(b"x" * max_bytes)
    log.close()
    log = WriteAheadLog(wal_dir, max_bytes=max_bytes, segment_bytes=segment_bytes)
    assert log.consumer("idle").committed == 48  # the move past the dropped records was persisted
    log.close()


def test_large_records_and_fsync_off(wal_dir: Path) -> None:
    log = WriteAheadLog(wal_dir, segment_bytes=1 << 20, fsync=False)
    cursor = log.consumer("a")
    bodies = [os.urandom(n) for n in (3 << 20, 10, 300 << 10, 1)]
    for body in bodies:
        log.append(body)
    assert log.fsync_count == 0
    assert [body for _, body in read_all(cursor, batch=2)] == bodies
    log.close()


def test_one_process_per_directory(wal_dir: Path) -> None:
    log = WriteAheadLog(wal_dir)
    with pytest.raises(RuntimeError, match="another process"):
        WriteAheadLog(wal_dir)
    log.close()
    WriteAheadLog(wal_dir).close()


def test_concurrent_appenders_share_fsyncs(wal_dir: Path) -> None:
    threads, per_thread = 8, 150
    log = WriteAheadLog(wal_dir, segment_bytes=256 << 10)
    cursor = log.consumer("reader")
    got: dict[int, bytes] = {}
    done = threading.Event()

    def read() -> None:
        while not done.is_set() or cursor.lag:
            for position, body in cursor.read(100, timeout=0.05):
                assert position not in got
                got[position] = body
            if got:
                cursor.commit(max(got))

    def append(thread: int) -> list[tuple[int, bytes]]:
        mine = []
        for n in range(per_thread):
            body = f"{thread}:{n}:".encode() * 50
            mine.append((log.append(body), body))
        return mine

    reader = threading.Thread(target=read)
    reader.start()
    results: list[list[tuple[int, bytes]]] = [[] for _ in range(threads)]
    workers = [threading.Thread(target=lambda t=t: results.__setitem__(t, append(t))) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    reader.join(30)
    appended = dict(pair for result in results for pair in result)
    total = threads * per_thread
    assert sorted(appended) == list(range(1, total + 1))  # unique, no gaps
    assert got == appended  # every record read back exactly once, with its payload
    assert 0 < log.fsync_count < total  # group commit: appenders shared fsyncs
    log.close()


def test_kill_9_loses_nothing_acknowledged(wal_dir: Path) -> None:
    log = WriteAheadLog(wal_dir)
    log.consumer("check")  # exists before the first append, so it will read everything
    log.close()
    acknowledged: list[tuple[int, int, int]] = []
    for _ in range(2):  # the second child appends to a log recovered from the first kill
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.collector._wal_child", str(wal_dir), "4"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        lines = 0
        deadline = time.monotonic() + 20
        while lines < 300 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            acknowledged.append(tuple(map(int, line.split())))  # type: ignore[arg-type]
            lines += 1
        os.kill(child.pid, signal.SIGKILL)  # mid-append: threads are writing and syncing right now
        for line in child.stdout:  # what it printed before dying was acknowledged too
            if line.endswith("\n"):
                acknowledged.append(tuple(map(int, line.split())))  # type: ignore[arg-type]
        child.wait(10)
        assert child.returncode == -signal.SIGKILL
        assert lines == 300, "the child did not append"

    log = WriteAheadLog(wal_dir, segment_bytes=1 << 20)
    stored = dict(read_all(log.consumer("check"), batch=256))
    log.close()
    assert len(stored) >= len(acknowledged)
    assert sorted(stored) == list(range(1, len(stored) + 1))
    for position, thread, counter in acknowledged:
        assert stored.get(position) == child_payload(thread, counter), position


def test_overflow_while_appending_and_reading_concurrently(wal_dir: Path) -> None:
    """Budget deletions racing with readers: no deadlock, no record twice, none unaccounted for."""
    size = 2000
    log = WriteAheadLog(wal_dir, max_bytes=64 << 10, segment_bytes=8 << 10, fsync=False)  # appends outrun "slow"
    cursors = [log.consumer("fast"), log.consumer("slow")]
    seen: dict[str, list[int]] = {"fast": [], "slow": []}
    stop = threading.Event()

    def consume(cursor, pause: float) -> None:
        while not stop.is_set() or cursor.lag:
            for position, body in cursor.read(16, timeout=0.02):
                assert body == payload(position, size)
                seen[cursor.name].append(position)
                cursor.commit(position)
            time.sleep(pause)

    readers = [threading.Thread(target=consume, args=(c, p)) for c, p in zip(cursors, (0.0, 0.02), strict=True)]
    for reader in readers:
        reader.start()
    for position in range(1, 151):  # one appender, so each payload can be made for its position
        assert log.append(payload(position, size)) == position
    stop.set()
    for reader in readers:
        reader.join(30)
        assert not reader.is_alive()
    for cursor in cursors:
        positions = seen[cursor.name]
        assert positions == sorted(set(positions))  # in order, never twice
        assert len(positions) + cursor.lost >= 150  # each record delivered or counted as lost
        assert cursor.committed == 150
    assert seen["slow"] != list(range(1, 151)) and cursors[1].lost > 0  # the budget did bite
    log.close()


def test_a_lost_tail_never_reuses_a_committed_position(wal_dir: Path) -> None:
    """With fsync off a machine crash can lose records a consumer already committed: new records
    must then get new positions, or that consumer would skip them."""
    log = WriteAheadLog(wal_dir, fsync=False)
    cursor = log.consumer("a")
    for i in range(1, 11):
        log.append(payload(i))
    cursor.commit(cursor.read()[-1][0])
    log.close()
    os.truncate(segment_files(wal_dir)[-1], FILE_HEADER)  # the page cache never reached the disk
    log = WriteAheadLog(wal_dir, fsync=False)
    cursor = log.consumer("a")
    assert log.append(b"new") == 11
    assert cursor.read() == [(11, b"new")]
    log.close()
