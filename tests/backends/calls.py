"""Real instrumented calls for the backend tests, and what a backend received, decoded.

``send_calls(config)`` runs real openai SDK calls (content captured, cost on) on a mock
transport through ``otel_llm.configure(config)``: a chat completion with a system prompt, a tool
call, cached and reasoning tokens, inside ``otel_llm.context`` labels; and an embeddings call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan

import otel_llm
from tests.support import Telemetry, chat_completion_payload, chat_message, instrument, json_response, make_client

MODEL = "gpt-4o-2024-08-06"
SYSTEM = "You are a weather bot."
QUESTION = "What is the weather in Paris?"
ANSWER = "Let me look that up."
TOOL_ARGUMENTS = {"city": "Paris"}
LABELS: dict[str, Any] = {
    "user_id": "user-42",
    "session_id": "conv-7",
    "tags": ["beta", "weather"],
    "metadata": {"feature": "forecast", "tier": 2},
    "name": "weather-assistant",
}
USAGE = {"prompt_tokens": 1200, "completion_tokens": 300, "cached_tokens": 1000, "reasoning_tokens": 100}


def _handler(request: Any) -> Any:
    body = json.loads(request.content)
    if request.url.path.endswith("/embeddings"):
        return json_response(
            {
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
                "model": "text-embedding-3-small",
                "usage": {"prompt_tokens": 5, "total_tokens": 5},
            }
        )
    assert body["model"] == "gpt-4o"
    call = {
        "id": "call_w1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps(TOOL_ARGUMENTS)},
    }
    return json_response(chat_completion_payload((chat_message(ANSWER, tool_calls=[call]), "tool_calls"), **USAGE))


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def make_calls(tenant_id: str | None = None, embeddings: bool = True) -> None:
    """The calls, made with the globally installed instrumentation."""
    client = make_client(_handler)
    with otel_llm.context(tenant_id=tenant_id, **LABELS):
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
            tools=TOOLS,
            temperature=0.2,
            max_tokens=500,
        )
        if embeddings:
            client.embeddings.create(model="text-embedding-3-small", input="Paris", encoding_format="float")


@dataclass
class Sent:
    pipeline: Any
    spans: list[ReadableSpan]  # as they were before the pipeline

    def trace_ids(self) -> set[str]:
        return {format(s.context.trace_id, "032x") for s in self.spans}


def send_calls(config: Mapping[str, Any], tenants: tuple[str | None, ...] = (None,), embeddings: bool = True) -> Sent:
    """Configure a pipeline from ``config``, make the calls once per tenant, and flush."""
    telemetry = Telemetry()
    instrumentor = instrument(telemetry, capture_content="SPAN_ONLY", cost=True)
    pipeline = otel_llm.configure(
        dict(config), tracer_provider=telemetry.tracer_provider, meter_provider=MeterProvider(), instrument=False
    )
    try:
        for tenant in tenants:
            make_calls(tenant, embeddings)
    finally:
        instrumentor.uninstrument()
    assert pipeline.force_flush(20_000)
    return Sent(pipeline, telemetry.spans())


# -- OTLP as received ---------------------------------------------------------------------------


def any_value(value: Any) -> Any:
    """An OTLP AnyValue as a Python value."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return None if kind is None else getattr(value, kind)


def key_values(items: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in items}


@dataclass
class Received:
    """One span as an OTLP request carried it."""

    name: str
    trace_id: str
    span_id: str
    kind: int
    status_code: int
    attributes: dict[str, Any]
    resource: dict[str, Any]
    scope: str


def spans_of(request: trace_service_pb2.ExportTraceServiceRequest) -> Iterator[Received]:
    for rs in request.resource_spans:
        resource = key_values(rs.resource.attributes)
        for ss in rs.scope_spans:
            for span in ss.spans:
                yield Received(
                    name=span.name,
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    kind=span.kind,
                    status_code=span.status.code,
                    attributes=key_values(span.attributes),
                    resource=resource,
                    scope=ss.scope.name,
                )


def by_operation(spans: list[Received]) -> dict[str, Received]:
    """The received GenAI spans by gen_ai.operation.name (one each expected)."""
    out: dict[str, Received] = {}
    for span in spans:
        op = span.attributes.get("gen_ai.operation.name")
        if op is not None:
            assert op not in out, f"two {op} spans"
            out[op] = span
    return out
