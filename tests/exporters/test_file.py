"""FileExporter: JSON Lines, rotation by size and by time (driven by an injected clock), backups,
concurrent writers, and failures."""

from __future__ import annotations

import calendar
import errno
import gc
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from opentelemetry.sdk.trace.export import SpanExportResult

from otel_llm.exporters import ExportError, FileExporter
from otel_llm.records import dumps, to_record
from tests.exporters._fork import Skip, in_child, needs_fork

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "record.schema.json").read_text())


def epoch(text: str) -> float:
    """'2026-01-02T03:59:59' (UTC) as epoch seconds."""
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S")))


class Clock:
    def __init__(self, start: str = "2026-01-02T03:04:05") -> None:
        self.now = epoch(start)

    def __call__(self) -> float:
        return self.now

    def set(self, text: str) -> None:
        self.now = epoch(text)


def lines(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw == b"" or raw.endswith(b"\n")
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


def all_records(exporter: FileExporter) -> list[dict]:
    """Every record written, oldest rotated file first, then the current file."""
    out = []
    for path in [*exporter.backup_files(), exporter.path]:
        if path.exists():
            out.extend(lines(path))
    return out


def test_writes_one_compact_record_per_line_and_skips_non_llm_spans(tmp_path, make_spans, plain_span):
    path = tmp_path / "deep" / "er" / "calls.jsonl"
    exporter = FileExporter(path=path)
    spans = make_spans(3, content=True)
    assert exporter.export([spans[0], plain_span, *spans[1:]]) is SpanExportResult.SUCCESS
    text = path.read_text("utf-8")
    assert text == "".join(dumps(to_record(s)) + "\n" for s in spans)
    records = lines(path)
    for record in records:
        jsonschema.validate(record, SCHEMA)
    assert [r["id"] for r in records] == [format(s.context.span_id, "016x") for s in spans]
    assert ", " not in text.split('"input_messages"')[0]  # compact separators
    exporter.shutdown()


def test_only_non_llm_spans_write_nothing(tmp_path, plain_span):
    exporter = FileExporter(path=tmp_path / "calls.jsonl")
    assert exporter.export([plain_span]) is SpanExportResult.SUCCESS
    assert not (tmp_path / "calls.jsonl").exists()


def test_appends_to_an_existing_file_and_flushes_each_batch(tmp_path, make_spans):
    path = tmp_path / "calls.jsonl"
    path.write_text('{"earlier":"run"}\n')
    exporter = FileExporter(path=path)
    exporter.export_batch(make_spans(2))
    # flushed: another reader sees the lines while the exporter still holds the file open
    assert len(path.read_text().splitlines()) == 3
    exporter.export_batch(make_spans(1))
    exporter.shutdown()
    assert lines(path)[0] == {"earlier": "run"}
    assert len(lines(path)) == 4


def test_size_rotation_before_the_write_that_would_exceed(tmp_path, make_spans):
    spans = make_spans(7)
    line_size = len(dumps(to_record(spans[0]))) + 1
    assert {len(dumps(to_record(s))) + 1 for s in spans} == {line_size}  # all lines the same size
    clock = Clock()
    exporter = FileExporter(path=tmp_path / "calls.jsonl", max_bytes=2 * line_size + 10, backups=10, clock=clock)
    exporter.export_batch(spans[:3])  # 2 fit; the 3rd rotates first
    clock.set("2026-01-02T03:04:06")
    exporter.export_batch(spans[3:])  # 1 fits after the 3rd, then 2, then 1
    exporter.shutdown()

    backups = exporter.backup_files()
    assert [p.name for p in backups] == [
        "calls.20260102T030405Z.jsonl",
        "calls.20260102T030406Z.jsonl",
        "calls.20260102T030406Z-1.jsonl",  # two rotations in one second keep distinct names
    ]
    sizes = [p.stat().st_size for p in [*backups, exporter.path]]
    assert sizes == [2 * line_size, 2 * line_size, 2 * line_size, line_size]
    assert all(size <= exporter.max_bytes for size in sizes)
    assert [r["id"] for r in all_records(exporter)] == [format(s.context.span_id, "016x") for s in spans]


def test_a_record_larger_than_max_bytes_gets_a_file_of_its_own(tmp_path, make_spans):
    exporter = FileExporter(path=tmp_path / "calls.jsonl", max_bytes=100, clock=Clock())
    spans = make_spans(2)
    exporter.export_batch(spans)
    exporter.shutdown()
    files = [*exporter.backup_files(), exporter.path]
    assert [len(lines(p)) for p in files] == [1, 1]


def test_no_size_rotation_when_max_bytes_is_zero(tmp_path, make_spans):
    exporter = FileExporter(path=tmp_path / "calls.jsonl", max_bytes=0)
    for _ in range(5):
        exporter.export_batch(make_spans(20))
    assert exporter.backup_files() == []
    assert len(lines(exporter.path)) == 100


def test_hourly_rotation_at_utc_boundaries(tmp_path, make_spans):
    clock = Clock("2026-01-02T03:00:00")
    exporter = FileExporter(path=tmp_path / "calls.jsonl", rotate_every="hourly", max_bytes=0, clock=clock)
    exporter.export_batch(make_spans(1))
    clock.set("2026-01-02T03:59:59")
    exporter.export_batch(make_spans(1))  # same hour: same file
    assert exporter.backup_files() == []
    clock.set("2026-01-02T04:00:00")
    exporter.export_batch(make_spans(1))  # first write of the next hour rotates
    clock.set("2026-01-02T06:30:00")
    exporter.export_batch(make_spans(1))  # hours without writes leave no empty files
    exporter.shutdown()
    backups = exporter.backup_files()
    assert [p.name for p in backups] == ["calls.20260102T040000Z.jsonl", "calls.20260102T063000Z.jsonl"]
    assert [len(lines(p)) for p in [*backups, exporter.path]] == [2, 1, 1]


def test_daily_rotation(tmp_path, make_spans):
    clock = Clock("2026-01-02T23:59:59")
    exporter = FileExporter(path=tmp_path / "calls.jsonl", rotate_every="daily", clock=clock)
    exporter.export_batch(make_spans(1))
    clock.set("2026-01-03T00:00:00")
    exporter.export_batch(make_spans(2))
    clock.set("2026-01-03T23:00:00")
    exporter.export_batch(make_spans(1))
    exporter.shutdown()
    assert [p.name for p in exporter.backup_files()] == ["calls.20260103T000000Z.jsonl"]
    assert len(lines(exporter.path)) == 3


def test_a_file_left_from_an_earlier_hour_is_rotated_on_the_first_write(tmp_path, make_spans):
    path = tmp_path / "calls.jsonl"
    path.write_text('{"old":1}\n')
    os.utime(path, (epoch("2026-01-02T02:30:00"), epoch("2026-01-02T02:30:00")))
    clock = Clock("2026-01-02T03:10:00")
    exporter = FileExporter(path=path, rotate_every="hourly", clock=clock)
    exporter.export_batch(make_spans(1))
    exporter.shutdown()
    (backup,) = exporter.backup_files()
    assert lines(backup) == [{"old": 1}]
    assert len(lines(path)) == 1


def test_backups_keep_only_the_newest(tmp_path, make_spans):
    clock = Clock()
    exporter = FileExporter(path=tmp_path / "calls.jsonl", max_bytes=1, backups=2, clock=clock)
    spans = make_spans(6)
    for i, span in enumerate(spans):
        clock.now += 1
        exporter.export_batch([span])
        assert len(exporter.backup_files()) == min(i, 2)
    exporter.shutdown()
    # the oldest are gone: what is left is the last three records, in order
    assert [r["id"] for r in all_records(exporter)] == [format(s.context.span_id, "016x") for s in spans[-3:]]
    (tmp_path / "unrelated.20260102T030405Z.jsonl").write_text("keep me\n")
    assert (tmp_path / "unrelated.20260102T030405Z.jsonl").exists()


def test_zero_backups_deletes_rotated_files(tmp_path, make_spans):
    exporter = FileExporter(path=tmp_path / "calls.jsonl", max_bytes=1, backups=0, clock=Clock())
    for span in make_spans(3):
        exporter.export_batch([span])
    exporter.shutdown()
    assert exporter.backup_files() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.jsonl"]
    assert len(lines(exporter.path)) == 1


def test_concurrent_writers_keep_whole_lines(tmp_path, make_spans):
    spans = make_spans(40, content=True)
    line_size = max(len(dumps(to_record(s))) + 1 for s in spans)
    exporter = FileExporter(path=tmp_path / "calls.jsonl", max_bytes=25 * line_size, backups=1000)
    threads_n, rounds = 8, 25
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(rounds):
                assert exporter.export(spans) is SpanExportResult.SUCCESS
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    exporter.shutdown()
    assert not errors
    records = all_records(exporter)  # every line parses
    assert len(records) == threads_n * rounds * len(spans)
    ids = [r["id"] for r in records]
    for sid in {format(s.context.span_id, "016x") for s in spans}:
        assert ids.count(sid) == threads_n * rounds
    # batches are never interleaved: each run of 40 lines is one batch, in order
    expected = [format(s.context.span_id, "016x") for s in spans]
    assert all(ids[i : i + 40] == expected for i in range(0, len(ids), 40))
    assert len(exporter.backup_files()) > 5
    assert all(p.stat().st_size <= exporter.max_bytes for p in exporter.backup_files())


def test_unwritable_path_is_a_non_retryable_error(tmp_path, make_spans, caplog):
    target = tmp_path / "calls.jsonl"
    target.mkdir()  # a directory where the file should be
    exporter = FileExporter(path=target)
    with pytest.raises(ExportError) as caught:
        exporter.export_batch(make_spans(1))
    assert caught.value.retryable is False
    assert str(target) in str(caught.value)
    with caplog.at_level(logging.WARNING, logger="otel_llm.exporters"):
        assert exporter.export(make_spans(1)) is SpanExportResult.FAILURE
    assert "FileExporter failed to export 1 spans" in caplog.text


def test_a_file_moved_away_by_another_tool_is_recreated(tmp_path, make_spans):
    path = tmp_path / "logs" / "calls.jsonl"
    exporter = FileExporter(path=path)
    exporter.export_batch(make_spans(1))
    path.rename(tmp_path / "logs" / "taken-by-logrotate.jsonl")  # while the exporter holds it open
    exporter.export_batch(make_spans(2))
    assert len(lines(path)) == 2
    assert len(lines(tmp_path / "logs" / "taken-by-logrotate.jsonl")) == 1
    path.unlink()
    (tmp_path / "logs" / "taken-by-logrotate.jsonl").unlink()
    (tmp_path / "logs").rmdir()
    exporter.export_batch(make_spans(3))  # the directory is made again
    exporter.shutdown()
    assert len(lines(path)) == 3


def test_export_after_shutdown_fails(tmp_path, make_spans):
    exporter = FileExporter(path=tmp_path / "calls.jsonl")
    exporter.shutdown()
    exporter.shutdown()  # idempotent
    assert exporter.export(make_spans(1)) is SpanExportResult.FAILURE
    with pytest.raises(ExportError) as caught:
        exporter.export_batch(make_spans(1))
    assert caught.value.retryable is False
    assert exporter.force_flush() is True


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_bytes": -1}, "max_bytes: expected an integer >= 0, got -1"),
        ({"rotate_every": "weekly"}, "rotate_every: expected null, 'hourly' or 'daily', got 'weekly'"),
        ({"backups": -2}, "backups: expected an integer >= 0, got -2"),
    ],
)
def test_invalid_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError) as caught:
        FileExporter(path=tmp_path / "calls.jsonl", **kwargs)
    assert str(caught.value) == message


