"""Jaeger, proven against a real Jaeger v2 (built from its Go module by .ci/servers/jaeger.sh):
each trace read back by id through Jaeger's query API, over both OTLP transports."""

from __future__ import annotations

import json

import pytest

from tests.backends.calls import MODEL, send_calls
from tests.backends.jaeger_server import JaegerServer


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_each_call_is_stored_with_its_genai_attributes(jaeger: JaegerServer, protocol: str) -> None:
    endpoint = jaeger.otlp_grpc_endpoint if protocol == "grpc" else jaeger.otlp_http_endpoint
    sent = send_calls(
        {
            "destinations": {
                "jaeger": {
                    "type": "jaeger",
                    "endpoint": endpoint,
                    "protocol": protocol,
                    "queue": {"flush_interval": 0.05},
                }
            },
        }
    )
    stored = {}
    for trace_id in sent.trace_ids():
        (span,) = jaeger.trace(trace_id)
        stored[span["tags"]["gen_ai.operation.name"]] = span
    assert set(stored) == {"chat", "embeddings"}

    chat = stored["chat"]
    assert chat["operationName"] == "chat gpt-4o"
    tags = chat["tags"]
    assert tags["span.kind"] == "client"
    assert tags["gen_ai.provider.name"] == "openai"
    assert tags["gen_ai.response.model"] == MODEL
    assert (tags["gen_ai.usage.input_tokens"], tags["gen_ai.usage.output_tokens"]) == (1200, 300)
    assert tags["otel_llm.cost.usd"] == pytest.approx(0.00475)
    assert tags["user.id"] == "user-42"
    assert json.loads(tags["otel_llm.tags"]) == ["beta", "weather"]  # Jaeger keeps arrays as JSON text
    assert json.loads(tags["gen_ai.input.messages"])[1]["parts"][0]["content"] == "What is the weather in Paris?"
    assert not [k for k in tags if k.startswith(("langfuse.", "llm.", "openinference."))]  # no view
    assert stored["embeddings"]["tags"]["gen_ai.usage.input_tokens"] == 5
