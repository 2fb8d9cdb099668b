"""The pipeline's queueing, retries, accounting and shutdown, with real SDK providers.

Exporters here are scripted implementations of the SDK's SpanExporter interface (the contract any
third-party exporter follows): they fail, hang or succeed on cue. Real exporters against real
servers are exercised in test_leak.py, test_isolation.py and test_down_destinations.py.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from otel_llm.exporters import ExportError
from otel_llm.processing import accounting as acc
from otel_llm.processing.destination import Destination, QueueSettings, RetrySettings
from otel_llm.processing.pipeline import Pipeline

FAST_RETRY = RetrySettings(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)


class ScriptedExporter(SpanExporter):
    """Fails the first ``failures`` exports, or hangs until released; records what it got."""

    def __init__(self, failures: int = 0, *, raise_error: ExportError | None = None, hang: bool = False) -> None:
        self.failures = failures
        self.raise_error = raise_error
        self.release = threading.Event()
        if not hang:
            self.release.set()
        self.calls = 0
        self.spans: list[ReadableSpan] = []
        self.shut = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        self.release.wait(10)
        if self.raise_error is not None:
            raise self.raise_error
        if self.failures > 0:
            self.failures -= 1
            return SpanExportResult.FAILURE
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.shut = True


class Rig:
    def __init__(self, destinations: list[Destination], **kwargs: Any) -> None:
        self.reader = InMemoryMetricReader()
        self.meters = MeterProvider(metric_readers=[self.reader])
        self.pipeline = Pipeline(destinations, meter_provider=self.meters, **kwargs)
        self.provider = TracerProvider()
        self.provider.add_span_processor(self.pipeline)
        self.tracer = self.provider.get_tracer("test")

    def spans(self, n: int, **attributes: Any) -> None:
        for i in range(n):
            with self.tracer.start_as_current_span(f"chat m{i}", attributes={"gen_ai.operation.name": "chat", **attributes}):
                pass

    def metric(self, name: str) -> dict[tuple[tuple[str, Any], ...], float]:
        out: dict[tuple[tuple[str, Any], ...], float] = {}
        data = self.reader.get_metrics_data()
        for rm in data.resource_metrics if data else ():
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    if m.name == name:
                        for point in m.data.data_points:
                            out[tuple(sorted(point.attributes.items()))] = point.value
        return out


@pytest.fixture
def rigs() -> Iterator[list[Rig]]:
    made: list[Rig] = []
    yield made
    for rig in made:
        rig.provider.shutdown()


def test_every_span_reaches_every_destination(rigs: list[Rig]) -> None:
    a, b = InMemorySpanExporter(), InMemorySpanExporter()
    rig = Rig([Destination("a", a), Destination("b", b, queue=QueueSettings(batch_size=7))])
    rigs.append(rig)
    rig.spans(100)
    assert rig.pipeline.force_flush()
    assert len(a.get_finished_spans()) == 100
    assert len(b.get_finished_spans()) == 100
    stats = rig.pipeline.stats()
    assert stats["a"]["exported"] == stats["b"]["exported"] == 100
    assert rig.metric(acc.METRIC_EXPORTED) == {((acc.ATTR_DESTINATION, "a"),): 100, ((acc.ATTR_DESTINATION, "b"),): 100}


def test_unsampled_spans_are_not_exported(rigs: list[Rig]) -> None:
    a = InMemorySpanExporter()
    rig = Rig([Destination("a", a)])
    rig.provider = TracerProvider(sampler=ALWAYS_OFF)
    rig.provider.add_span_processor(rig.pipeline)
    rig.tracer = rig.provider.get_tracer("t")
    rigs.append(rig)
    rig.spans(5)
    rig.pipeline.force_flush()
    assert a.get_finished_spans() == ()


def test_a_hung_destination_neither_blocks_the_app_nor_the_others(rigs: list[Rig]) -> None:
    hung = ScriptedExporter(hang=True)
    healthy = InMemorySpanExporter()
    rig = Rig(
        [
            Destination("hung", hung, queue=QueueSettings(max_size=50, batch_size=10, shutdown_timeout=0.2)),
            Destination("healthy", healthy),
        ]
    )
    rigs.append(rig)
    started = time.perf_counter()
    rig.spans(500)
    elapsed = time.perf_counter() - started
    assert rig.pipeline.destinations["healthy"].force_flush(5)
    assert len(healthy.get_finished_spans()) == 500
    assert elapsed < 2.0  # 500 spans; the hung exporter would take 10 s per batch if it were in the way
    stats = rig.pipeline.stats()["hung"]
    # one batch in flight, max_size queued, the rest dropped and counted
    assert stats["dropped"][acc.QUEUE_FULL] >= 500 - 50 - 10
    assert stats["queue_depth"] <= 60
    hung.release.set()


def test_retryable_failures_are_retried_then_exported(rigs: list[Rig]) -> None:
    flaky = ScriptedExporter(failures=2)
    rig = Rig([Destination("flaky", flaky, retry=FAST_RETRY)])
    rigs.append(rig)
    rig.spans(10)
    assert rig.pipeline.force_flush()
    assert len(flaky.spans) == 10
    stats = rig.pipeline.stats()["flaky"]
    assert stats["exported"] == 10
    assert stats["retried"] == 20  # two retries of the batch of 10
    assert stats["dropped"] == {}
    assert "returned SpanExportResult.FAILURE" in stats["last_error"]


def test_retries_exhausted_count_as_export_failed(rigs: list[Rig]) -> None:
    down = ScriptedExporter(failures=99)
    rig = Rig([Destination("down", down, retry=FAST_RETRY)])
    rigs.append(rig)
    rig.spans(4)
    assert rig.pipeline.force_flush()
    assert down.calls == 3
    stats = rig.pipeline.stats()["down"]
    assert stats["dropped"] == {acc.EXPORT_FAILED: 4}
    assert rig.metric(acc.METRIC_DROPPED) == {
        ((acc.ATTR_DESTINATION, "down"), (acc.ATTR_REASON, acc.EXPORT_FAILED)): 4
    }


def test_non_retryable_errors_are_not_retried(rigs: list[Rig]) -> None:
    refused = ScriptedExporter(raise_error=ExportError("HTTP 400 bad request", retryable=False))
    rig = Rig([Destination("refused", refused, retry=FAST_RETRY)])
    rigs.append(rig)
    rig.spans(3)
    assert rig.pipeline.force_flush()
    assert refused.calls == 1
    stats = rig.pipeline.stats()["refused"]
    assert stats["dropped"] == {acc.EXPORT_FAILED: 3}
    assert "HTTP 400" in stats["last_error"]


class BrokenRedactor:
    def redact(self, span: ReadableSpan) -> ReadableSpan:
        if "m1" in span.name:
            raise RuntimeError("redactor bug")
        return span


def test_a_span_that_cannot_be_redacted_is_dropped_not_sent(rigs: list[Rig], caplog: pytest.LogCaptureFixture) -> None:
    out = InMemorySpanExporter()
    rig = Rig([Destination("d", out, redactor=BrokenRedactor())])
    rigs.append(rig)
    rig.spans(3)
    assert rig.pipeline.force_flush()
    assert sorted(s.name for s in out.get_finished_spans()) == ["chat m0", "chat m2"]
    assert rig.pipeline.stats()["d"]["dropped"] == {acc.REDACTION_FAILED: 1}


def test_shutdown_exports_what_is_queued(rigs: list[Rig]) -> None:
    slow = ScriptedExporter()
    rig = Rig([Destination("d", slow, queue=QueueSettings(batch_size=1000, flush_interval=60))])
    rig.spans(300)
    rig.provider.shutdown()
    assert len(slow.spans) == 300
    assert slow.shut
    rig.spans(2)  # after shutdown: counted, not lost silently
    assert rig.pipeline.stats()["d"]["dropped"] == {acc.SHUTDOWN: 2}


def test_shutdown_is_bounded_and_counts_what_it_could_not_send(caplog: pytest.LogCaptureFixture) -> None:
    hung = ScriptedExporter(hang=True)
    rig = Rig([Destination("hung", hung, queue=QueueSettings(batch_size=5, shutdown_timeout=0.3))])
    rig.spans(20)
    time.sleep(0.1)  # the worker has taken the first batch and hangs in export
    started = time.perf_counter()
    rig.provider.shutdown()
    assert time.perf_counter() - started < 2.0
    stats = rig.pipeline.stats()["hung"]
    assert stats["dropped"] == {acc.SHUTDOWN: 20}
    assert "did not finish within 0.3s" in caplog.text
    assert "'hung': exported=0 dropped=20 (shutdown=20)" in caplog.text
    hung.release.set()


def test_drops_are_logged_once_per_interval(rigs: list[Rig], caplog: pytest.LogCaptureFixture) -> None:
    hung = ScriptedExporter(hang=True)
    rig = Rig([Destination("hung", hung, queue=QueueSettings(max_size=5, batch_size=5, shutdown_timeout=0.1))])
    rigs.append(rig)
    rig.spans(200)
    warnings = [r for r in caplog.records if "dropped spans" in r.getMessage()]
    assert len(warnings) == 1
    assert "queue_full" in warnings[0].getMessage()
    hung.release.set()


def test_force_flush_is_not_held_up_by_a_hung_destination(rigs: list[Rig]) -> None:
    hung = ScriptedExporter(hang=True)
    healthy = InMemorySpanExporter()
    slow_flush = {"flush_interval": 60, "shutdown_timeout": 0.1}
    rig = Rig(
        [Destination("hung", hung, queue=QueueSettings(**slow_flush)), Destination("healthy", healthy, queue=QueueSettings(**slow_flush))]
    )
    rigs.append(rig)
    rig.spans(5)
    assert rig.pipeline.force_flush(500) is False  # the hung one did not finish...
    assert len(healthy.get_finished_spans()) == 5  # ...and the healthy one was flushed all the same
    hung.release.set()


def test_a_flush_waits_for_what_was_queued_even_under_steady_load(rigs: list[Rig]) -> None:
    out = InMemorySpanExporter()
    rig = Rig([Destination("d", out, queue=QueueSettings(batch_size=50, flush_interval=60))])
    rigs.append(rig)
    stop = threading.Event()

    def producer() -> None:
        while not stop.is_set():
            rig.spans(10)

    thread = threading.Thread(target=producer)
    thread.start()
    try:
        rig.spans(7)
        before = rig.pipeline.destinations["d"]._offered
        assert rig.pipeline.force_flush(5_000)
        assert len(out.get_finished_spans()) >= before
    finally:
        stop.set()
        thread.join()


def test_every_span_is_counted_once_when_shutdown_gives_up(rigs: list[Rig]) -> None:
    hung = ScriptedExporter(hang=True)
    rig = Rig(
        [Destination("d", hung, redactor=BrokenRedactor(), queue=QueueSettings(batch_size=10, shutdown_timeout=0.2))]
    )
    rig.spans(10)  # one batch: m1 fails redaction, the other nine hang in export
    assert wait_until(lambda: hung.calls == 1)
    rig.provider.shutdown()
    hung.release.set()
    time.sleep(0.1)  # the worker finishes the abandoned export now: it must not count it again
    stats = rig.pipeline.stats()["d"]
    assert stats["dropped"] == {acc.REDACTION_FAILED: 1, acc.SHUTDOWN: 9}
    assert stats["exported"] == 0


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_has_its_own_queue_worker_and_counts(tmp_path: Path) -> None:
    from otel_llm.exporters.file import FileExporter

    rig = Rig([Destination("f", FileExporter(path=str(tmp_path / "calls.jsonl")), queue=QueueSettings(flush_interval=0.05))])
    rig.spans(3)
    assert rig.pipeline.force_flush()
    pid = os.fork()
    if pid == 0:  # the child: its spans reach the file through its own worker; it starts from zero
        code = 1
        try:
            rig.spans(2)
            ok = rig.pipeline.force_flush(5_000)
            code = 0 if ok and rig.pipeline.stats()["f"]["exported"] == 2 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert rig.pipeline.stats()["f"]["exported"] == 3
    rig.provider.shutdown()


def test_route_many_shares_spans_out_and_counts_what_does_not_fit(rigs: list[Rig]) -> None:
    """The collector's path: one request's spans offered at once, each destination under one lock."""
    hung = ScriptedExporter(hang=True)
    healthy = InMemorySpanExporter()
    rig = Rig(
        [
            Destination("hung", hung, queue=QueueSettings(max_size=30, batch_size=500, shutdown_timeout=0.2)),
            Destination("healthy", healthy),
        ]
    )
    rigs.append(rig)
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    for i in range(100):
        with provider.get_tracer("t").start_as_current_span(f"chat {i}", attributes={"gen_ai.operation.name": "chat"}):
            pass
    rig.pipeline.route_many(memory.get_finished_spans())
    assert rig.pipeline.destinations["healthy"].force_flush(5)
    assert len(healthy.get_finished_spans()) == 100
    stats = rig.pipeline.stats()["hung"]
    assert stats["dropped"] == {acc.QUEUE_FULL: 70} and stats["queue_depth"] == 30
    hung.release.set()
