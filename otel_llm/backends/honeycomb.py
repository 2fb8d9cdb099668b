"""Honeycomb: OTLP with the API key header (and the dataset header for classic environments).
Honeycomb queries GenAI attributes as they are, so no view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.backends._backend import Backend, BackendSpanExporter, Option, Target
from otel_llm.exporters.otlp import traces_url

US = "https://api.honeycomb.io"  # EU: https://api.eu1.honeycomb.io


def _target(o: Mapping[str, Any]) -> Target:
    headers = {"x-honeycomb-team": o["api_key"]}
    if o["dataset"]:
        headers["x-honeycomb-dataset"] = o["dataset"]
    return Target(
        endpoint=o["endpoint"] if o["protocol"] == "grpc" else traces_url(o["endpoint"]),
        protocol=o["protocol"],
        headers=headers,
    )


BACKEND = Backend(
    name="honeycomb",
    title="Honeycomb",
    options=(
        Option(
            "api_key",
            "secret",
            env=("HONEYCOMB_TRACES_APIKEY", "HONEYCOMB_API_KEY"),
            required=True,
            description="an ingest key",
        ),
        Option(
            "dataset",
            "text",
            env=("HONEYCOMB_DATASET",),
            description="for classic keys (32 characters); elsewhere the dataset is the service.name",
        ),
        Option("endpoint", "url", default=US, description="EU: https://api.eu1.honeycomb.io"),
        Option("protocol", "choice", choices=("grpc", "http/protobuf"), default="http/protobuf"),
    ),
    target=_target,
    proven="contract test: a strict OTLP/HTTP receiver checks URL, headers, protobuf and attributes",
)


class HoneycombSpanExporter(BackendSpanExporter):
    """``OTEL_TRACES_EXPORTER=honeycomb``: key and dataset from HONEYCOMB_* variables."""

    backend = BACKEND
