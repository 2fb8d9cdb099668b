"""``opentelemetry-instrument`` integration: a distro with sensible defaults and a configurator.

With otel-llm installed, ``opentelemetry-instrument python app.py`` sets up the SDK (traces,
metrics and logs over OTLP/gRPC unless the user's ``OTEL_*`` variables say otherwise) and
instruments every supported LLM SDK through the ``opentelemetry_instrumentor`` entry points.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry.environment_variables import (
    OTEL_LOGS_EXPORTER,
    OTEL_METRICS_EXPORTER,
    OTEL_TRACES_EXPORTER,
)
from opentelemetry.instrumentation.distro import BaseDistro
from opentelemetry.sdk._configuration import _OTelSDKConfigurator
from opentelemetry.sdk.environment_variables import OTEL_EXPORTER_OTLP_PROTOCOL

# Defaults only: every one of them yields to a value the user already set.
DEFAULTS = {
    OTEL_TRACES_EXPORTER: "otlp",
    OTEL_METRICS_EXPORTER: "otlp",
    OTEL_LOGS_EXPORTER: "otlp",
    OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
}


class OtelLLMDistro(BaseDistro):  # type: ignore[misc]
    def _configure(self, **kwargs: Any) -> None:
        for key, value in DEFAULTS.items():
            os.environ.setdefault(key, value)


class OtelLLMConfigurator(_OTelSDKConfigurator):  # type: ignore[misc]
    """The SDK's own configurator; skipped when an SDK TracerProvider is already installed."""

    def _configure(self, **kwargs: Any) -> None:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider

        if isinstance(trace.get_tracer_provider(), TracerProvider):
            return
        super()._configure(**kwargs)
