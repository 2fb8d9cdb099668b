"""Arize Phoenix as a real OTLP trace backend for the tests, read back through its own REST API.

Installed by ``.ci/servers/phoenix.sh`` (the pinned version is read from that script, so it lives in one
place). Phoenix takes OTLP/HTTP protobuf on ``{endpoint}/v1/traces`` and OTLP/gRPC on ``grpc_endpoint``;
the project a span lands in is its resource attribute ``openinference.project.name`` (else ``default``).
It translates GenAI semantic-convention attributes into OpenInference ones at ingestion (``llm.*``,
``input.value``/``output.value``, ``session.id``, span kind), so ``spans()`` shows both.

Started with its telemetry, outside resources and agent assistant off, so nothing leaves the machine.
Caveat: Phoenix always binds its gRPC receiver on all interfaces (``[::]``); only the HTTP port honours
PHOENIX_HOST=127.0.0.1. The gRPC port is still a free ephemeral one.
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
from urllib.parse import quote, urlencode

from tests.backends._locate import BACKENDS, executable, pinned_version
from tests.backends._process import free_ports, http_ok, poll_until, server_process

PHOENIX_VERSION = pinned_version("phoenix.sh")
DEFAULT_BIN = BACKENDS / "phoenix" / PHOENIX_VERSION / "venv" / "bin" / "phoenix"
STARTUP_TIMEOUT = 90.0  # ~15 s here on a warm cache; more on a cold first start


@dataclass
class PhoenixServer:
    """A running Phoenix: where to export, and how to read back the spans it stored."""

    endpoint: str  # base URL: OTLP/HTTP at {endpoint}/v1/traces, REST at {endpoint}/v1/...
    grpc_endpoint: str  # OTLP/gRPC target, http://127.0.0.1:PORT (plaintext)

    def spans(self, project: str, min_spans: int = 1, timeout: float = 30) -> list[dict]:
        """The spans Phoenix stored in ``project``, oldest first, once there are at least ``min_spans``.

        Polls ``GET /v1/projects/{project}/spans`` (exporters send in the background; a project exists
        only after its first span). Each span is Phoenix's REST shape: ``name``, ``context`` (``trace_id``,
        ``span_id`` as hex), ``parent_id``, ``span_kind`` (``LLM``, ``CHAIN``, ...), ``start_time``,
        ``end_time``, ``status_code``, ``status_message``, ``attributes`` (flat dotted keys: what was sent
        plus what Phoenix derived), ``events``.
        """
        spans = poll_until(
            lambda: self._all_spans(project),
            lambda found: len(found) >= min_spans,
            timeout=timeout,
            interval=0.25,
            failure=lambda found: (
                f"Phoenix project {project!r} has {len(found)} span(s) after {timeout}s, wanted {min_spans}; "
                f"projects: {[p['name'] for p in self._get('/v1/projects')['data']]}"
            ),
        )
        return sorted(spans, key=lambda span: span["start_time"])

    def _all_spans(self, project: str) -> list[dict]:
        spans: list[dict] = []
        cursor: str | None = None
        while True:
            query = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            try:
                page = self._get(f"/v1/projects/{quote(project, safe='')}/spans?{urlencode(query)}")
            except urllib.error.HTTPError as error:
                if error.code == 404:  # no span has created the project yet
                    return []
                raise
            spans.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return spans

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.endpoint}{path}", timeout=10) as response:
            return json.load(response)


@contextlib.contextmanager
def phoenix_server() -> Iterator[PhoenixServer]:
    """Run ``phoenix serve`` on free 127.0.0.1 ports with a temporary working dir (its SQLite) for the block."""
    binary = executable("phoenix", "OTEL_LLM_PHOENIX_BIN", DEFAULT_BIN)
    port, grpc_port = free_ports(2)
    with tempfile.TemporaryDirectory(prefix="phoenix-") as workdir:
        # The developer's PHOENIX_* / OTEL_* settings must not reconfigure (or instrument) the test backend.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOENIX_", "OTEL_"))}
        env.update(
            PHOENIX_WORKING_DIR=workdir,
            PHOENIX_HOST="127.0.0.1",
            PHOENIX_PORT=str(port),
            PHOENIX_GRPC_PORT=str(grpc_port),
            PHOENIX_TELEMETRY_ENABLED="false",
            PHOENIX_ALLOW_EXTERNAL_RESOURCES="false",
            PHOENIX_DISABLE_AGENT_ASSISTANT="true",
            PYTHONUNBUFFERED="1",
        )
        server = PhoenixServer(endpoint=f"http://127.0.0.1:{port}", grpc_endpoint=f"http://127.0.0.1:{grpc_port}")
        with server_process(
            "Phoenix",
            [binary, "serve"],
            workdir=Path(workdir),
            env=env,
            ready=lambda: http_ok(f"{server.endpoint}/healthz"),
            timeout=STARTUP_TIMEOUT,
            poll=0.25,
        ):
            yield server
