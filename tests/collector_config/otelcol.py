"""The OpenTelemetry Collector (contrib components) that proves the ``collector-config/`` templates.

``.ci/servers/otelcol.sh`` builds it with the OpenTelemetry Collector Builder from the manifest
``collector-config/builder-config.yaml``, into a directory named by the manifest's hash, so a test
always runs the binary of the manifest it sits beside. A missing binary skips the tests, and fails
them under ``OTEL_LLM_REQUIRE_BACKENDS=1`` (CI).

Templates read their listeners from environment variables (``OTELCOL_GRPC_ENDPOINT``,
``OTELCOL_HTTP_ENDPOINT``, ``OTELCOL_HEALTH_ENDPOINT``, ``OTELCOL_METRICS_PORT``); ``otelcol()``
gives each run free loopback ports for them, plus whatever the test passes (destinations, keys).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.backends._locate import BACKENDS, executable
from tests.backends._process import free_ports, http_ok, listening, server_process

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "collector-config"
MANIFEST = TEMPLATES / "builder-config.yaml"
BUILD_SCRIPT = ROOT / ".ci" / "servers" / "otelcol.sh"
BINARY_NAME = "otelcol-otel-llm"
STARTUP_TIMEOUT = 30.0


def build_hash() -> str:
    """The build directory's name: the first 12 hex digits of the SHA-256 of the manifest followed by
    the build script (otelcol.sh computes the same), so an edit of either means a new binary."""
    return hashlib.sha256(MANIFEST.read_bytes() + BUILD_SCRIPT.read_bytes()).hexdigest()[:12]


def binary() -> str:
    """The built collector's path (skips, or fails in CI, when it is not built)."""
    return executable("otelcol", "OTEL_LLM_OTELCOL_BIN", BACKENDS / "otelcol" / build_hash() / BINARY_NAME)


def templates() -> list[Path]:
    """Every template: the YAML files of collector-config/ except the builder manifest."""
    return sorted(p for p in TEMPLATES.glob("*.yaml") if p != MANIFEST)


def template_variables() -> set[str]:
    """Every variable a template reads (``${env:NAME}``, with or without a default)."""
    names: set[str] = set()
    for template in templates():
        names.update(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)", template.read_text()))
    return names


def base_env() -> dict[str, str]:
    """The test process's environment without the developer's OTEL_* settings (the collector reads
    some) and without any variable a template reads (a DD_SITE or LANGFUSE_HOST of the developer's
    or CI's own must not change what a test checks): each test passes the ones it means."""
    drop = template_variables()
    return {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") and k not in drop}


def validate(template: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``otelcol validate --config template`` with ``env`` (its exit code and output)."""
    return subprocess.run(
        [binary(), "validate", "--config", str(template)],
        env={**base_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass
class Otelcol:
    """One running collector: its OTLP listeners, and control over its process."""

    template: Path
    env: dict[str, str]
    workdir: Path
    grpc_port: int
    http_port: int
    health_port: int
    metrics_port: int
    process: subprocess.Popen[bytes] | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def grpc_endpoint(self) -> str:
        """OTLP/gRPC target, ``http://127.0.0.1:PORT`` (plaintext)."""
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        """OTLP/HTTP base URL (exporters append /v1/traces)."""
        return f"http://127.0.0.1:{self.http_port}"

    def log(self) -> str:
        path = self.workdir / f"otelcol-{self.template.stem}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def metrics(self) -> str:
        """The collector's own Prometheus metrics (``otelcol_exporter_sent_spans_total``, ...)."""
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as response:
            return response.read().decode()

    def start(self) -> None:
        ports = (self.grpc_port, self.http_port, self.health_port)
        health = f"http://127.0.0.1:{self.health_port}/"
        self.process = self._stack.enter_context(
            server_process(
                f"otelcol-{self.template.stem}",
                [binary(), "--config", str(self.template)],
                workdir=self.workdir,
                env=self.env,
                ready=lambda: http_ok(health) and all(listening(p) for p in ports),
                timeout=STARTUP_TIMEOUT,
                poll=0.05,
            )
        )

    def kill(self) -> None:
        """``kill -9``: no shutdown, no flush, queues left as they are on disk."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._stack.close()
        self._stack = contextlib.ExitStack()
        self.process = None

    def stop(self) -> None:
        """A graceful stop (SIGTERM, as server_process ends it)."""
        self._stack.close()
        self._stack = contextlib.ExitStack()
        self.process = None


@contextlib.contextmanager
def otelcol(
    template: str | Path, env: Mapping[str, str] | None = None, workdir: Path | None = None
) -> Iterator[Otelcol]:
    """Run the collector with ``template`` (a name in collector-config/ or a path) for the block.

    Listeners get free loopback ports through the OTELCOL_* variables; ``env`` adds the template's own
    (endpoints of the destinations, keys). ``workdir`` (default: a new temporary directory) holds the
    log and is the working directory; pass one to keep file_storage across a restart.
    """
    path = Path(template)
    if not path.is_absolute() and not path.exists():
        path = TEMPLATES / path
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="otelcol-")))
        grpc_port, http_port, health_port, metrics_port = free_ports(4)
        full_env = {
            **base_env(),
            "OTELCOL_GRPC_ENDPOINT": f"127.0.0.1:{grpc_port}",
            "OTELCOL_HTTP_ENDPOINT": f"127.0.0.1:{http_port}",
            "OTELCOL_HEALTH_ENDPOINT": f"127.0.0.1:{health_port}",
            "OTELCOL_METRICS_PORT": str(metrics_port),
            **(env or {}),
        }
        collector = Otelcol(path, full_env, workdir, grpc_port, http_port, health_port, metrics_port)
        collector.start()
        try:
            yield collector
        finally:
            collector.stop()
