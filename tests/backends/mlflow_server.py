"""The MLflow tracking server as a real OTLP trace backend for the tests, read back through its REST API.

Installed by ``.ci/servers/mlflow.sh`` (the pinned version is read from that script, so it lives in one
place). MLflow takes OTLP/HTTP (protobuf or JSON) on ``{tracking_uri}/v1/traces`` and requires the header
``x-mlflow-experiment-id: <id>`` (422 without it, 404 for an unknown experiment). It maps GenAI
semantic-convention attributes natively: span type, inputs/outputs, ``mlflow.chat.tokenUsage`` per span,
``mlflow.trace.tokenUsage`` / ``mlflow.trace.cost`` / user / session in the trace's metadata.

Read back with plain HTTP (the mlflow package is not in the test venv): ``POST /api/3.0/mlflow/traces/search``
for the trace infos, ``GET /api/3.0/mlflow/traces/get?trace_id=`` for each trace's spans.
Started with telemetry, the remote model price catalog and the background job runner off, so nothing
leaves the machine; ``mlflow.llm.cost`` / ``mlflow.trace.cost`` still come from the bundled catalog.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.backends._locate import BACKENDS, executable, pinned_version
from tests.backends._process import free_ports, http_ok, poll_until, server_process

MLFLOW_VERSION = pinned_version("mlflow.sh")
DEFAULT_BIN = BACKENDS / "mlflow" / MLFLOW_VERSION / "venv" / "bin" / "mlflow"
STARTUP_TIMEOUT = 120.0  # ~40 s on the first start after install, ~20 s after; slower on a busy CI machine
EXPERIMENT_HEADER = "x-mlflow-experiment-id"


@dataclass
class MlflowServer:
    """A running MLflow tracking server: where to export, and how to read back the traces it stored."""

    tracking_uri: str  # base URL: OTLP/HTTP at {tracking_uri}/v1/traces, REST at {tracking_uri}/api/...

    def create_experiment(self, name: str) -> str:
        """A new experiment's id: the value of the ``x-mlflow-experiment-id`` header an exporter must send."""
        return self._call("POST", "/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"]

    def traces(self, experiment_id: str, min_traces: int = 1, timeout: float = 30) -> list[dict]:
        """The experiment's traces, oldest first, once at least ``min_traces`` are there and none is in progress.

        A trace whose root span has not arrived yet is ``IN_PROGRESS`` (its spans come in separate exports),
        so polling also waits for that. Each trace is ``{"info": ..., "spans": [...]}``: ``info`` is MLflow's
        TraceInfo as REST gives it (``trace_id`` ``tr-<hex>``, ``state``, ``request_preview``,
        ``response_preview``, ``tags``, ``trace_metadata`` with JSON strings such as
        ``mlflow.trace.tokenUsage``); each span is flattened: ``name``, ``trace_id``/``span_id``/
        ``parent_span_id`` as hex (parent ``""`` at the root), ``start_time_unix_nano``,
        ``end_time_unix_nano``, ``status``, ``attributes`` as plain values (MLflow returns a string
        attribute holding a JSON object or array as that object or array).
        """
        def pending(infos: list[dict]) -> int:
            return sum(info.get("state") == "IN_PROGRESS" for info in infos)

        infos = poll_until(
            lambda: self._trace_infos(experiment_id),
            lambda found: len(found) >= min_traces and not pending(found),
            timeout=timeout,
            interval=0.25,
            failure=lambda found: (
                f"MLflow experiment {experiment_id} has {len(found)} trace(s) after {timeout}s "
                f"({pending(found)} in progress), wanted {min_traces}"
            ),
        )
        infos.sort(key=lambda info: info["request_time"])
        return [{"info": info, "spans": self._spans(info["trace_id"])} for info in infos]

    def _trace_infos(self, experiment_id: str) -> list[dict]:
        location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}
        infos: list[dict] = []
        page_token: str | None = None
        while True:
            body: dict[str, Any] = {"locations": [location], "max_results": 500}
            if page_token:
                body["page_token"] = page_token
            page = self._call("POST", "/api/3.0/mlflow/traces/search", body)
            infos.extend(page.get("traces", []))
            page_token = page.get("next_page_token")
            if not page_token:
                return infos

    def _spans(self, trace_id: str) -> list[dict]:
        trace = self._call("GET", f"/api/3.0/mlflow/traces/get?{urlencode({'trace_id': trace_id})}")["trace"]
        return [_flat_span(span) for span in trace.get("spans", [])]

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.tracking_uri}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)


