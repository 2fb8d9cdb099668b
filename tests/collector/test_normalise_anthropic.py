"""The anthropic SDK's own spans → GenAI: captured from the real SDK, and as recorded.

The capture runs the SDK installed here (its tracing exists from 1.14; older SDKs skip it) over a
mock transport with the test's tracer provider and no otel-llm instrumentation, as an application
that only turned on the SDK's tracing would send them. The recorded spans (anthropic 2.12) run
under every SDK.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from otel_llm.collector.normalise import normalise
from otel_llm.genai import attributes as A
from tests.anthropic_support import (
    NATIVE_TRACING,
    json_response,
    make_anthropic_client,
    message_payload,
    usage,
)
from tests.collector.test_normalise import check_normalised, foreign_span
from tests.support import Telemetry

SCOPE = "com.anthropic.sdk.python"
CONTENT = [
    {"type": "text", "text": "Let me check.", "citations": None},
    {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
]
# anthropic 2.12's span for messages.create (content mode off), as captured.
RECORDED_CREATE = {
    "server.address": "api.anthropic.com",
    "server.port": 443,
    "gen_ai.provider.name": "anthropic",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "claude-sonnet-4-6",
    "gen_ai.request.max_tokens": 1024,
    "http.request.method": "POST",
    "http.route": "/v1/messages",
    "url.scheme": "https",
    "url.path": "/v1/messages",
    "url.full": "https://api.anthropic.com/v1/messages",
    "gen_ai.usage.input_tokens": 145,
    "http.response.status_code": 200,
    "anthropic.request.id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    "gen_ai.response.id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "gen_ai.response.model": "claude-sonnet-4-6",
    "gen_ai.usage.cache_write.input_tokens": 20,
    "gen_ai.usage.cache_read.input_tokens": 100,
    "anthropic.usage.cache_creation.ephemeral_5m_input_tokens": 20,
    "anthropic.usage.cache_creation.ephemeral_1h_input_tokens": 0,
    "anthropic.response.service_tier": "standard",
    "gen_ai.usage.output_tokens": 40,
    "anthropic.message.stop_reason": "tool_use",
}
RECORDED_COUNT_TOKENS = {
    "server.address": "api.anthropic.com",
    "server.port": 443,
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-sonnet-4-6",
    "http.request.method": "POST",
    "http.route": "/v1/messages/count_tokens",
    "http.response.status_code": 200,
    "anthropic.request.id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    "anthropic.message.count_tokens.input_tokens": 14,
}


def check_create(before: ReadableSpan) -> dict[str, Any]:
    new = check_normalised(before, normalise(before), "anthropic")
    assert new[A.USAGE_CACHE_CREATION_INPUT_TOKENS] == 20
    assert new[A.RESPONSE_FINISH_REASONS] == ("tool_use",)  # the provider's value, as otel-llm records it
    return new


def test_recorded_create_and_count_tokens() -> None:
    new = check_create(foreign_span("anthropic.messages.create", RECORDED_CREATE, scope=SCOPE))
    assert new == {
        A.USAGE_CACHE_CREATION_INPUT_TOKENS: 20,
        A.RESPONSE_FINISH_REASONS: ("tool_use",),
        "otel_llm.normalised_from": "anthropic",
    }
    counted = foreign_span("anthropic.messages.count_tokens", RECORDED_COUNT_TOKENS, scope=SCOPE)
    assert check_normalised(counted, normalise(counted), "anthropic") == {
        A.OPERATION_NAME: "count_tokens",  # as otel-llm's instrumentation names the call
        "otel_llm.normalised_from": "anthropic",
    }


def test_a_platform_client_scope_is_recognised() -> None:
    attrs = {**RECORDED_CREATE, A.PROVIDER_NAME: "aws.bedrock"}
    check_create(foreign_span("anthropic.messages.create", attrs, scope=f"{SCOPE}.bedrock"))


def handler(request: Any) -> Any:
    if request.url.path.endswith("/count_tokens"):
        return json_response({"input_tokens": 14})
    body = message_payload(CONTENT, stop_reason="tool_use", usage_=usage(25, 40, cache_read=100, cache_creation=20))
    return json_response(body)


@pytest.mark.skipif(not NATIVE_TRACING, reason="anthropic < 1.14 has no tracing of its own")
@pytest.mark.parametrize("content_mode", ["metadata_only", "content"])
def test_spans_of_the_real_sdk(content_mode: str) -> None:
    telemetry = Telemetry()
    option = {"tracer_provider": telemetry.tracer_provider, "traces": {"content_mode": content_mode}}
    client = make_anthropic_client(handler, open_telemetry=option)
    client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=1024,
        system="Be brief.",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    client.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": "hi"}])
    create, count = telemetry.spans()
    assert create.instrumentation_scope.name == SCOPE
    new = check_create(create)
    assert A.OPERATION_NAME not in new and A.USAGE_INPUT_TOKENS not in new  # already in the conventions
    assert create.attributes[A.USAGE_INPUT_TOKENS] == 145  # cached tokens included, as ours
    if content_mode == "content":
        # The SDK's output messages have no finish_reason; they are the SDK's and stay as sent.
        assert normalise(create).attributes[A.OUTPUT_MESSAGES] == create.attributes[A.OUTPUT_MESSAGES]
        assert "finish_reason" not in json.loads(create.attributes[A.OUTPUT_MESSAGES])[0]
    assert normalise(count).attributes[A.OPERATION_NAME] == "count_tokens"
