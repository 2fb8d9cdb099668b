"""Datadog's APM test agent (``ddapm-test-agent``) as a real Datadog-compatible backend for the tests.

It speaks what a Datadog Agent speaks (agent trace API, the LLM Observability EVP proxy) plus an OTLP
receiver, records every request it is sent, and gives them back on ``/test/session/requests``: so a test
can assert on the exact bytes and headers an exporter put on the wire, rather than on a mock.

Installed by ``.ci/servers/ddapm.sh``; the version below must match the one there. Started with LLM Obs
forwarding to Datadog off and no upstream agent, so nothing leaves the machine; its trace checks are
opt-in (none enabled) and only concern Datadog-format traces, so they need no disabling for OTLP.
Caveat: OTLP/gRPC exports are re-posted by the agent to its own OTLP/HTTP port with only a Content-Type,
so a recorded gRPC export keeps its body but not the client's metadata (e.g. ``dd-api-key``).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.backends._locate import BACKENDS, executable, pinned_version
from tests.backends._process import free_ports, listening, poll_until, server_process
from tests.backends.calls import spans_of

DDAPM_VERSION = pinned_version("ddapm.sh")
DEFAULT_BIN = BACKENDS / "ddapm" / DDAPM_VERSION / "venv" / "bin" / "ddapm-test-agent"
STARTUP_TIMEOUT = 30.0

# Environment variables the agent reads as option defaults (or that would send data upstream): dropped so
# the developer's shell cannot reconfigure the test backend.
_AGENT_ENV = (
    "PORT", "HOST", "OTLP_HTTP_PORT", "OTLP_GRPC_PORT", "ENABLED_CHECKS", "SNAPSHOT_DIR", "SNAPSHOT_CI",
    "SNAPSHOT_IGNORED_ATTRS", "SNAPSHOT_REMOVED_ATTRS", "SNAPSHOT_REGEX_PLACEHOLDERS", "LOG_LEVEL",
    "LOG_SPAN_FMT", "VCR_CASSETTES_DIRECTORY", "VCR_CI_MODE", "VCR_PROVIDER_MAP", "VCR_IGNORE_HEADERS",
    "VCR_JSON_BODY_NORMALIZERS", "VCR_BODY_REGEX_NORMALIZERS", "WEB_UI_PORT", "MAX_REQUESTS", "ORG_PROP_MARKER",
    "DISABLE_LLMOBS_DATA_FORWARDING", "TEST_SESSION_TOKEN",
)  # fmt: skip


@dataclass
class DdAgent:
    """A running test agent: where to send data, and how to read back what it received."""

    url: str  # trace agent base URL (agent trace API, /evp_proxy/..., /test/...)
    otlp_http_endpoint: str  # OTLP/HTTP base URL; exporters append /v1/traces
    otlp_grpc_endpoint: str  # OTLP/gRPC target, http://127.0.0.1:PORT (plaintext)

    def requests(self, path_prefix: str = "/v1/traces", min_count: int = 1, timeout: float = 15) -> list[dict]:
        """The recorded requests whose path starts with ``path_prefix``, oldest first.

        Polls until at least ``min_count`` are there (exporters send in the background). Each is a dict:
        ``method``, ``url``, ``path``, ``headers`` (lower-cased names), ``body`` (raw bytes), ``json`` (the
        parsed body when it is JSON, else None), ``otlp`` (ExportTraceServiceRequest for protobuf OTLP
        traces, else None) and ``spans`` (``calls.Received`` of that export).
        """
        def matched(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [r for r in found if r["path"].startswith(path_prefix)]

        def failure(found: list[dict[str, Any]]) -> str:
            seen = [f"{r['method']} {r['path']}" for r in found]
            return (
                f"ddapm-test-agent recorded {len(matched(found))} request(s) under {path_prefix!r} in {timeout}s, "
                f"wanted {min_count}; all recorded: {seen}"
            )

        found = poll_until(
            self._recorded, lambda found: len(matched(found)) >= min_count, timeout=timeout, interval=0.1, failure=failure
        )
        return [_decode(r) for r in matched(found)]

    def clear(self) -> None:
        """Forget every recorded request (all sessions)."""
        with urllib.request.urlopen(f"{self.url}/test/session/clear", timeout=5) as response:
            response.read()

    def _recorded(self) -> list[dict[str, Any]]:
        # Asked on the trace agent port: the OTLP port would also record each of these polls.
        with urllib.request.urlopen(f"{self.url}/test/session/requests", timeout=5) as response:
            records = json.load(response)
        for record in records:
            record["path"] = urlsplit(record["url"]).path
        return records[::-1]  # the agent lists newest first


def _decode(record: dict[str, Any]) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in record["headers"].items()}
    body = base64.b64decode(record["body"])
    if body[:2] == b"\x1f\x8b":  # the agent normally stores bodies already inflated; be safe
        body = gzip.decompress(body)
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    parsed_json: Any = None
    otlp: ExportTraceServiceRequest | None = None
    if content_type.endswith("json") and body:
        parsed_json = json.loads(body)
    elif content_type == "application/x-protobuf" and record["path"].endswith("/v1/traces"):
        otlp = ExportTraceServiceRequest.FromString(body)
    return {
        "method": record["method"],
        "url": record["url"],
        "path": record["path"],
        "headers": headers,
        "body": body,
        "json": parsed_json,
        "otlp": otlp,
        "spans": list(spans_of(otlp)) if otlp is not None else [],
    }


@contextlib.contextmanager
def ddagent_server() -> Iterator[DdAgent]:
    """Run ddapm-test-agent on free 127.0.0.1 ports for the duration of the block."""
    binary = executable("ddapm-test-agent", "OTEL_LLM_DDAPM_BIN", DEFAULT_BIN)
    port, http_port, grpc_port = free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DD_") and k not in _AGENT_ENV}
    env["PYTHONUNBUFFERED"] = "1"
    with tempfile.TemporaryDirectory(prefix="ddagent-") as workdir:
        args = [
            binary,
            "--host=127.0.0.1",
            f"--port={port}",
            f"--otlp-http-port={http_port}",
            f"--otlp-grpc-port={grpc_port}",
            f"--snapshot-dir={workdir}",
            f"--vcr-cassettes-directory={workdir}/vcr-cassettes",
            "--agent-url=",  # no upstream agent to forward to
            "--disable-llmobs-data-forwarding",  # else it posts LLM Obs payloads to Datadog's intake
        ]
        with server_process(
            "ddapm-test-agent",
            args,
            workdir=Path(workdir),
            env=env,
            ready=lambda: all(listening(p) for p in (port, http_port, grpc_port)),
            timeout=STARTUP_TIMEOUT,
        ):
            yield DdAgent(
                url=f"http://127.0.0.1:{port}",
                otlp_http_endpoint=f"http://127.0.0.1:{http_port}",
                otlp_grpc_endpoint=f"http://127.0.0.1:{grpc_port}",
            )
