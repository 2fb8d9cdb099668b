"""Jaeger: plain OTLP (it stores any attribute), gRPC by default as Jaeger listens on 4317.

Under ``OTEL_TRACES_EXPORTER=jaeger`` the endpoint and protocol come from the standard
``OTEL_EXPORTER_OTLP_TRACES_*`` / ``OTEL_EXPORTER_OTLP_*`` variables, as for ``otlp``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.backends._backend import Backend, BackendSpanExporter, Option, Target


def _target(o: Mapping[str, Any]) -> Target:
    endpoint = o["endpoint"] or ("http://localhost:4317" if o["protocol"] == "grpc" else "http://localhost:4318")
    return Target(endpoint=endpoint, protocol=o["protocol"])


BACKEND = Backend(
    name="jaeger",
    title="Jaeger",
    options=(
        Option(
            "endpoint",
            "url",
            env=("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
            description="null: http://localhost:4317 (gRPC) or http://localhost:4318 (HTTP)",
        ),
        Option(
            "protocol",
            "choice",
            env=("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
            choices=("grpc", "http/protobuf"),
            default="grpc",
        ),
    ),
    target=_target,
    proven="real server: Jaeger v2 built from its Go module; traces read back through its query API",
)


class JaegerSpanExporter(BackendSpanExporter):
    """``OTEL_TRACES_EXPORTER=jaeger``: OTLP to localhost:4317 unless OTEL_EXPORTER_OTLP_* say otherwise."""

    backend = BACKEND
