"""Backend presets: a destination type and an ``OTEL_TRACES_EXPORTER`` name per observability
backend, each OTLP with the backend's endpoint, credentials and attribute view.

``BACKENDS`` is the registry (name → ``Backend``); ``backend_exporter(name, **options)`` makes the
exporter, options not given coming from the backend's usual environment variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.backends import arize, datadog, honeycomb, jaeger, langfuse, langsmith, mlflow, phoenix
from otel_llm.backends._backend import Backend, BackendSpanExporter, MissingOption, Option, Target, resolve

BACKENDS: Mapping[str, Backend] = {
    m.BACKEND.name: m.BACKEND for m in (langfuse, arize, phoenix, datadog, honeycomb, jaeger, mlflow, langsmith)
}


def backend_exporter(name: str, environ: Mapping[str, str] | None = None, **options: Any) -> BackendSpanExporter:
    """The exporter of backend ``name``; MissingOption when a required option has no value."""
    return BackendSpanExporter(BACKENDS[name], environ=environ, **options)


__all__ = [
    "BACKENDS",
    "Backend",
    "BackendSpanExporter",
    "MissingOption",
    "Option",
    "Target",
    "backend_exporter",
    "resolve",
]