# -- a batch is all or nothing ----------------------------------------------------------------------


def records_of(*sizes: int, start: int = 0) -> list[dict]:
    """Records whose JSON lines are exactly ``size`` bytes (newline included), with ids start, start+1, ..."""
    out = []
    for i, size in enumerate(sizes, start):
        record = {"id": f"r{i:03d}", "pad": ""}
        record["pad"] = "x" * (size - len(dumps(record)) - 1)
        assert len(dumps(record)) + 1 == size
        out.append(record)
    return out


def ids_in(*paths: Path) -> list[str]:
    return [r["id"] for path in paths if path.exists() for r in lines(path)]


@needs_fork
def test_a_short_write_is_undone_and_the_retry_writes_each_line_once(tmp_path):
    """The OS takes part of a line (RLIMIT_FSIZE: the write stops at the limit, the next fails with
    EFBIG): the torn tail is truncated away, and the retry of the batch leaves no duplicate."""
    resource = pytest.importorskip("resource")
    path = tmp_path / "calls.jsonl"
    first, batch = records_of(100, 100), records_of(100, 100, 100, start=2)

    def child() -> None:
        exporter = FileExporter(path=path, max_bytes=0)
        exporter.send(first, [])
        before = path.read_bytes()
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) + 150, hard))  # 1.5 lines of 3 fit
        with pytest.raises(ExportError) as caught:
            exporter.send(batch, [])
        assert caught.value.retryable is True  # EFBIG: a retry can succeed once there is room
        assert "File too large" in str(caught.value)
        assert path.read_bytes() == before  # no torn line
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        exporter.send(batch, [])  # the pipeline's retry
        exporter.shutdown()
        assert ids_in(path) == ["r000", "r001", "r002", "r003", "r004"]

    in_child(child)


