"""One destination: a bounded queue, and a worker thread that redacts and exports with retries.

The application thread only appends to the queue (or counts a drop when it is full); everything
slow — redaction, encoding, the network — happens on the worker, so a destination that is down or
slow costs the application nothing and never holds up another destination.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.context import attach, detach, set_value
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_llm._fork import after_fork_in_child
from otel_llm._safety import report
from otel_llm.processing import accounting as acc
from otel_llm.processing.accounting import Accounting
from otel_llm.processing.routing import Filter

_log = logging.getLogger("otel_llm.processing")

try:  # the key instrumentations check so that an exporter's own HTTP calls make no spans
    from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY as _SUPPRESS_KEY
except ImportError:  # pragma: no cover - older API
    _SUPPRESS_KEY = "suppress_instrumentation"  # type: ignore[assignment]


@dataclass(frozen=True)
class QueueSettings:
    max_size: int = 2048  # spans waiting; beyond it new spans are dropped and counted
    batch_size: int = 512
    flush_interval: float = 1.0  # seconds a partial batch may wait
    shutdown_timeout: float = 5.0  # seconds to export what is queued when the process ends

    def __post_init__(self) -> None:
        for key in ("max_size", "batch_size"):
            if getattr(self, key) < 1:
                raise ValueError(f"queue.{key}: expected an integer >= 1, got {getattr(self, key)!r}")
        if not self.flush_interval > 0:
            raise ValueError(f"queue.flush_interval: expected seconds > 0, got {self.flush_interval!r}")
        if not self.shutdown_timeout >= 0:
            raise ValueError(f"queue.shutdown_timeout: expected seconds >= 0, got {self.shutdown_timeout!r}")


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = 5
    initial_backoff: float = 0.5
    max_backoff: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"retry.max_attempts: expected an integer >= 1, got {self.max_attempts!r}")
        if not 0 <= self.initial_backoff <= self.max_backoff:
            raise ValueError(
                f"retry: expected 0 <= initial_backoff <= max_backoff, got {self.initial_backoff!r} "
                f"and {self.max_backoff!r}"
            )

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter before attempt ``attempt + 1``."""
        ceiling = min(self.max_backoff, self.initial_backoff * (2 ** min(attempt - 1, 62)))
        return random.uniform(ceiling / 2, ceiling)


