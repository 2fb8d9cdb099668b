"""Jaeger v2 as a real OTLP trace backend for the tests, read back through its own query API.

Built from its Go module by ``.ci/servers/jaeger.sh`` (the pinned version is read from that script, so it lives
in one place). Jaeger v2 is an OpenTelemetry Collector distribution: the generated config runs the OTLP receiver
(gRPC and HTTP) straight into in-memory storage (no batch processor, so spans are queryable at once) and the query
extension, every listener on a free 127.0.0.1 port (Jaeger's defaults are fixed ports on localhost). Jaeger's
own telemetry is off: the Collector's metrics endpoint (8888) and the query extension's self-tracing, which is on
by default and exports to localhost:4317 (a stray receiver there would get Jaeger's spans; with none, shutdown
waits ~10 s on the retrying exporter).

Read back with ``GET /api/traces/{trace_id}`` (the JSON the Jaeger UI uses): attributes become ``tags``; span
kind becomes the tag ``span.kind``, an error status the tags ``error: true``, ``otel.status_code`` and
``otel.status_description``; the instrumentation scope ``otel.scope.name``/``otel.scope.version``; the resource
becomes the span's ``process`` (``service.name`` as ``serviceName``, the rest as its tags). See ``trace()``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.backends._locate import BACKENDS, executable, pinned_version
from tests.backends._process import free_ports, http_ok, listening, poll_until, server_process

# The Go module version (v1.76.0 is the Jaeger v2.13.0 release; the script says why).
JAEGER_VERSION = pinned_version("jaeger.sh")
DEFAULT_BIN = BACKENDS / "jaeger" / JAEGER_VERSION / "jaeger"
STARTUP_TIMEOUT = 30.0  # ~0.1 s here; a compiled binary with in-memory storage has nothing to warm up

_CONFIG = """\
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:{health}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:{query_http}
    grpc:
      endpoint: 127.0.0.1:{query_grpc}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{otlp_grpc}
      http:
        endpoint: 127.0.0.1:{otlp_http}
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
"""


@dataclass
class JaegerServer:
    """A running Jaeger: where to export, and how to read back the spans it stored."""

    otlp_grpc_endpoint: str  # OTLP/gRPC target, http://127.0.0.1:PORT (plaintext)
    otlp_http_endpoint: str  # base URL: OTLP/HTTP at {otlp_http_endpoint}/v1/traces
    query_url: str  # base URL of the query API: /api/traces/{id}, /api/v3/traces/{id}, /api/services

    def trace(self, trace_id_hex: str, min_spans: int = 1, timeout: float = 15) -> list[dict]:
        """The spans of one trace, oldest first, once Jaeger has at least ``min_spans`` of them.

        Polls ``GET /api/traces/{trace_id_hex}`` (exporters send in the background; 404 until the first span).
        Each span is Jaeger's JSON shape (``traceID``, ``spanID``, ``operationName``, ``references``,
        ``startTime``/``duration`` in µs, ``logs``, ``warnings``) with, for convenience, ``tags`` flattened to
        ``{key: value}`` (values typed: str, bool, int, float; OTLP arrays/maps arrive as JSON strings) and
        ``process`` resolved to ``{"serviceName": ..., "tags": {key: value}}`` from the trace's processes.
        """
        spans = poll_until(
            lambda: self._spans(trace_id_hex),
            lambda found: len(found) >= min_spans,
            timeout=timeout,
            interval=0.2,
            failure=lambda found: (
                f"Jaeger has {len(found)} span(s) of trace {trace_id_hex} after {timeout}s, wanted {min_spans}; "
                f"services: {self._get('/api/services').get('data')}"
            ),
        )
        return sorted(spans, key=lambda span: span["startTime"])

    def _spans(self, trace_id_hex: str) -> list[dict]:
        try:
            found = self._get(f"/api/traces/{trace_id_hex}")
        except urllib.error.HTTPError as error:
            if error.code == 404:  # nothing stored for this trace yet
                return []
            raise
        spans: list[dict] = []
        for trace in found.get("data") or []:
            processes = {
                pid: {"serviceName": p.get("serviceName"), "tags": _flat(p.get("tags"))}
                for pid, p in (trace.get("processes") or {}).items()
            }
            for span in trace.get("spans") or []:
                spans.append(
                    {**span, "tags": _flat(span.get("tags")), "process": processes.get(span.get("processID"), {})}
                )
        return spans

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.query_url}{path}", timeout=10) as response:
            return json.load(response)


def _flat(tags: list[dict] | None) -> dict[str, Any]:
    """Jaeger's ``[{key, type, value}]`` as ``{key: value}`` (a repeated key keeps its last value)."""
    return {tag["key"]: tag.get("value") for tag in tags or []}


def _ready(health_url: str, ports: list[int]) -> bool:
    """Healthy by its health check, and every listener accepts connections (the check can precede receivers)."""
    return http_ok(health_url) and all(listening(port) for port in ports)


@contextlib.contextmanager
def jaeger_server() -> Iterator[JaegerServer]:
    """Run ``jaeger --config`` (generated, in a temporary dir) on free 127.0.0.1 ports for the block."""
    binary = executable("jaeger", "OTEL_LLM_JAEGER_BIN", DEFAULT_BIN)
    ports = dict(zip(("otlp_grpc", "otlp_http", "query_http", "query_grpc", "health"), free_ports(5), strict=True))
    with tempfile.TemporaryDirectory(prefix="jaeger-") as workdir:
        config_path = Path(workdir) / "config.yaml"
        config_path.write_text(_CONFIG.format(**ports))
        # The developer's OTEL_* settings must not reconfigure the backend (the Collector reads some of them).
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        health_url = f"http://127.0.0.1:{ports['health']}/status"
        with server_process(
            "Jaeger",
            [binary, "--config", str(config_path)],
            workdir=Path(workdir),
            env=env,
            ready=lambda: _ready(health_url, list(ports.values())),
            timeout=STARTUP_TIMEOUT,
            poll=0.05,
        ):
            yield JaegerServer(
                otlp_grpc_endpoint=f"http://127.0.0.1:{ports['otlp_grpc']}",
                otlp_http_endpoint=f"http://127.0.0.1:{ports['otlp_http']}",
                query_url=f"http://127.0.0.1:{ports['query_http']}",
            )
