"""Consumers of the write-ahead log: a named cursor each, with a committed position kept on disk.

A cursor has two positions: what it has *read* (in memory; a restart or ``rewind`` forgets it) and
what it has *committed* (on disk, in ``consumers/<hex of the name>.cursor``, replaced atomically by
write-then-rename with the file and the directory fsync'd). Delivery is at least once: whatever was
read and not committed is read again after a crash.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from otel_llm.collector._wal_format import Segment, WalClosed, fsync_directory, read_records, skip_to, write_file

if TYPE_CHECKING:
    from otel_llm.collector.wal import WriteAheadLog

_log = logging.getLogger("otel_llm.collector")

MAX_NAME_BYTES = 100  # the name, hex-encoded, is the file name: keep it under any filesystem's limit
_SUFFIX = ".cursor"


def cursor_path(directory: Path, name: str) -> Path:
    raw = name.encode("utf-8")
    if not raw or len(raw) > MAX_NAME_BYTES:
        raise ValueError(f"a consumer name must be 1 to {MAX_NAME_BYTES} UTF-8 bytes")
    return directory / (raw.hex() + _SUFFIX)


def load_cursors(directory: Path) -> dict[str, int | None]:
    """Committed positions on disk by consumer name; None for a file whose content is unreadable."""
    found: dict[str, int | None] = {}
    for path in directory.iterdir():
        if path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)  # a write that a crash cut short: the rename never happened
            continue
        if not path.name.endswith(_SUFFIX):
            continue
        try:
            name = bytes.fromhex(path.name[: -len(_SUFFIX)]).decode("utf-8")
            cursor_path(directory, name)  # a name we could have written
        except ValueError:
            _log.warning("otel-llm write-ahead log: ignoring %s (not a consumer file)", path)
            continue
        try:
            data = json.loads(path.read_bytes())
            committed = data["committed"]
            found[name] = committed if isinstance(committed, int) and data.get("name") == name else None
        except (OSError, ValueError, KeyError, TypeError):
            found[name] = None
    return found


def write_cursor(path: Path, name: str, committed: int, fsync: bool) -> None:
    """Replace the consumer file atomically: a crash leaves the old position or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    write_file(tmp, json.dumps({"name": name, "committed": committed}).encode("utf-8"), fsync)
    os.replace(tmp, path)
    if fsync:
        fsync_directory(path.parent)


