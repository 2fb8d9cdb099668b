"""``opentelemetry-instrument`` integration: a distro with sensible defaults and a configurator.

With otel-llm installed, ``opentelemetry-instrument python app.py`` sets up the SDK (traces,
metrics and logs over OTLP/gRPC unless the user's ``OTEL_*`` variables say otherwise) and
instruments every supported LLM SDK through the ``opentelemetry_instrumentor`` entry points.

With ``OTEL_LLM_CONFIG=otel-llm.yaml`` the configuration's destinations pipeline receives every
span instead: exporters named in ``OTEL_TRACES_EXPORTER`` become destinations under the global
redaction settings, so nothing reaches an exporter around the pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
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


CONFIG_ENV = "OTEL_LLM_CONFIG"


class OtelLLMDistro(BaseDistro):  # type: ignore[misc]
    def _configure(self, **kwargs: Any) -> None:
        for key, value in DEFAULTS.items():
            if key == OTEL_TRACES_EXPORTER and os.environ.get(CONFIG_ENV, "").strip():
                continue  # the configuration's destinations export the spans
            os.environ.setdefault(key, value)


class OtelLLMConfigurator(_OTelSDKConfigurator):  # type: ignore[misc]
    """The SDK's own configurator; skipped when an SDK TracerProvider is already installed."""

    def _configure(self, **kwargs: Any) -> None:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider

        if isinstance(trace.get_tracer_provider(), TracerProvider):
            return
        if not os.environ.get(CONFIG_ENV, "").strip():
            super()._configure(**kwargs)
            return
        _configure_with_file(lambda: super(OtelLLMConfigurator, self)._configure(**kwargs))


def _configure_with_file(configure_sdk: Callable[[], None]) -> None:
    """The SDK set up from the environment, minus trace exporters; then the file's pipeline on top.

    An invalid file raises ConfigError: opentelemetry-instrument reports it and the application runs
    without telemetry rather than with an unredacted export path.
    """
    from opentelemetry import trace
    from opentelemetry.sdk._configuration import _get_exporter_names, _import_exporters

    from otel_llm._configure import configure, resolve_config, settings_as_environment

    config = resolve_config(None)
    names = _get_exporter_names("traces")
    span_exporters, _, _ = _import_exporters(names, [], [])
    saved = os.environ.get(OTEL_TRACES_EXPORTER)
    os.environ[OTEL_TRACES_EXPORTER] = "none"
    try:
        configure_sdk()
    finally:
        if saved is None:
            os.environ.pop(OTEL_TRACES_EXPORTER, None)
        else:
            os.environ[OTEL_TRACES_EXPORTER] = saved
    # Instrumentors run after configurators and read their settings from the environment.
    os.environ.update(settings_as_environment(config))
    extra = {f"env:{name}": cls() for name, cls in span_exporters.items()}
    configure(config, tracer_provider=trace.get_tracer_provider(), instrument=False, exporters=extra)  # type: ignore[arg-type]
