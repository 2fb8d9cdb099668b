"""Running ``node_client/send.mjs``, a real OpenTelemetry JS application, against a server under test.

The collector must accept what the JS SDK's own OTLP exporters send (their JSON, their protobuf, their
gRPC metadata), not only what the Python exporters send, so the tests run the real ones. Their packages
are pinned by ``node_client/package-lock.json`` and installed by ``.ci/servers/node-otlp.sh`` into
``<cache>/node-otlp/<first 16 hex of the lock's sha256>``; for local work an ``npm ci`` in
``node_client`` itself is used too. Like the backend servers, a missing install (or a missing ``node``)
skips the test, unless ``OTEL_LLM_REQUIRE_BACKENDS=1`` (CI), where it fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.backends._locate import CACHE

CLIENT = Path(__file__).resolve().parent / "node_client"
SCRIPT = CLIENT / "send.mjs"
INSTALL_SCRIPT = ".ci/servers/node-otlp.sh"
PROTOCOLS = ("http/protobuf", "http/json", "grpc")


def lock_hash() -> str:
    """The install directory's name: as ``node-otlp.sh`` computes it (``sha256sum | cut -c1-16``)."""
    return hashlib.sha256((CLIENT / "package-lock.json").read_bytes()).hexdigest()[:16]


def node_client_dir() -> Path | None:
    """A directory whose ``node_modules`` holds the locked packages: the cache install for the current
    lock (complete: its marker is written last), else ``node_client`` itself after a local ``npm ci``;
    None when neither exists."""
    installed = CACHE / "node-otlp" / lock_hash()
    if (installed / ".otel-llm-installed").is_file():
        return installed
    if (CLIENT / "node_modules" / "@opentelemetry" / "sdk-trace-base").is_dir():
        return CLIENT
    return None


def _missing(message: str) -> None:
    if os.environ.get("OTEL_LLM_REQUIRE_BACKENDS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def require_node_client() -> tuple[str, Path]:
    """``node``'s path and the packages' directory, or skip (fail under ``OTEL_LLM_REQUIRE_BACKENDS=1``)."""
    node = shutil.which("node")
    if node is None:
        _missing("node is not on PATH (the Node.js OTLP client needs Node >= 20.6)")
    deps = node_client_dir()
    if deps is None:
        _missing(f"the Node.js OTLP client is not installed (run {INSTALL_SCRIPT}, or npm ci in {CLIENT})")
    assert node is not None and deps is not None
    return node, deps


@dataclass(frozen=True)
class SendResult:
    """What one ``send.mjs`` run reported: its JSON line (see the script's header) and exit code."""

    returncode: int
    exported: int  # spans in batches the exporter reported as exported
    failed: int  # spans in batches it reported as failed (after its own retries)
    results: list[str]  # "success" | "failed", one per exporter.export() call
    error: str | None  # the first failure's message (HTTP: with the response body)
    error_code: int | None  # its HTTP status or gRPC status number, when the exporter kept one
    partial_success: list[dict[str, Any]]  # partial_success objects the server answered
    elapsed_ms: int
    stderr: str  # the exporters' diagnostics (retries, partial successes, unreadable responses)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.failed == 0


def _pairs(flag: str, items: Mapping[str, str] | None) -> list[str]:
    return [arg for key, value in (items or {}).items() for arg in (flag, f"{key}={value}")]


def run_node_client(
    protocol: str,
    endpoint: str,
    token: str | None = None,
    spans: int = 1,
    *,
    batch: int | None = None,
    headers: Mapping[str, str] | None = None,
    attrs: Mapping[str, str] | None = None,
    resource_attrs: Mapping[str, str] | None = None,
    service_name: str | None = None,
    timeout_ms: int | None = None,
    compression: str | None = None,
    extra_args: Iterable[str] = (),
    timeout: float = 60.0,
) -> SendResult:
    """Send ``spans`` GenAI spans with the JS exporter for ``protocol`` (one of PROTOCOLS) to ``endpoint``
    (HTTP: the full ``.../v1/traces`` URL, used as is; gRPC: ``http://host:port``) and wait for every batch's result.

    ``token`` becomes ``authorization: Bearer <token>``; ``headers`` more headers (gRPC metadata); ``attrs``
    string attributes on every span, ``resource_attrs`` on the resource. ``timeout_ms`` is the exporter's
    own per-export timeout, which also bounds its HTTP retries (default 10 s). The child gets no ``OTEL_*``
    variables: the exporters read them, and the developer's own must not redirect or alter the traffic.
    A run that dies without its JSON line raises AssertionError with its output.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
    if protocol == "grpc" and not endpoint.startswith("http://"):
        # The JS gRPC exporter speaks TLS to anything but http:// (a bare host:port included), and
        # send.mjs has no CA option: such a run could only fail with a confusing handshake error.
        raise ValueError(f"a gRPC endpoint must be http://host:port (plaintext), not {endpoint!r}")
    node, deps = require_node_client()
    args = [node, str(SCRIPT), "--protocol", protocol, "--endpoint", endpoint, "--spans", str(spans)]
    args += ["--deps", str(deps)]
    if token is not None:
        args += ["--token", token]
    for flag, value in (
        ("--batch", batch),
        ("--service-name", service_name),
        ("--timeout-ms", timeout_ms),
        ("--compression", compression),
    ):
        if value is not None:
            args += [flag, str(value)]
    args += _pairs("--header", headers) + _pairs("--attr", attrs) + _pairs("--resource-attr", resource_attrs)
    args += list(extra_args)
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    lines = done.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise AssertionError(
            f"send.mjs exited {done.returncode} without its JSON line\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        ) from None
    return SendResult(
        returncode=done.returncode,
        exported=report["exported"],
        failed=report["failed"],
        results=report["results"],
        error=report["error"],
        error_code=report["error_code"],
        partial_success=report["partial_success"],
        elapsed_ms=report["elapsed_ms"],
        stderr=done.stderr,
    )