def _flat_span(span: dict[str, Any]) -> dict[str, Any]:
    """An OTLP-JSON span from MLflow with base64 ids as hex and its attributes as plain values."""
    return {
        "name": span["name"],
        "trace_id": _hex(span.get("trace_id", "")),
        "span_id": _hex(span.get("span_id", "")),
        "parent_span_id": _hex(span.get("parent_span_id", "")),
        "start_time_unix_nano": int(span.get("start_time_unix_nano", 0)),
        "end_time_unix_nano": int(span.get("end_time_unix_nano", 0)),
        "status": span.get("status", {}),
        "attributes": {kv["key"]: _value(kv.get("value", {})) for kv in span.get("attributes", [])},
    }


def _hex(b64: str) -> str:
    return base64.b64decode(b64).hex()


def _value(value: dict[str, Any]) -> Any:
    """An OTLP AnyValue in protobuf-JSON form (snake_case field names) as a plain Python value."""
    if "array_value" in value:
        return [_value(v) for v in value["array_value"].get("values", [])]
    if "kvlist_value" in value:
        return {kv["key"]: _value(kv.get("value", {})) for kv in value["kvlist_value"].get("values", [])}
    if "int_value" in value:
        return int(value["int_value"])  # protobuf JSON may give int64 as a string
    if "bytes_value" in value:
        return base64.b64decode(value["bytes_value"])
    for kind in ("string_value", "double_value", "bool_value"):
        if kind in value:
            return value[kind]
    return None


@contextlib.contextmanager
def mlflow_server() -> Iterator[MlflowServer]:
    """Run ``mlflow server`` on a free 127.0.0.1 port, SQLite store and artifacts in a temp dir, for the block.

    Stopping it stops its whole process group: the uvicorn worker and helpers included.
    """
    binary = executable("mlflow", "OTEL_LLM_MLFLOW_BIN", DEFAULT_BIN)
    [port] = free_ports(1)
    with tempfile.TemporaryDirectory(prefix="mlflow-") as workdir:
        # The developer's MLFLOW_* / OTEL_* settings must not reconfigure (or instrument) the test backend.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "OTEL_"))}
        env.update(
            MLFLOW_DISABLE_TELEMETRY="true",
            DO_NOT_TRACK="true",
            MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",  # no job runner / huey workers: nothing here needs them
            # Cost is priced from the catalog bundled in the package; by default MLflow first fetches each
            # provider's price list from the internet (a ~7 s stall per provider here, and traffic we never send).
            MLFLOW_MODEL_CATALOG_URI="",
            PYTHONUNBUFFERED="1",
        )
        args = [
            binary,
            "server",
            f"--backend-store-uri=sqlite:///{workdir}/mlflow.db",
            f"--default-artifact-root={workdir}/artifacts",
            "--no-serve-artifacts",
            "--host=127.0.0.1",
            f"--port={port}",
            "--workers=1",
        ]
        server = MlflowServer(tracking_uri=f"http://127.0.0.1:{port}")
        with server_process(
            "MLflow",
            args,
            workdir=Path(workdir),
            env=env,
            ready=lambda: http_ok(f"{server.tracking_uri}/health"),
            timeout=STARTUP_TIMEOUT,
            poll=0.25,
        ):
            yield server
