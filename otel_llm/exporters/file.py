"""LLM call records as JSON Lines in a local file, rotated by size and by time.

One record per line, compact UTF-8 JSON, appended with unbuffered writes (each batch reaches the
file before ``send`` returns), so ``tail -f`` and log shippers see whole lines. Rotation renames
the current file to ``<stem>.<YYYYMMDDTHHMMSSZ>[-N]<suffix>`` (the UTC time of the rotation;
``-N`` when several rotations fall in one second) and keeps the newest ``backups`` of them.

A batch is all or nothing: when a write, a rotation or anything else fails partway, the files the
batch wrote to are truncated back to their sizes before it, so a retry of the batch writes no line
twice and leaves no torn line (a reader tailing the file may have seen the lines before they were
removed). When that undo itself fails (or another writer appended to the file meanwhile, so
truncating would lose its lines) the error is not retryable.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm._fork import after_fork_in_child
from otel_llm.exporters._records import ExportError, RecordExporter
from otel_llm.records import encode

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
_PERIODS = {"hourly": 3600, "daily": 86400}
# Errors a retry cannot fix; anything else (a full disk, an I/O error) may clear up.
_PERMANENT = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG})


@dataclass
class _Touched:
    """A file the current batch wrote to: where it is now, its identity, its size before the batch."""

    path: Path  # the backup's name once the batch rotated it
    dev: int
    ino: int
    start: int
    written: int = 0
    rotated: bool = False


class _UndoFailed(Exception):
    """The batch's lines could not be removed again (the reason is the message)."""


