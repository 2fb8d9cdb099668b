"""MLflow tracing: OTLP/HTTP to the tracking server's ``/v1/traces`` with the experiment header.
MLflow reads GenAI attributes natively (model, token usage, messages)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.backends._backend import Backend, BackendSpanExporter, Option, Target
from otel_llm.exporters.otlp import traces_url


def _target(o: Mapping[str, Any]) -> Target:
    headers = {"x-mlflow-experiment-id": str(o["experiment_id"])}
    if o["token"]:
        headers["authorization"] = f"Bearer {o['token']}"
    return Target(endpoint=traces_url(o["tracking_uri"]), headers=headers)


BACKEND = Backend(
    name="mlflow",
    title="MLflow",
    options=(
        Option(
            "tracking_uri",
            "url",
            env=("MLFLOW_TRACKING_URI",),
            default="http://localhost:5000",
            description="the tracking server's URL",
        ),
        Option("experiment_id", "text", env=("MLFLOW_EXPERIMENT_ID",), default="0", description="traces land here"),
        Option("token", "secret", env=("MLFLOW_TRACKING_TOKEN",), description="bearer token of a server with auth"),
    ),
    target=_target,
    proven="real server: mlflow from PyPI (sqlite store); traces read back through its REST API",
)


class MlflowSpanExporter(BackendSpanExporter):
    """``OTEL_TRACES_EXPORTER=mlflow``: server and experiment from MLFLOW_* variables."""

    backend = BACKEND
