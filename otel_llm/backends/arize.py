"""Arize AX: OTLP to Arize's collector with the space id and API key headers, the project chosen
by a resource attribute, spans seen through the OpenInference view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.backends._backend import Backend, BackendSpanExporter, Option, Target
from otel_llm.backends.openinference import openinference_view
from otel_llm.backends.openinference import project_resource as _project

ENDPOINTS = {"grpc": "https://otlp.arize.com", "http/protobuf": "https://otlp.arize.com/v1/traces"}
# EU: https://otlp.eu-west-1a.arize.com (gRPC), https://otlp.eu-west-1a.arize.com/v1/traces (HTTP)


def _target(o: Mapping[str, Any]) -> Target:
    protocol = o["protocol"]
    return Target(
        endpoint=o["endpoint"] or ENDPOINTS[protocol],
        protocol=protocol,
        # What Arize's own arize-otel sends: the current names and the older ones it still honours.
        headers={
            "authorization": o["api_key"],
            "api_key": o["api_key"],
            "arize-space-id": o["space_id"],
            "space_id": o["space_id"],
            "arize-interface": "otel",
        },
        **_project(o["project"], model_id=True),
    )


BACKEND = Backend(
    name="arize",
    title="Arize AX",
    options=(
        Option("space_id", "text", env=("ARIZE_SPACE_ID",), required=True, description="the space's id"),
        Option("api_key", "secret", env=("ARIZE_API_KEY",), required=True),
        Option(
            "project",
            "text",
            env=("ARIZE_PROJECT_NAME",),
            description="null: the app's openinference.project.name resource attribute, else default",
        ),
        Option("protocol", "choice", choices=("grpc", "http/protobuf"), default="grpc"),
        Option(
            "endpoint",
            "url",
            env=("ARIZE_COLLECTOR_ENDPOINT",),
            description="null: Arize US (otlp.arize.com); EU: https://otlp.eu-west-1a.arize.com (+/v1/traces for HTTP)",
        ),
    ),
    target=_target,
    view=openinference_view,
    proven="contract test: a strict OTLP gRPC receiver checks the headers, resource and OpenInference attributes",
)


class ArizeSpanExporter(BackendSpanExporter):
    """``OTEL_TRACES_EXPORTER=arize``: space, key and project from ARIZE_* variables."""

    backend = BACKEND
