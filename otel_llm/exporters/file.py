"""LLM call records as JSON Lines in a local file, rotated by size and by time.

One record per line, compact UTF-8 JSON, appended and flushed after every batch, so ``tail -f``
and log shippers see whole lines. Rotation renames the current file to
``<stem>.<YYYYMMDDTHHMMSSZ>[-N]<suffix>`` (the UTC time of the rotation; ``-N`` when several
rotations fall in one second) and keeps the newest ``backups`` of them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm.exporters._records import ExportError, RecordExporter
from otel_llm.records import encode

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
_PERIODS = {"hourly": 3600, "daily": 86400}
# Errors a retry cannot fix; anything else (a full disk, an I/O error) may clear up.
_PERMANENT = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG})


class FileExporter(RecordExporter):
    """Appends records to ``path`` as JSON Lines.

    ``max_bytes``: rotate before a write would make the file larger (0: never by size; a single
    record larger than ``max_bytes`` still goes whole into a file of its own). ``rotate_every``:
    ``"hourly"`` or ``"daily"``, at UTC boundaries, checked when a batch is written. ``backups``:
    how many rotated files to keep (0: rotated files are deleted). ``clock`` returns epoch seconds
    (tests drive time through it). Thread-safe.
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
        self._file = None
        self._size = 0
        self._period_end: float | None = None
        stem, suffix = self.path.stem, self.path.suffix
        self._backup_re = re.compile(rf"^{re.escape(stem)}\.(\d{{8}}T\d{{6}}Z)(?:-(\d+))?{re.escape(suffix)}$")
        self.path.parent.mkdir(parents=True, exist_ok=True)

    # -- RecordExporter --------------------------------------------------------------------------

    def send(self, records: list[dict], spans: Sequence[ReadableSpan]) -> None:
        lines = [encode(record) + b"\n" for record in records]
        with self._lock:
            try:
                self._write(lines)
            except OSError as err:
                self._close_file()  # reopen on the next batch: the file may have been moved or fixed
                raise ExportError(f"writing {self.path}: {err.strerror or err}", err.errno not in _PERMANENT) from err

    def close(self) -> None:
        with self._lock:
            self._close_file()

    # -- writing and rotation --------------------------------------------------------------------

    def _write(self, lines: list[bytes]) -> None:
        if self._file is not None and self._moved():
            self._close_file()
        if self._file is None:
            self._open()
        if self._period_end is not None and self._clock() >= self._period_end:
            if self._size > 0:
                self._rotate()
            else:
                self._period_end = self._next_boundary(self._clock())
        limit = self.max_bytes
        if not limit:
            data = b"".join(lines)
            self._file.write(data)
            self._size += len(data)
        else:
            pending: list[bytes] = []
            pending_size = 0
            for line in lines:
                if self._size + pending_size + len(line) > limit and self._size + pending_size > 0:
                    if pending:
                        self._file.write(b"".join(pending))
                        self._size += pending_size
                        pending, pending_size = [], 0
                    self._rotate()
                pending.append(line)
                pending_size += len(line)
            if pending:
                self._file.write(b"".join(pending))
                self._size += pending_size
        self._file.flush()

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
        self._file = open(self.path, "ab")  # noqa: SIM115 - held open across batches, closed in close()
        stat = os.fstat(self._file.fileno())
        self._size = stat.st_size
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
        self.path.rename(self._backup_name(now))
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
            with contextlib.suppress(FileNotFoundError):  # another process pruned it first
                path.unlink()

    def _close_file(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()
