"""Segment files of the write-ahead log: the record layout, reading records back, and recovery.

A segment file is named after the position of its first record (``00000000000000000001.wal``) and
holds ``FILE_MAGIC`` then records back to back. A record is a 16-byte little-endian header — payload
length (u32), CRC32 (u32), position (u64) — then the payload. The CRC covers the payload *and* the
length and position, so zeros left by a crash, a stale block or a record copied to the wrong place
never pass for a valid record, and the position in every record lets a reader check that it is where
it thinks it is without any other index. The payload's CRC is computed first so that an appender can
do that part outside the log's lock; the header fields are folded in once the position is known.

Nothing here raises on garbage: readers get "the valid records, then where it stopped and why".
"""

from __future__ import annotations

import logging
import os
import re
import struct
import zlib
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock, a second process is not detected
    fcntl = None  # type: ignore[assignment]

_log = logging.getLogger("otel_llm.collector")

FILE_MAGIC = b"OLWAL\x00\x00\x01"  # name + format version 1
FILE_HEADER = len(FILE_MAGIC)
RECORD = struct.Struct("<IIQ")  # payload length, CRC32, position
_CRC_FIELDS = struct.Struct("<IQ")  # what the CRC covers after the payload: length, position
MAX_PAYLOAD = 0xFFFFFFFF
CHUNK = 256 << 10  # bytes per read syscall: large enough for sequential throughput, small in memory
CHECKPOINT_BYTES = 256 << 10  # one (position, offset) index entry per this many bytes of a segment
_NAME = re.compile(r"^(\d{20})\.wal$")


class WalClosed(RuntimeError):
    """The log was closed (or the consumer removed): nothing more can be appended or read."""


def segment_name(base: int) -> str:
    return f"{base:020d}.wal"


def segment_base(name: str) -> int | None:
    """The first position of a segment file's name, None for any other file."""
    match = _NAME.match(name)
    return int(match.group(1)) if match else None


def encode_header(length: int, position: int, payload_crc: int) -> bytes:
    """The header of a record whose payload has ``length`` bytes and CRC32 ``payload_crc``."""
    return RECORD.pack(length, zlib.crc32(_CRC_FIELDS.pack(length, position), payload_crc), position)


def _valid(length: int, crc: int, position: int, payload: bytes | memoryview) -> bool:
    return zlib.crc32(_CRC_FIELDS.pack(length, position), zlib.crc32(payload)) == crc


@dataclass(eq=False)
class Segment:
    """What the log keeps in memory about one segment file: no payloads, only a sparse index.

    ``visible`` is how many bytes readers may read: whole records that are durable (fsync'd, or
    written when fsync is off). The index maps some positions to file offsets so that a reader that
    must start in the middle of a segment (restart, rewind) scans headers from the nearest entry.
    """

    base: int
    path: Path
    size: int
    visible: int
    records: int | None = None  # known for the segment being appended to and recovered ones
    index_positions: list[int] = field(default_factory=list)
    index_offsets: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.index_positions:
            self.index_positions.append(self.base)
            self.index_offsets.append(FILE_HEADER)

    def add_index(self, position: int, offset: int) -> None:
        if position > self.index_positions[-1] and offset - self.index_offsets[-1] >= CHECKPOINT_BYTES:
            self.index_positions.append(position)
            self.index_offsets.append(offset)

    def nearest(self, position: int) -> tuple[int, int]:
        """The indexed (position, offset) closest before ``position``."""
        i = max(0, bisect_right(self.index_positions, position) - 1)
        return self.index_positions[i], self.index_offsets[i]


@dataclass
class Batch:
    """Records read from one segment, and where reading stopped (``offset`` holds ``position``)."""

    records: list[tuple[int, bytes]]
    offset: int
    position: int
    corrupt: bool  # stopped at bytes that are not the expected record (torn, garbage, CRC mismatch)


