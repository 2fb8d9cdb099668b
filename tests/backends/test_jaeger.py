"""Jaeger, proven against a real Jaeger v2 (built from its Go module by .ci/servers/jaeger.sh):
each trace read back by id through Jaeger's query API, over both OTLP transports."""

from __future__ import annotations

import pytest

from tests.backends.calls import send_calls
from tests.backends.expected import check_jaeger
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
    check_jaeger(stored)
