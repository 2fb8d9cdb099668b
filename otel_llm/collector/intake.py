"""Accepted spans on their way to the pipeline, without persistence: a bounded queue in memory.

Receivers put decoded spans here and answer the sender at once; one dispatcher thread prepares them
(normalisation, cost) and offers them to the pipeline, whose destinations queue, redact and export.
A full queue refuses the request with a retryable status, so the sender keeps (and counts) its data.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm._safety import report


class MemoryIntake:
    """Holds at most ``max_spans`` accepted spans that the dispatcher has not routed yet."""

    def __init__(self, route: Callable[[Sequence[ReadableSpan]], None], max_spans: int) -> None:
        self._route = route  # prepares and routes one request's spans; never raises
        self.max_spans = max_spans
        self._batches: deque[Sequence[ReadableSpan]] = deque()
        self._queued = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._busy = 0  # spans taken by the dispatcher and not yet routed
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="otel-llm-collector-dispatch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def depth(self) -> int:
        return self._queued + self._busy

    def put(self, spans: Sequence[ReadableSpan]) -> bool:
        """Queue one request's spans, all or none; False when they do not fit (or after close)."""
        if not spans:
            return True
        with self._lock:
            if self._closed or self._queued + len(spans) > self.max_spans:
                return False
            self._batches.append(spans)
            self._queued += len(spans)
            self._wake.notify()
        return True

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._batches and not self._closed:
                    self._wake.wait()
                if not self._batches:
                    return
                spans = self._batches.popleft()
                self._queued -= len(spans)
                self._busy = len(spans)
            try:
                self._route(spans)
            except Exception as err:  # the route step reports its own failures; this is a last guard
                report("collector.dispatch", err)
            with self._lock:
                self._busy = 0
                if not self._batches:
                    self._idle.notify_all()

    def close(self, timeout: float) -> bool:
        """Stop taking requests and route what is queued within ``timeout``; True when all was routed."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closed = True
            self._wake.notify_all()
            while self._batches or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True