@needs_fork
def test_a_failure_after_a_rotation_undoes_both_files(tmp_path):
    """Lines written before a size rotation are in the rotated file when the new file's write fails:
    both are truncated back, so the retry writes each line once."""
    resource = pytest.importorskip("resource")
    path = tmp_path / "calls.jsonl"
    first = records_of(100)
    batch = records_of(100, 400, 100, start=1)  # 2 x 100 fit; the 400-byte line goes into a new file

    def child() -> None:
        clock = Clock()
        exporter = FileExporter(path=path, max_bytes=250, backups=10, clock=clock)
        exporter.send(first, [])
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (300, hard))  # the old file reaches 200; the new one stops at 300
        with pytest.raises(ExportError) as caught:
            exporter.send(batch, [])
        assert caught.value.retryable is True
        (backup,) = exporter.backup_files()  # the rotation happened
        assert ids_in(backup) == ["r000"] and backup.stat().st_size == 100  # its batch line is gone
        assert path.read_bytes() == b""  # and the torn 400-byte line
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        clock.now += 1
        exporter.send(batch, [])
        exporter.shutdown()
        assert ids_in(*exporter.backup_files(), path) == ["r000", "r001", "r002", "r003"]

    in_child(child)


@needs_fork
def test_a_failed_rotation_undoes_the_lines_written_before_it():
    """The rename of a size rotation fails (the directory is read-only): the lines the batch wrote
    to the file before it are truncated away."""
    directory = Path(tempfile.mkdtemp(prefix="otel-llm-ro-"))  # pytest's own tmp dirs are private to root
    path = directory / "calls.jsonl"
    first, batch = records_of(100), records_of(100, 100, 100, start=1)
    try:
        if os.geteuid() == 0:
            os.chown(directory, 65534, 65534)

        def child() -> None:
            if os.geteuid() == 0:  # root writes to read-only directories: become nobody
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            exporter = FileExporter(path=path, max_bytes=250, clock=Clock())
            exporter.send(first, [])
            os.chmod(directory, 0o555)
            if os.access(directory, os.W_OK):
                raise Skip("a read-only directory is still writable here")
            with pytest.raises(ExportError) as caught:
                exporter.send(batch, [])  # 100 + 100 fit, then the rotation's rename fails
            assert "Permission denied" in str(caught.value)
            assert caught.value.retryable is False  # EACCES: as before, a retry cannot help until it is fixed
            assert ids_in(path) == ["r000"] and path.stat().st_size == 100
            os.chmod(directory, 0o755)
            exporter.send(batch, [])
            exporter.shutdown()
            assert ids_in(*exporter.backup_files(), path) == ["r000", "r001", "r002", "r003"]

        in_child(child)
    finally:
        os.chmod(directory, 0o755)
        shutil.rmtree(directory)


