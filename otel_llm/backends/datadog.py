"""Datadog: LLM Observability through its OTLP intake (no Agent), or APM through a local Agent.

``mode: llmobs`` (the default) sends OTLP/HTTP to ``https://trace.agent.<site>/v1/traces`` with
the API key and the ``dd-otlp-source`` header; Datadog reads the GenAI attributes (1.37+) and
shows each call as an LLM span, the application being the root span's ``service.name``.
``mode: agent`` sends plain OTLP to the Datadog Agent's OTLP receiver, for APM.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.backends._backend import Backend, BackendSpanExporter, MissingOption, Option, Target
from otel_llm.exporters.otlp import traces_url


def _target(o: Mapping[str, Any]) -> Target:
    if o["mode"] == "agent":
        return Target(endpoint=traces_url(o["agent_endpoint"]))
    if not o["api_key"]:
        raise MissingOption("datadog", "api_key", ("DD_API_KEY",), when=" in mode llmobs")
    endpoint = o["endpoint"] or f"https://trace.agent.{o['site']}"
    return Target(
        endpoint=traces_url(endpoint),
        headers={"dd-api-key": o["api_key"], "dd-otlp-source": o["otlp_source"]},
    )


BACKEND = Backend(
    name="datadog",
    title="Datadog",
    options=(
        Option(
            "mode",
            "choice",
            env=("OTEL_LLM_DATADOG_MODE",),
            choices=("llmobs", "agent"),
            default="llmobs",
            description="llmobs: LLM Observability over the OTLP intake; agent: APM through a Datadog Agent",
        ),
        Option("api_key", "secret", env=("DD_API_KEY",), description="required in mode llmobs"),
        Option(
            "site",
            "text",
            env=("DD_SITE",),
            default="datadoghq.com",
            description="datadoghq.eu, us5.datadoghq.com, ...",
        ),
        Option(
            "otlp_source", "text", env=("DD_OTLP_SOURCE",), default="llmobs", description="the dd-otlp-source header"
        ),
        Option("endpoint", "url", description="null: https://trace.agent.<site> (mode llmobs)"),
        Option(
            "agent_endpoint",
            "url",
            env=("DD_OTLP_ENDPOINT",),
            default="http://localhost:4318",
            description="the Agent's OTLP/HTTP receiver (mode agent)",
        ),
    ),
    target=_target,
    proven="real server: Datadog's ddapm-test-agent records the OTLP requests, headers and spans",
)


class DatadogSpanExporter(BackendSpanExporter):
    """``OTEL_TRACES_EXPORTER=datadog``: key and site from DD_API_KEY and DD_SITE."""

    backend = BACKEND
