"""Metrics and logs requests, forwarded as received to the ``otlp`` destinations that ask for them
(``forward: [metrics, logs]``), on the sender's tenant route.

The pipeline is for spans; metrics carry no content, and logs are forwarded only where the
configuration says so, because they do not pass through redaction. Each forwarding destination has
a bounded queue and a worker that retries like the span exporters; what it drops is counted.
"""

from __future__ import annotations

import gzip
import logging
import threading
import urllib.error
import urllib.request
from collections import deque
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc

from otel_llm._safety import report
from otel_llm.exporters.otlp import traces_url
from otel_llm.processing.build import plain_headers
from otel_llm.processing.destination import RetrySettings

_log = logging.getLogger("otel_llm.collector")
MAX_QUEUED = 256  # requests per destination
_PATHS = {"metrics": "/v1/metrics", "logs": "/v1/logs"}
_STUBS = {"metrics": metrics_service_pb2_grpc.MetricsServiceStub, "logs": logs_service_pb2_grpc.LogsServiceStub}
_RETRYABLE_HTTP = {408, 429, 502, 503, 504}
_RETRYABLE_GRPC = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}


class Forwarder:
    """One destination's forwarding: ``offer(signal, request)``, never blocking the receiver."""

    def __init__(self, name: str, dest: Any, count: Any) -> None:
        self.name = name
        self.signals = frozenset(dest.forward)
        self._count = count  # count(destination, signal, outcome, items)
        self._endpoint = dest.endpoint
        self._grpc = dest.protocol == "grpc"
        self._headers = plain_headers(dest.headers)
        self._timeout = dest.timeout
        self._gzip = dest.compression == "gzip"
        self._retry = RetrySettings(
            max_attempts=dest.retry.max_attempts,
            initial_backoff=dest.retry.initial_backoff,
            max_backoff=dest.retry.max_backoff,
        )
        self._insecure = dest.insecure if dest.insecure is not None else not dest.endpoint.startswith("https")
        self._queue: deque[tuple[str, Any, int]] = deque()
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._channel: grpc.Channel | None = None
        self._thread = threading.Thread(target=self._run, name=f"otel-llm-forward-{name}", daemon=True)
        self._thread.start()

    def offer(self, signal: str, request: Any, items: int) -> None:
        with self._wake:
            if len(self._queue) >= MAX_QUEUED or self._stopping.is_set():
                self._count(self.name, signal, "dropped", items)
                return
            self._queue.append((signal, request, items))
            self._wake.notify()

    def close(self, timeout: float) -> None:
        self._stopping.set()
        with self._wake:
            self._wake.notify()
        self._thread.join(timeout)
        with self._wake:
            for signal, _, items in self._queue:
                self._count(self.name, signal, "dropped", items)
            self._queue.clear()
        if self._channel is not None:
            self._channel.close()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._stopping.is_set():
                    self._wake.wait()
                if not self._queue:
                    return
                signal, request, items = self._queue.popleft()
            try:
                ok = self._send_with_retries(signal, request)
            except Exception as err:
                report("collector.forward", err)
                ok = False
            self._count(self.name, signal, "forwarded" if ok else "dropped", items)

    def _send_with_retries(self, signal: str, request: Any) -> bool:
        for attempt in range(1, self._retry.max_attempts + 1):
            retryable, error = self._send(signal, request)
            if error is None:
                return True
            if not retryable or attempt == self._retry.max_attempts or self._stopping.is_set():
                _log.warning("otel-llm collector: forwarding %s to %r failed: %s", signal, self.name, error)
                return False
            self._stopping.wait(self._retry.delay(attempt))
        return False

    def _send(self, signal: str, request: Any) -> tuple[bool, str | None]:
        if self._grpc:
            if self._channel is None:
                target = self._endpoint.split("://", 1)[-1].rstrip("/")
                self._channel = (
                    grpc.insecure_channel(target)
                    if self._insecure
                    else grpc.secure_channel(target, grpc.ssl_channel_credentials())
                )
            stub = _STUBS[signal](self._channel)
            try:
                stub.Export(
                    request,
                    metadata=[(k.lower(), v) for k, v in self._headers.items()],
                    timeout=self._timeout,
                    compression=grpc.Compression.Gzip if self._gzip else None,
                )
            except grpc.RpcError as err:
                return err.code() in _RETRYABLE_GRPC, f"{err.code().name}: {err.details()}"
            return False, None
        body = request.SerializeToString()
        headers = {"content-type": "application/x-protobuf", **self._headers}
        if self._gzip:
            body, headers["content-encoding"] = gzip.compress(body), "gzip"
        http = urllib.request.Request(traces_url(self._endpoint, _PATHS[signal]), body, headers, method="POST")
        try:
            with urllib.request.urlopen(http, timeout=self._timeout) as response:
                response.read()
        except urllib.error.HTTPError as err:
            return err.code in _RETRYABLE_HTTP, f"HTTP {err.code}"
        except OSError as err:
            return True, f"{type(err).__name__}: {err}"
        return False, None