class FailsMidway:
    """The exporter's file as the OS may behave: a write takes half the data (a short write, as
    write(2) may return), then ``meanwhile`` runs and the next write fails with EIO."""

    def __init__(self, real: Any, meanwhile: Callable[[], None]) -> None:
        self.real, self.meanwhile, self.calls = real, meanwhile, 0

    def write(self, data: Any) -> int:
        self.calls += 1
        if self.calls == 1:
            return self.real.write(bytes(data[: len(data) // 2]))
        self.meanwhile()
        raise OSError(errno.EIO, "Input/output error")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def failing_midway(exporter: FileExporter, monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]) -> None:
    original = exporter._open

    def open_failing() -> None:
        original()
        exporter._file = FailsMidway(exporter._file, meanwhile)

    monkeypatch.setattr(exporter, "_open", open_failing)


def test_a_write_failing_midway_is_undone(tmp_path, monkeypatch):
    path = tmp_path / "calls.jsonl"
    path.write_bytes(dumps({"id": "earlier"}).encode() + b"\n")
    before = path.read_bytes()
    exporter = FileExporter(path=path)
    failing_midway(exporter, monkeypatch, lambda: None)
    with pytest.raises(ExportError) as caught:
        exporter.send(records_of(100, 100), [])
    assert caught.value.retryable is True
    assert path.read_bytes() == before
    monkeypatch.undo()
    exporter.send(records_of(100, 100), [])
    assert ids_in(path) == ["earlier", "r000", "r001"]


def test_an_undo_that_would_cut_another_writers_lines_is_refused_and_not_retryable(tmp_path, monkeypatch):
    path = tmp_path / "calls.jsonl"
    other = b'{"id":"other-process"}\n'

    def another_writer_appends() -> None:
        with open(path, "ab") as f:
            f.write(other)

    exporter = FileExporter(path=path)
    failing_midway(exporter, monkeypatch, another_writer_appends)
    with pytest.raises(ExportError) as caught:
        exporter.send(records_of(100, 100), [])
    assert caught.value.retryable is False  # a retry would duplicate the half line already there
    assert "could not be removed" in str(caught.value) and "another writer" in str(caught.value)
    assert path.read_bytes().endswith(other)  # the other writer's line is kept


# -- os.fork() ------------------------------------------------------------------------------------


@needs_fork
def test_a_forked_child_writes_even_when_a_parent_thread_held_the_lock(tmp_path):
    path = tmp_path / "calls.jsonl"
    exporter = FileExporter(path=path)
    exporter.send(records_of(50), [])
    held, release = threading.Event(), threading.Event()

    def worker_in_the_middle_of_a_batch() -> None:
        with exporter._lock:
            held.set()
            release.wait(30)

    worker = threading.Thread(target=worker_in_the_middle_of_a_batch)
    worker.start()
    assert held.wait(5)
    try:

        def child() -> None:  # the lock was held at the fork: without the at-fork reset this hangs
            exporter.send(records_of(50, start=1), [])
            exporter.shutdown()

        in_child(child)
    finally:
        release.set()
        worker.join()
    exporter.send(records_of(50, start=2), [])  # the parent's own handle still works, and appends
    exporter.shutdown()
    assert ids_in(path) == ["r000", "r001", "r002"]


def test_the_fork_handler_does_not_keep_the_exporter_alive(tmp_path):
    exporter = FileExporter(path=tmp_path / "calls.jsonl")
    ref = weakref.ref(exporter)
    del exporter
    gc.collect()
    assert ref() is None


def test_the_default_max_bytes_is_defined_once():
    from otel_llm.config import _destinations
    from otel_llm.exporters import file

    assert _destinations.DEFAULT_MAX_BYTES is file.DEFAULT_MAX_BYTES
    assert _destinations.FileDestination.model_fields["max_bytes"].default == file.DEFAULT_MAX_BYTES
    assert "DEFAULT_MAX_BYTES =" not in Path(_destinations.__file__).read_text()