class _Failure(Exception):
    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Destination:
    """A named exporter with its own redaction, filter, queue and retry policy.

    Every span offered is settled exactly once: exported, or dropped with a reason. The counters
    ``_offered`` / ``_settled`` (spans taken into the queue / spans whose fate is counted) let a
    flush wait for what was queued when it was asked, even while new spans keep arriving.
    """

    def __init__(
        self,
        name: str,
        exporter: SpanExporter,
        *,
        redactor: Any = None,
        filter: Filter | None = None,
        queue: QueueSettings | None = None,
        retry: RetrySettings | None = None,
    ) -> None:
        self.name = name
        self.exporter = exporter
        self.redactor = redactor  # has .redact(span) -> span; None: spans go out as they are
        self.filter = filter or Filter()
        self.queue_settings = queue or QueueSettings()
        self.retry = retry or RetrySettings()
        self._accounting: Accounting | None = None
        self._init_state()
        after_fork_in_child(self, Destination._after_fork)  # a forked child gets its own queue and worker

    def _init_state(self, closed: bool = False) -> None:
        self._queue: deque[ReadableSpan] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._flush_requests: list[tuple[int, threading.Event]] = []
        self._offered = 0  # spans appended to the queue, ever
        self._settled = 0  # of those, spans exported or counted as dropped
        self._in_flight = 0  # spans taken from the queue and not yet settled
        self._closed = closed
        self._abandoned = False  # shutdown gave up waiting: what the worker still holds is counted already
        self._thread: threading.Thread | None = None

    def _after_fork(self) -> None:
        self._init_state(closed=self._closed)
        if self._accounting is not None and not self._closed:
            self.start(self._accounting)

    # -- application side -----------------------------------------------------------------------

    def start(self, accounting: Accounting) -> None:
        self._accounting = accounting
        accounting.watch_depth(self.name, self.depth)
        self._thread = threading.Thread(target=self._run, name=f"otel-llm-destination-{self.name}", daemon=True)
        self._thread.start()

    def depth(self) -> int:
        return len(self._queue) + self._in_flight

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def offer(self, span: ReadableSpan) -> None:
        """Queue a span; never blocks. A full queue or a closed destination counts the span as dropped."""
        with self._lock:
            if self._closed:
                reason = acc.SHUTDOWN
            elif len(self._queue) >= self.queue_settings.max_size:
                reason = acc.QUEUE_FULL
            else:
                self._queue.append(span)
                self._offered += 1
                if len(self._queue) >= self.queue_settings.batch_size:
                    self._wake.set()
                return
        self._count(acc.DROPPED, 1, reason)

    def offer_many(self, spans: list[ReadableSpan]) -> None:
        """``offer`` for a list, under one lock: what does not fit is counted as dropped."""
        with self._lock:
            if self._closed:
                taken, reason = 0, acc.SHUTDOWN
            else:
                taken, reason = max(0, min(len(spans), self.queue_settings.max_size - len(self._queue))), acc.QUEUE_FULL
                if taken:
                    self._queue.extend(spans[:taken] if taken < len(spans) else spans)
                    self._offered += taken
                    if len(self._queue) >= self.queue_settings.batch_size:
                        self._wake.set()
        if taken < len(spans):
            self._count(acc.DROPPED, len(spans) - taken, reason)

    # -- worker ---------------------------------------------------------------------------------

    def _run(self) -> None:
        token = attach(set_value(_SUPPRESS_KEY, True))  # our own exports are never traced
        try:
            settings = self.queue_settings
            while True:
                if len(self._queue) < settings.batch_size and not self._stopping.is_set():
                    self._wake.wait(settings.flush_interval)
                self._wake.clear()
                self._drain()
                if self._stopping.is_set():
                    self._drain()
                    return
        finally:
            detach(token)

    def _drain(self) -> None:
        """Export everything queued now, batch by batch."""
        while True:
            with self._lock:
                if not self._queue or self._abandoned:
                    return
                n = min(len(self._queue), self.queue_settings.batch_size)
                batch = [self._queue.popleft() for _ in range(n)]
                self._in_flight = n
            self._process(batch)

    def _process(self, batch: list[ReadableSpan]) -> None:
        batch = self._redacted(batch, self._settle)
        if batch:
            self._export(batch)

    def _redacted(self, batch: list[ReadableSpan], drop: Any) -> list[ReadableSpan]:
        """The destination's copies of ``batch``; a span that cannot be redacted is never exported:
        ``drop(1, DROPPED, REDACTION_FAILED, message)`` counts it."""
        redactor = self.redactor
        if redactor is None:
            return batch
        clean = []
        for span in batch:
            try:
                clean.append(redactor.redact(span))
            except Exception as err:
                report("processing.redact", err)
                drop(1, acc.DROPPED, acc.REDACTION_FAILED, f"redaction failed: {type(err).__name__}")
        return clean

    def deliver(self, batch: list[ReadableSpan], stopping: threading.Event) -> bool:
        """The durable path (the collector with persistence): redact and export ``batch`` on the
        caller's thread, retrying retryable failures with backoff for as long as it takes.

        True when every span's fate is final (exported, or dropped for a reason no retry can fix, and
        counted); False when ``stopping`` cut the retries short: the caller still holds the spans on
        disk and offers them again after the restart, so nothing is counted as lost.
        """
        batch = self._redacted(batch, lambda n, outcome, reason, error: self._count(outcome, n, reason, error))
        attempt = 1
        while batch:
            try:
                self._export_once(batch)
            except _Failure as err:
                if not err.retryable:
                    self._count(acc.DROPPED, len(batch), acc.EXPORT_FAILED, str(err))
                    return True
                if self._accounting is not None:
                    self._accounting.retried(self.name, len(batch), str(err))
                if stopping.wait(self.retry.delay(attempt)):
                    return False
                attempt += 1
                continue
            self._count(acc.EXPORTED, len(batch))
            return True
        return True

    def attach(self, accounting: Accounting, depth: Any = None) -> None:
        """Count into ``accounting`` without a queue or worker of its own (spans come via ``deliver``);
        ``depth()`` reports what waits for this destination elsewhere."""
        self._accounting = accounting
        accounting.watch_depth(self.name, depth or self.depth)

    def _export(self, batch: Sequence[ReadableSpan]) -> None:
        retry = self.retry
        attempt = 1
        while True:
            try:
                self._export_once(batch)
            except _Failure as err:
                message, retryable = str(err), err.retryable
            else:
                self._settle(len(batch), acc.EXPORTED)
                return
            if not retryable or attempt >= retry.max_attempts or self._closed:
                self._settle(len(batch), acc.DROPPED, acc.EXPORT_FAILED, message)
                return
            if self._accounting is not None and not self._abandoned:
                self._accounting.retried(self.name, len(batch), message)
            # Sleep, but wake at once when shutdown starts: the remaining attempt then runs immediately.
            self._stopping.wait(retry.delay(attempt))
            attempt += 1

    def _export_once(self, batch: Sequence[ReadableSpan]) -> None:
        exporter = self.exporter
        export_batch = getattr(exporter, "export_batch", None)
        try:
            if export_batch is not None:
                export_batch(batch)
                return
            result = exporter.export(batch)
        except Exception as err:
            retryable = getattr(err, "retryable", True)
            raise _Failure(f"{type(err).__name__}: {err}", bool(retryable)) from None
        if result is not SpanExportResult.SUCCESS:
            raise _Failure(f"{type(exporter).__name__}.export returned {result}", True)

    def _settle(self, count: int, outcome: str, reason: str = "", error: str | None = None) -> None:
        """Count the fate of ``count`` spans the worker held, once; answer the flushes they complete."""
        with self._lock:
            if self._abandoned:  # shutdown counted them already
                return
            self._in_flight -= count
            self._settled += count
            settled = self._settled
            done = [event for target, event in self._flush_requests if target <= settled]
            if done:
                self._flush_requests = [(t, e) for t, e in self._flush_requests if t > settled]
        self._count(outcome, count, reason, error)
        for event in done:
            event.set()

    def _count(self, outcome: str, count: int, reason: str = "", error: str | None = None) -> None:
        accounting = self._accounting
        if accounting is None:
            return
        if outcome == acc.EXPORTED:
            accounting.exported(self.name, count)
        else:
            accounting.dropped(self.name, count, reason, error)

    # -- flush and shutdown ---------------------------------------------------------------------

    def request_flush(self) -> threading.Event:
        """An event set once every span queued now is settled (exported or counted as dropped)."""
        done = threading.Event()
        with self._lock:
            if self._settled >= self._offered or self._abandoned:
                done.set()
            else:
                self._flush_requests.append((self._offered, done))
        self._wake.set()
        return done

    def force_flush(self, timeout: float) -> bool:
        """Export what is queued now; True when it was done within ``timeout`` seconds."""
        if not self.running:
            return not self._queue
        return self.request_flush().wait(timeout)

    def shutdown(self) -> None:
        """Stop taking spans, export what is queued within the shutdown bound, count the rest as dropped."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.queue_settings.shutdown_timeout)
            if thread.is_alive():
                with self._lock:
                    self._abandoned = True
                    left = len(self._queue) + self._in_flight
                    self._queue.clear()
                    waiting, self._flush_requests = self._flush_requests, []
                self._count(acc.DROPPED, left, acc.SHUTDOWN, "shutdown timeout")
                for _, event in waiting:
                    event.set()
                _log.warning(
                    "otel-llm destination %r did not finish within %.1fs at shutdown",
                    self.name,
                    self.queue_settings.shutdown_timeout,
                )
        try:
            self.exporter.shutdown()
        except Exception as err:
            report("processing.exporter_shutdown", err)