def read_records(fd: int, offset: int, end: int, position: int, max_records: int, max_bytes: int = 1 << 62) -> Batch:
    """Read valid records from ``offset`` (expected to hold ``position``) up to byte ``end``.

    Reads ``CHUNK`` bytes per syscall and never reads past ``end``: bytes beyond it may belong to a
    write in progress. Stops after ``max_records`` records or once ``max_bytes`` of payload are read.
    """
    records: list[tuple[int, bytes]] = []
    total = 0
    buf = memoryview(b"")
    start = offset  # file offset of buf[0]
    while len(records) < max_records and offset < end and total < max_bytes:
        if end - offset < RECORD.size:
            return Batch(records, offset, position, True)
        if offset + RECORD.size > start + len(buf):
            buf, start = memoryview(os.pread(fd, min(CHUNK, end - offset), offset)), offset
            if len(buf) < RECORD.size:  # the file is shorter than its index says
                return Batch(records, offset, position, True)
        rel = offset - start
        length, crc, found = RECORD.unpack_from(buf, rel)
        if found != position or length > end - offset - RECORD.size:
            return Batch(records, offset, position, True)
        body = rel + RECORD.size
        if body + length > len(buf) and RECORD.size + length <= CHUNK:
            buf, start = memoryview(os.pread(fd, min(CHUNK, end - offset), offset)), offset
            body = RECORD.size
        if body + length <= len(buf):
            payload = bytes(buf[body : body + length])
        else:  # larger than a chunk: read it on its own
            payload = os.pread(fd, length, offset + RECORD.size)
        if len(payload) != length or not _valid(length, crc, position, payload):
            return Batch(records, offset, position, True)
        records.append((position, payload))
        total += length
        offset += RECORD.size + length
        position += 1
    return Batch(records, offset, position, False)


def skip_to(fd: int, offset: int, end: int, position: int, target: int) -> tuple[int, int]:
    """Walk record headers from ``offset`` (holding ``position``) to the record ``target``.

    Only headers are read (payloads are skipped by their length): this is how a reader finds its
    place in a segment. Returns the (offset, position) reached, short of ``target`` when it met
    bytes that are not a record; the CRC is checked by the read that follows.
    """
    while position < target and end - offset >= RECORD.size:
        header = os.pread(fd, RECORD.size, offset)
        if len(header) < RECORD.size:
            break
        length, _crc, found = RECORD.unpack(header)
        if found != position or length > end - offset - RECORD.size:
            break
        offset += RECORD.size + length
        position += 1
    return offset, position


def create_segment(directory: Path, base: int, fsync: bool) -> Segment:
    """A new, empty segment file whose name and header are durable before any record goes in."""
    path = directory / segment_name(base)
    write_file(path, FILE_MAGIC, fsync)
    if fsync:
        fsync_directory(directory)
    return Segment(base, path, FILE_HEADER, FILE_HEADER, records=0)


def closed_segment(base: int, path: Path) -> Segment:
    """A segment other than the last one, as found at open: only its header is checked.

    Reading every record of a 1 GiB log at start-up would make restarts slow; a damaged record in
    such a segment is found, counted and skipped by the reader that meets it.
    """
    size = path.stat().st_size
    with path.open("rb") as file:
        if file.read(FILE_HEADER) != FILE_MAGIC:
            _log.warning("otel-llm write-ahead log: %s does not start like a segment file", path)
    return Segment(base, path, size, size)


def recover(base: int, path: Path, fsync: bool) -> Segment:
    """The last segment after a crash: keep its valid records, cut whatever follows them.

    The tail can be a torn record (the process or the machine died during a write), zeros (the
    filesystem extended the file but the data never reached the disk) or garbage; none of that was
    acknowledged when fsync is on, since an append returns only after its fsync.
    """
    fd = os.open(path, os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        if os.pread(fd, FILE_HEADER, 0) != FILE_MAGIC:
            _log.warning("otel-llm write-ahead log: %s has no valid header; its %d bytes are dropped", path, size)
            os.ftruncate(fd, 0)
            os.pwrite(fd, FILE_MAGIC, 0)
            if fsync:
                os.fsync(fd)
            return Segment(base, path, FILE_HEADER, FILE_HEADER, records=0)
        segment = Segment(base, path, size, size)
        offset, position = FILE_HEADER, base
        while True:
            batch = read_records(fd, offset, size, position, 1 << 20, CHECKPOINT_BYTES)
            if batch.records:
                segment.add_index(position, offset)
            offset, position = batch.offset, batch.position
            if batch.corrupt or not batch.records:
                break
        if offset < size:
            _log.warning(
                "otel-llm write-ahead log: %s: %d bytes after record %d are not valid records "
                "(a write cut short by a crash, or damage); truncated",
                path,
                size - offset,
                position - 1,
            )
            os.ftruncate(fd, offset)
            if fsync:
                os.fsync(fd)
        segment.size = segment.visible = offset
        segment.records = position - base
        return segment
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes, fsync: bool) -> None:
    """Create (or truncate) ``path`` holding ``data``; with ``fsync``, on disk when this returns."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(directory: Path) -> None:
    """Make file creations, renames and deletions in ``directory`` durable (POSIX only)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms that cannot open a directory (Windows) have nothing to sync
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


datasync = getattr(os, "fdatasync", os.fsync)  # data and the size that reaches it: all a log needs


def lock_directory(directory: Path) -> int:
    """One process per log: two writers would interleave records and corrupt each other."""
    fd = os.open(directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RuntimeError(f"the write-ahead log in {directory} is open in another process") from None
    return fd