class FileExporter(RecordExporter):
    """Appends records to ``path`` as JSON Lines.

    ``max_bytes``: rotate before a write would make the file larger (0: never by size; a single
    record larger than ``max_bytes`` still goes whole into a file of its own). ``rotate_every``:
    ``"hourly"`` or ``"daily"``, at UTC boundaries, checked when a batch is written. ``backups``:
    how many rotated files to keep (0: rotated files are deleted). ``clock`` returns epoch seconds
    (tests drive time through it). Thread-safe, and safe across ``os.fork()``: the child gets a new
    lock and opens the file again on its first batch. A batch is written whole or not at all (see
    the module's docstring); that undo assumes this exporter is the file's only writer while a
    batch is written (several processes appending to one path: an undo that would cut another
    writer's lines is refused, and the error is then not retryable).
    """

    def __init__(
        self,
        *,
        path: str | os.PathLike[str],
        max_bytes: int = DEFAULT_MAX_BYTES,
        rotate_every: str | None = None,
        backups: int = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        if max_bytes < 0:
            raise ValueError(f"max_bytes: expected an integer >= 0, got {max_bytes!r}")
        if rotate_every is not None and rotate_every not in _PERIODS:
            raise ValueError(f"rotate_every: expected null, 'hourly' or 'daily', got {rotate_every!r}")
        if backups < 0:
            raise ValueError(f"backups: expected an integer >= 0, got {backups!r}")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.rotate_every = rotate_every
        self.backups = backups
        self._clock = clock
        self._period = _PERIODS.get(rotate_every or "")
        self._lock = threading.Lock()
        self._file: io.FileIO | None = None
        self._size = 0
        self._period_end: float | None = None
        self._touched: list[_Touched] = []  # the files the batch being written wrote to
        self._pruned: set[Path] = set()  # backups deleted by the batch being written
        stem, suffix = self.path.stem, self.path.suffix
        self._backup_re = re.compile(rf"^{re.escape(stem)}\.(\d{{8}}T\d{{6}}Z)(?:-(\d+))?{re.escape(suffix)}$")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        after_fork_in_child(self, FileExporter._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        """In a forked child: a new lock (a parent thread may have held the old one), and the
        file opened again on the first batch (the inherited handle is the parent's)."""
        self._lock = threading.Lock()
        file, self._file = self._file, None
        self._touched, self._pruned = [], set()
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()  # unbuffered: closing the child's copy writes nothing

    # -- RecordExporter --------------------------------------------------------------------------

    def send(self, records: list[dict], spans: Sequence[ReadableSpan]) -> None:
        lines = [encode(record) + b"\n" for record in records]
        with self._lock:
            self._touched, self._pruned = [], set()
            try:
                self._write(lines)
            except Exception as err:
                self._fail(err)
            finally:
                self._touched, self._pruned = [], set()

    def _fail(self, err: Exception) -> None:
        """Undo the batch and raise: ExportError for an OSError (retryable unless the errno says a
        retry cannot help), non-retryable when the undo failed; any other exception as it is."""
        with contextlib.suppress(OSError):
            self._close_file()  # reopen on the next batch: the file may have been moved or fixed
        what = f"{err.strerror or err}" if isinstance(err, OSError) else f"{type(err).__name__}: {err}"
        try:
            self._undo()
        except _UndoFailed as undo:
            message = f"writing {self.path}: {what}; the batch is partly written and could not be removed ({undo})"
            raise ExportError(message, False) from err
        if isinstance(err, OSError):
            raise ExportError(f"writing {self.path}: {what}", err.errno not in _PERMANENT) from err
        raise err

    def _undo(self) -> None:
        """Truncate each file the batch wrote to back to its size before the batch (every one
        tried); _UndoFailed names the first that could not be."""
        failures = [reason for touched in self._touched if (reason := self._truncate(touched))]
        if failures:
            raise _UndoFailed("; ".join(failures))

    def _truncate(self, touched: _Touched) -> str | None:
        """Undo the batch's writes to one file; the reason when that cannot be done."""
        if not touched.written:
            return None
        try:
            fd = os.open(touched.path, os.O_WRONLY)
        except FileNotFoundError:
            # a backup this batch deleted (backups: 0) took its lines with it
            return None if touched.path in self._pruned else f"{touched.path} is gone"
        except OSError as err:
            return f"{touched.path}: {err.strerror or err}"
        try:
            stat = os.fstat(fd)
            if (stat.st_dev, stat.st_ino) != (touched.dev, touched.ino):
                return f"{touched.path} was replaced"
            if stat.st_size != touched.start + touched.written:
                return f"{touched.path} was also written by another writer"
            os.ftruncate(fd, touched.start)
        except OSError as err:
            return f"truncating {touched.path}: {err.strerror or err}"
        finally:
            os.close(fd)
        if touched.rotated and touched.start == 0:  # an empty backup made by this batch
            with contextlib.suppress(OSError):
                touched.path.unlink()
        return None

    def close(self) -> None:
        with self._lock:
            self._close_file()

    # -- writing and rotation --------------------------------------------------------------------

    def _write(self, lines: list[bytes]) -> None:
        if self._file is not None and self._moved():
            self._close_file()
        if self._file is None:
            self._open()
        else:
            self._touch()
        if self._period_end is not None and self._clock() >= self._period_end:
            if self._size > 0:
                self._rotate()
            else:
                self._period_end = self._next_boundary(self._clock())
        limit = self.max_bytes
        if not limit:
            self._append(b"".join(lines))
            return
        pending: list[bytes] = []
        pending_size = 0
        for line in lines:
            if self._size + pending_size + len(line) > limit and self._size + pending_size > 0:
                if pending:
                    self._append(b"".join(pending))
                    pending, pending_size = [], 0
                self._rotate()
            pending.append(line)
            pending_size += len(line)
        if pending:
            self._append(b"".join(pending))

    def _append(self, data: bytes) -> None:
        """Write all of ``data`` (a short write is continued), counting what reached the file."""
        assert self._file is not None
        touched = self._touched[-1]
        view = memoryview(data)
        while view:
            n = self._file.write(view)
            if not n:  # pragma: no cover - a regular file does not take 0 bytes without an error
                raise OSError(errno.EIO, "the file took no bytes")
            touched.written += n
            self._size += n
            view = view[n:]

    def _touch(self) -> None:
        """Remember the open file and its size, before the batch writes to it."""
        assert self._file is not None
        stat = os.fstat(self._file.fileno())
        self._touched.append(_Touched(self.path, stat.st_dev, stat.st_ino, stat.st_size))

    def _moved(self) -> bool:
        """True when the path no longer names the open file (removed or renamed by another tool)."""
        try:
            on_disk = os.stat(self.path)
        except FileNotFoundError:
            return True
        held = os.fstat(self._file.fileno())
        return (on_disk.st_ino, on_disk.st_dev) != (held.st_ino, held.st_dev)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Unbuffered: what write() accepted is in the file, so an undo can truncate it away and
        # closing the handle (after a failure, or in a forked child) never writes anything late.
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - held open across batches, closed in close()
        stat = os.fstat(self._file.fileno())
        self._size = stat.st_size
        self._touched.append(_Touched(self.path, stat.st_dev, stat.st_ino, stat.st_size))
        if self._period is not None:
            # A file left by an earlier run belongs to the period it was last written in.
            since = stat.st_mtime if self._size else self._clock()
            self._period_end = self._next_boundary(since)

    def _next_boundary(self, t: float) -> float:
        assert self._period is not None
        return (int(t) // self._period + 1) * self._period

    def _rotate(self) -> None:
        self._close_file()
        now = self._clock()
        backup = self._backup_name(now)
        self.path.rename(backup)
        if self._touched:
            self._touched[-1].path, self._touched[-1].rotated = backup, True
        self._prune()
        self._open()
        if self._period is not None:
            self._period_end = self._next_boundary(now)

    def _backup_name(self, now: float) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        stem, suffix, parent = self.path.stem, self.path.suffix, self.path.parent
        candidate = parent / f"{stem}.{stamp}{suffix}"
        n = 0
        while candidate.exists():
            n += 1
            candidate = parent / f"{stem}.{stamp}-{n}{suffix}"
        return candidate

    def backup_files(self) -> list[Path]:
        """Rotated files of this exporter, oldest first."""
        found = []
        for entry in os.scandir(self.path.parent):
            match = self._backup_re.match(entry.name)
            if match and entry.is_file():
                found.append(((match.group(1), int(match.group(2) or 0)), Path(entry.path)))
        return [path for _, path in sorted(found)]

    def _prune(self) -> None:
        backups = self.backup_files()
        for path in backups[: max(0, len(backups) - self.backups)]:
            self._pruned.add(path)  # gone, with its lines: nothing of it to undo
            with contextlib.suppress(FileNotFoundError):  # another process pruned it first
                path.unlink()

    def _close_file(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()
