"""Arize Phoenix (self-hosted or Phoenix Cloud): OTLP/HTTP protobuf to ``{endpoint}/v1/traces``,
the project chosen by a resource attribute, spans seen through the OpenInference view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.backends._backend import Backend, BackendSpanExporter, Option, Target
from otel_llm.backends.openinference import openinference_view
from otel_llm.backends.openinference import project_resource as _project
from otel_llm.exporters.otlp import traces_url


def _target(o: Mapping[str, Any]) -> Target:
    headers = {"authorization": f"Bearer {o['api_key']}"} if o["api_key"] else {}
    return Target(
        endpoint=traces_url(o["endpoint"]),
        headers=headers,
        **_project(o["project"]),
    )


BACKEND = Backend(
    name="phoenix",
    title="Arize Phoenix",
    options=(
        Option(
            "endpoint",
            "url",
            env=("PHOENIX_COLLECTOR_ENDPOINT",),
            default="http://localhost:6006",
            description="the server's base URL (/v1/traces is added); Phoenix Cloud: https://app.phoenix.arize.com/s/SPACE",
        ),
        Option("api_key", "secret", env=("PHOENIX_API_KEY",), description="for Phoenix Cloud or a server with auth"),
        Option(
            "project",
            "text",
            env=("PHOENIX_PROJECT", "PHOENIX_PROJECT_NAME"),
            description="null: the app's openinference.project.name resource attribute, else default",
        ),
    ),
    target=_target,
    view=openinference_view,
    proven="real server: arize-phoenix from PyPI; spans read back through its REST API",
)


class PhoenixSpanExporter(BackendSpanExporter):
    """``OTEL_TRACES_EXPORTER=phoenix``: endpoint, key and project from PHOENIX_* variables."""

    backend = BACKEND
