"""A durable write-ahead log: what the collector acknowledged survives ``kill -9`` and power loss.

Records go to segment files (see ``_wal_format`` for the bytes); an append returns once its record
is fsync'd. Appenders share fsyncs (group commit): under one lock, each appender writes its record;
the first one to find no fsync in progress becomes the leader, releases the lock and fsyncs every
record written so far while the others wait on a condition; whoever is still not durable afterwards
leads the next round. With N concurrent appenders one fsync serves up to N records, so throughput
grows with concurrency instead of being one disk flush per request.

Consumers (``Cursor``) read at their own pace and commit positions; a segment is deleted once every
consumer committed all its records (with no consumer at all, once it is no longer the segment being
appended to). Beyond ``max_bytes`` the oldest segments go even if not committed, and each consumer
that had not committed them is told how many records it lost (``on_overflow``): never silent.

Memory holds no payloads, only per segment a sparse (position, offset) index, so a 1 GiB log costs
kilobytes; reads are sequential ``pread`` calls of 256 KiB from where the cursor stopped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import zlib
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path

from otel_llm._safety import report
from otel_llm.collector._wal_cursor import Cursor, cursor_path, load_cursors
from otel_llm.collector._wal_format import (
    FILE_HEADER,
    MAX_PAYLOAD,
    RECORD,
    Segment,
    WalClosed,
    closed_segment,
    create_segment,
    datasync,
    encode_header,
    lock_directory,
    recover,
    segment_base,
)

__all__ = ["Cursor", "WalClosed", "WriteAheadLog"]

_log = logging.getLogger("otel_llm.collector")


class WriteAheadLog:
    """Segmented, fsync'd, multi-consumer log of byte payloads. Thread-safe; one process per directory.

    ``fsync_count`` counts fsyncs of segment data (group commits and segment switches), which is how
    tests and benchmarks see that appenders share them. ``on_corrupt(consumer, records_lost)``
    (an addition to the contract) is called when a reader meets damaged records in a segment.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        max_bytes: int = 1 << 30,
        segment_bytes: int = 16 << 20,
        fsync: bool = True,
        on_overflow: Callable[[str, int], None] | None = None,
        on_corrupt: Callable[[str, int], None] | None = None,
    ) -> None:
        if segment_bytes <= FILE_HEADER + RECORD.size:
            raise ValueError("segment_bytes is too small")
        if max_bytes <= FILE_HEADER + RECORD.size:
            raise ValueError("max_bytes is too small")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self.fsync_count = 0
        self._on_overflow = on_overflow
        self._on_corrupt = on_corrupt
        self._lock = threading.Lock()
        self._synced = threading.Condition(self._lock)  # appenders waiting for their fsync
        self._visible = threading.Condition(self._lock)  # readers waiting for new durable records
        self._segments: list[Segment] = []
        self._cursors: dict[str, Cursor] = {}
        self._fd = -1  # the last segment, open for appending
        self._next = 1  # position of the next append
        self._written = 0  # last position written to the file
        self._durable = 0  # last position fsync'd (written, with fsync off): what readers may see
        self._size = 0
        self._syncing = False
        self._failed: OSError | None = None
        self._closed = False
        self.directory.mkdir(parents=True, exist_ok=True)
        self._consumers_dir = self.directory / "consumers"
        self._consumers_dir.mkdir(exist_ok=True)
        self._lock_fd = lock_directory(self.directory)
        try:
            self._open()
        except BaseException:
            if self._fd >= 0:
                os.close(self._fd)
            os.close(self._lock_fd)
            raise

    # -- opening -----------------------------------------------------------------------------------

    def _open(self) -> None:
        found = sorted(
            (base, path) for path in self.directory.iterdir() if (base := segment_base(path.name)) is not None
        )
        stored = load_cursors(self._consumers_dir)
        if not found:
            start = max((c for c in stored.values() if c is not None), default=0) + 1
            self._segments = [create_segment(self.directory, start, self.fsync)]
        else:
            self._segments = [closed_segment(base, path) for base, path in found[:-1]]
            self._segments.append(recover(*found[-1], self.fsync))
        last = self._segments[-1]
        assert last.records is not None
        self._next = last.base + last.records
        self._written = self._durable = self._next - 1
        self._size = sum(s.size for s in self._segments)
        self._fd = os.open(last.path, os.O_WRONLY | os.O_APPEND)
        first = self._segments[0].base
        for name, committed in stored.items():
            start = first - 1 if committed is None or committed < first - 1 else committed
            if committed is None:
                _log.warning("otel-llm write-ahead log: consumer %r has an unreadable position; replaying", name)
            elif committed < first - 1:
                _log.warning(
                    "otel-llm write-ahead log: records %d to %d of consumer %r are gone", committed + 1, first - 1, name
                )
            cursor = Cursor(self, name, start, cursor_path(self._consumers_dir, name))
            if start != committed:
                cursor._persist(start)
            self._cursors[name] = cursor
        ahead = max((c.committed for c in self._cursors.values()), default=0)
        if ahead >= self._next:  # the log lost its tail (fsync off, or damage): never reuse a committed position
            _log.warning(
                "otel-llm write-ahead log: consumers committed up to %d; the log ends at %d", ahead, self._next - 1
            )
            if last.records == 0:
                os.close(self._fd)
                self._fd = -1
                self._delete(last)
            self._next = ahead + 1
            self._written = self._durable = ahead
            self._roll(self._next)
        self._collect_locked()

    # -- appending ---------------------------------------------------------------------------------

    def append(self, payload: bytes) -> int:
        """Store ``payload``; returns its position once it is durable (fsync'd when fsync is on).

        Raises ValueError for a payload that could never fit in ``max_bytes``, WalClosed after
        ``close()``, OSError when the disk fails (the log then refuses appends until reopened,
        since after a failed fsync nobody can tell what reached the disk).
        """
        view = memoryview(payload).cast("B")
        length = view.nbytes
        if length > MAX_PAYLOAD or FILE_HEADER + RECORD.size + length > self.max_bytes:
            raise ValueError(f"a record of {length} bytes does not fit in the log's budget of {self.max_bytes} bytes")
        payload_crc = zlib.crc32(view)  # the costly part of the CRC, outside the lock
        lost: dict[str, int] = {}
        try:
            with self._lock:
                self._check_writable()
                size = RECORD.size + length
                active = self._segments[-1]
                if active.records and active.size + size > self.segment_bytes:
                    self._roll(self._next)
                    self._collect_locked()
                if self._size + size > self.max_bytes:
                    self._make_room(size, lost)
                position = self._next
                self._write(encode_header(length, position, payload_crc), view, position)
                if self.fsync:
                    self._wait_durable(position)
                else:
                    self._publish(position, self._segments[-1], self._segments[-1].size)
                return position
        finally:
            for name, count in lost.items():
                self._callback(self._on_overflow, "collector.wal_overflow", name, count)

    def _write(self, header: bytes, view: memoryview, position: int) -> None:
        active = self._segments[-1]
        total = len(header) + view.nbytes
        try:
            done = os.writev(self._fd, [header, view]) if hasattr(os, "writev") else 0
            if done < total:  # a short write (or no writev): finish with plain writes
                rest = memoryview(header + view.tobytes())[done:]
                while rest:
                    rest = rest[os.write(self._fd, rest) :]
        except OSError:
            with contextlib.suppress(OSError):  # no partial record left: the next append starts there
                os.ftruncate(self._fd, active.size)
            raise
        active.add_index(position, active.size)
        active.size += total
        active.records = (active.records or 0) + 1
        self._size += total
        self._next = position + 1
        self._written = position

    def _wait_durable(self, position: int) -> None:
        """Group commit: lead an fsync of everything written so far, or wait for the one under way."""
        while self._durable < position:
            if self._failed is not None:
                raise OSError(f"the write-ahead log's disk failed: {self._failed}") from self._failed
            if self._syncing:
                self._synced.wait()
                continue
            fd = os.dup(self._fd)  # a segment switch may close self._fd while we sync unlocked
            segment, target, offset = self._segments[-1], self._written, self._segments[-1].size
            self._syncing = True
            error: OSError | None = None
            self._lock.release()
            try:
                datasync(fd)
            except OSError as err:
                error = err
            finally:
                with contextlib.suppress(OSError):
                    os.close(fd)
                self._lock.acquire()
                self._syncing = False
            if error is not None:
                self._failed = error
                self._synced.notify_all()
                continue
            self.fsync_count += 1
            self._publish(target, segment, offset)

    def _publish(self, position: int, segment: Segment, offset: int) -> None:
        segment.visible = max(segment.visible, offset)
        self._durable = max(self._durable, position)
        self._synced.notify_all()
        self._visible.notify_all()

    def _roll(self, base: int) -> None:
        """Start a new segment at position ``base``; the previous one is made durable and closed."""
        old = self._segments[-1] if self._segments else None
        if old is not None and self._fd >= 0:
            if self.fsync and self._durable < self._written:
                try:
                    datasync(self._fd)
                except OSError as err:
                    self._failed = err
                    raise
                self.fsync_count += 1
            os.close(self._fd)
            self._fd = -1
            self._publish(self._written, old, old.size)
        try:
            segment = create_segment(self.directory, base, self.fsync)
        except OSError as err:
            self._failed = err  # no segment to append to: refuse appends until reopened
            raise
        self._segments.append(segment)
        self._size += segment.size
        self._fd = os.open(segment.path, os.O_WRONLY | os.O_APPEND)

    def _make_room(self, size: int, lost: dict[str, int]) -> None:
        """Delete the oldest segments, committed or not, until ``size`` more bytes fit the budget."""
        while self._size + size > self.max_bytes:
            if len(self._segments) == 1:
                if not self._segments[0].records:
                    break  # cannot happen: append checked that one record fits an empty segment
                self._roll(self._next)
            last = self._segments[1].base - 1
            for name, cursor in self._cursors.items():
                count = cursor._drop_through(last)  # persisted before the segment goes
                if count:
                    lost[name] = lost.get(name, 0) + count
            self._delete(self._segments[0])

    # -- consumers ---------------------------------------------------------------------------------

    def consumer(self, name: str) -> Cursor:
        """The named reader; a new name starts at the end (records appended from now on)."""
        path = cursor_path(self._consumers_dir, name)
        with self._lock:
            self._check_open()
            cursor = self._cursors.get(name)
            if cursor is None:
                cursor = Cursor(self, name, self._next - 1, path)
                cursor._persist(self._next - 1)
                self._cursors[name] = cursor
            return cursor

    def remove_consumer(self, name: str) -> None:
        """Forget a consumer (its file too); segments only it still needed are deleted."""
        with self._lock:
            self._check_open()
            cursor = self._cursors.pop(name, None)
            if cursor is not None:
                cursor._remove()
                self._collect_locked()
                self._visible.notify_all()  # its reader, if waiting, wakes up to WalClosed

    def consumers(self) -> list[str]:
        with self._lock:
            return sorted(self._cursors)

    @property
    def size_bytes(self) -> int:
        """Bytes of segment files on disk (headers included)."""
        return self._size

    def close(self) -> None:
        """Make everything appended durable, then refuse appends and reads. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            while self._syncing:
                self._synced.wait()
            if self.fsync and self._durable < self._written and self._failed is None:
                try:
                    datasync(self._fd)
                    self.fsync_count += 1
                    self._publish(self._written, self._segments[-1], self._segments[-1].size)
                except OSError as err:
                    self._failed = err
            self._synced.notify_all()
            self._visible.notify_all()
            if self._fd >= 0:
                os.close(self._fd)
            self._fd = -1
            cursors = list(self._cursors.values())
        for cursor in cursors:
            cursor._close()
        os.close(self._lock_fd)

    # -- for cursors -------------------------------------------------------------------------------

    def _view(self, cursor: Cursor, timeout: float) -> tuple[list[tuple[Segment, int]], int] | None:
        """Segments from the one holding the cursor's next record, with their readable sizes."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                if cursor._removed:
                    cursor._close_fd()
                    raise WalClosed(f"consumer {cursor.name!r} was removed")
                self._check_open()
                cursor._next = max(cursor._next, cursor.committed + 1, self._segments[0].base)
                if cursor._next <= self._durable:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._visible.wait(remaining)
            i = max(0, bisect_right(self._segments, cursor._next, key=lambda s: s.base) - 1)
            return [(s, s.visible) for s in self._segments[i:]], self._durable

    def _nearest(self, segment: Segment, position: int) -> tuple[int, int]:
        with self._lock:
            return segment.nearest(position)

    def _last_position(self) -> int:
        return self._next - 1

    def _collect(self) -> None:
        with self._lock:
            if not self._closed:
                self._collect_locked()

    def _collect_locked(self) -> None:
        """Delete the oldest segments whose records every consumer committed."""
        floor = min((c.committed for c in self._cursors.values()), default=None)
        while len(self._segments) > 1 and (floor is None or self._segments[1].base - 1 <= floor):
            self._delete(self._segments[0])

    def _delete(self, segment: Segment) -> None:
        # No directory fsync: a deletion lost in a crash only brings back records already committed.
        segment.path.unlink(missing_ok=True)
        self._segments.remove(segment)
        self._size -= segment.size

    def _report_damage(self, name: str, count: int) -> None:
        self._callback(self._on_corrupt, "collector.wal_corrupt", name, count)

    def _check_open(self) -> None:
        if self._closed:
            raise WalClosed("the write-ahead log is closed")

    def _check_writable(self) -> None:
        self._check_open()
        if self._failed is not None:
            raise OSError(f"the write-ahead log's disk failed: {self._failed}") from self._failed

    @staticmethod
    def _callback(callback: Callable[[str, int], None] | None, where: str, name: str, count: int) -> None:
        if callback is not None:
            try:
                callback(name, count)
            except Exception as err:  # a metrics bug must not fail an append
                report(where, err)