class Cursor:
    """A named reader of the log. Thread-safe; meant to be driven by one delivery thread.

    Reads take ``_read_lock`` (held across file I/O and while waiting for records, never while the
    log's lock is wanted by someone holding ``_commit_lock``); the committed position and its file
    are guarded by ``_commit_lock``. The log may take ``_commit_lock`` under its own lock (to move a
    cursor past segments dropped for the disk budget), so a commit never takes the log's lock while
    holding ``_commit_lock``.
    """

    def __init__(self, log: WriteAheadLog, name: str, committed: int, path: Path) -> None:
        self.name = name
        self.lost = 0  # records this consumer never got: dropped for the disk budget or damaged
        self._log = log
        self._path = path
        self._committed = committed
        self._next = committed + 1  # the next position to read
        self._read_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._removed = False
        self._fd = -1  # read descriptor of _segment; survives the file's deletion (POSIX)
        self._segment: Segment | None = None
        self._offset = 0  # file offset of record _at in _segment
        self._at = 0

    @property
    def committed(self) -> int:
        return self._committed

    @property
    def lag(self) -> int:
        """Records appended and not yet committed by this consumer."""
        return max(0, self._log._last_position() - self._committed)

    def read(self, max_records: int = 256, timeout: float = 0.0) -> list[tuple[int, bytes]]:
        """The next records after what this cursor has read (not committed), as (position, payload).

        Waits up to ``timeout`` seconds for a record when none is ready; ``[]`` when none came.
        Only durable records are returned. Raises ``WalClosed`` once the log is closed or this
        consumer was removed.
        """
        if max_records < 1:
            return []
        with self._read_lock:
            view = self._log._view(self, timeout)
            if view is None:
                return []
            segments, durable = view
            return self._read(segments, durable, max_records)

    def commit(self, position: int) -> None:
        """Every record up to ``position`` is done for this consumer: durable once this returns.

        A position at or below the committed one changes nothing; one beyond the last appended
        record is a bug of the caller (ValueError).
        """
        with self._commit_lock:
            if self._removed:
                raise WalClosed(f"consumer {self.name!r} was removed")
            self._log._check_open()
            if position > self._log._last_position():
                raise ValueError(f"position {position} was never appended")
            if position <= self._committed:
                return
            write_cursor(self._path, self.name, position, self._log.fsync)
            self._committed = position
        self._log._collect()

    def rewind(self) -> None:
        """The next read starts right after the committed position (records read are read again)."""
        with self._read_lock:
            self._next = self._committed + 1

    # -- for the log -------------------------------------------------------------------------------

    def _persist(self, committed: int) -> None:
        with self._commit_lock:
            write_cursor(self._path, self.name, committed, self._log.fsync)
            self._committed = committed

    def _drop_through(self, last: int) -> int:
        """Move past records up to ``last`` that the log is deleting; how many were not committed."""
        with self._commit_lock:
            if self._committed >= last:
                return 0
            lost = last - self._committed
            write_cursor(self._path, self.name, last, self._log.fsync)
            self._committed = last
            self.lost += lost
            return lost

    def _remove(self) -> None:
        with self._commit_lock:
            self._removed = True
            self._path.unlink(missing_ok=True)
            if self._log.fsync:
                fsync_directory(self._path.parent)
        if self._read_lock.acquire(blocking=False):  # else the reader closes it on its next read
            try:
                self._close_fd()
            finally:
                self._read_lock.release()

    def _close(self) -> None:
        with self._read_lock:
            self._close_fd()

    def _close_fd(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._fd, self._segment = -1, None

    # -- reading -----------------------------------------------------------------------------------

    def _read(self, segments: list[tuple[Segment, int]], durable: int, max_records: int) -> list[tuple[int, bytes]]:
        """Records from the snapshot ``segments`` ((segment, readable bytes), oldest first)."""
        out: list[tuple[int, bytes]] = []
        i = 0
        while len(out) < max_records and i < len(segments):
            segment, end = segments[i]
            following = segments[i + 1][0].base if i + 1 < len(segments) else None
            if following is not None and self._next >= following:
                i += 1
                continue
            offset = self._locate(segment, end, following, durable)
            if offset is None:  # deleted for the disk budget meanwhile: the next read jumps past it
                break
            if offset >= end:
                if following is None:
                    break
                self._next = max(self._next, following)  # a clean end (positions may skip a gap)
                i += 1
                continue
            batch = read_records(self._fd, offset, end, self._next, max_records - len(out))
            out.extend(batch.records)
            self._offset, self._at = batch.offset, batch.position
            self._next = batch.position
            if batch.corrupt:
                resume = following if following is not None else durable + 1
                self._damaged(segment, resume)
                if following is None:
                    self._offset, self._at = end, resume
                    break
                i += 1
        return out

    def _locate(self, segment: Segment, end: int, following: int | None, durable: int) -> int | None:
        """The file offset of record ``_next`` in ``segment``, opening the file when needed."""
        if self._segment is segment and self._at == self._next:
            return self._offset
        if self._segment is not segment:
            self._close_fd()
            try:
                self._fd = os.open(segment.path, os.O_RDONLY)
            except FileNotFoundError:
                return None
            self._segment = segment
        position, offset = self._log._nearest(segment, self._next)
        offset, position = skip_to(self._fd, offset, end, position, self._next)
        self._offset, self._at = offset, position
        if position != self._next:  # the record is inside bytes that are not records
            resume = following if following is not None else durable + 1
            self._damaged(segment, resume)
            self._offset, self._at = end, resume
            return end
        return offset

    def _damaged(self, segment: Segment, resume: int) -> None:
        lost = max(0, resume - self._next)
        _log.warning(
            "otel-llm write-ahead log: %s is damaged at record %d; consumer %r loses %d records",
            segment.path,
            self._next,
            self.name,
            lost,
        )
        self._next = resume
        if lost:
            self.lost += lost
            self._log._report_damage(self.name, lost)
