"""Non-streaming Anthropic Messages API calls through the real anthropic SDK: spans, attributes,
content and metrics.

Every client reports the SDK's own spans (anthropic >= 1.14) into the test's exporter too, so the
exact span counts asserted here fail if a native span is left next to ours. Attribute dicts are
compared whole: a missing, extra or mistyped attribute fails.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
from typing import Any

import anthropic
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from tests.anthropic_support import (
    MESSAGE_ID,
    MODEL,
    NATIVE_TRACING,
    REQUEST_ID,
    RESPONSE_MODEL,
    json_response,
    make_anthropic_client,
    message_payload,
    usage,
)
from tests.support import Telemetry, assert_call_metrics, validate_content

# 0.x answers ``with_raw_response`` with a LegacyAPIResponse whose body is read at once.
LEGACY_RAW_RESPONSE = importlib.util.find_spec("anthropic._legacy_response") is not None
SCOPE = "otel_llm.instrumentation.anthropic"
MAX_TOKENS = 1024
USER = [{"role": "user", "content": "What is the capital of France?"}]
ANSWER = "The capital of France is Paris."
PAYLOAD = message_payload([{"type": "text", "text": ANSWER, "citations": None}])
CONTENT_KEYS = {
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
}
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
PDF_B64 = "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK"
ANT_URL = "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"

BEDROCK_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
BEDROCK_HOST = "bedrock-runtime.us-east-1.amazonaws.com"
VERTEX_MODEL = "claude-sonnet-4-5@20250929"
VERTEX_HOST = "us-east5-aiplatform.googleapis.com"
VERTEX_PREFIX = "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/"
PLATFORM_RESPONSE_MODEL = "claude-sonnet-4-5-20250929"


class Server:
    """A mock Messages API (first-party, Bedrock or Vertex URLs) that keeps every request it gets."""

    def __init__(self, payload: dict[str, Any] | None = None, *, count: int = 2095) -> None:
        self.payload = payload if payload is not None else PAYLOAD
        self.count = count
        self.requests: list[Any] = []
        self.active_spans: list[Any] = []  # the current span while the HTTP request is sent

    def __call__(self, request: Any) -> Any:
        path = request.url.path
        self.requests.append(request)
        self.active_spans.append(trace.get_current_span().get_span_context())
        if path in ("/v1/messages/count_tokens", VERTEX_PREFIX + "count-tokens:rawPredict"):
            return json_response({"input_tokens": self.count})
        assert path == "/v1/messages" or path.endswith(("/invoke", ":rawPredict")), path
        return json_response(self.payload)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    @property
    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def request_attrs(
    model: str = MODEL,
    *,
    operation: str = "chat",
    provider: str = "anthropic",
    host: str = "api.anthropic.com",
    max_tokens: int | None = MAX_TOKENS,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "server.address": host,
        "server.port": 443,
    }
    if max_tokens is not None:
        attrs["gen_ai.request.max_tokens"] = max_tokens
    return {**attrs, **(extra or {})}


def response_attrs(
    *,
    input_tokens: int = 25,
    output_tokens: int = 12,
    cache_read: int = 0,
    cache_creation: int = 0,
    ephemeral_5m: int = 0,
    ephemeral_1h: int = 0,
    finish_reasons: tuple[str, ...] = ("end_turn",),
    response_model: str = RESPONSE_MODEL,
    service_tier: str = "standard",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``input_tokens`` is the conventions' count: Anthropic's uncached input plus cache read and creation."""
    return {
        "gen_ai.response.id": MESSAGE_ID,
        "gen_ai.response.model": response_model,
        "gen_ai.response.finish_reasons": finish_reasons,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "gen_ai.usage.cache_read.input_tokens": cache_read,
        "gen_ai.usage.cache_creation.input_tokens": cache_creation,
        "anthropic.usage.cache_creation.ephemeral_5m_input_tokens": ephemeral_5m,
        "anthropic.usage.cache_creation.ephemeral_1h_input_tokens": ephemeral_1h,
        "anthropic.response.service_tier": service_tier,
        "anthropic.request.id": REQUEST_ID,
        **(extra or {}),
    }


def metric_attrs(
    model: str = MODEL,
    *,
    operation: str = "chat",
    provider: str = "anthropic",
    host: str = "api.anthropic.com",
    response_model: str | None = RESPONSE_MODEL,
) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "server.address": host,
        "server.port": 443,
    }
    if response_model is not None:
        attrs["gen_ai.response.model"] = response_model
    return attrs


def assert_span(telemetry: Telemetry, expected: dict[str, Any], name: str = f"chat {MODEL}") -> Any:
    """The one span of the test (no native SDK span beside it), its identity and its whole attribute dict."""
    span = telemetry.span()
    assert span.name == name
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.parent is None
    assert span.instrumentation_scope.name == SCOPE
    assert dict(span.attributes) == expected
    assert not span.events  # no exception recorded
    return span


def split_content(span: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(attributes without content, content attributes parsed and validated against their schemas)."""
    attrs = dict(span.attributes)
    found = {k: v for k, v in attrs.items() if k in CONTENT_KEYS}
    assert all(isinstance(v, str) for v in found.values()), found
    content = validate_content(attrs)
    assert content == {k: json.loads(v) for k, v in found.items()}
    return {k: v for k, v in attrs.items() if k not in CONTENT_KEYS}, content


def assert_content_span(telemetry: Telemetry, expected: dict[str, Any], name: str = f"chat {MODEL}") -> dict:
    span = telemetry.span()
    assert span.name == name
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope.name == SCOPE
    attrs, content = split_content(span)
    assert attrs == expected
    assert telemetry.events() == []  # SPAN_ONLY: no details event
    return content


def text(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


def user_input(*parts: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "parts": list(parts)}]


def output(*parts: dict[str, Any], finish_reason: str = "stop") -> list[dict[str, Any]]:
    return [{"role": "assistant", "parts": list(parts), "finish_reason": finish_reason}]


# -- messages.create -----------------------------------------------------------------------------


def test_create_span_attributes_and_metrics(atelemetry):
    server = Server()
    client = make_anthropic_client(server, telemetry=atelemetry)
    message = client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER)
    assert message.content[0].text == ANSWER
    assert server.paths == ["/v1/messages"]
    assert server.bodies == [{"model": MODEL, "max_tokens": MAX_TOKENS, "messages": USER}]
    span = assert_span(atelemetry, {**request_attrs(), **response_attrs()})
    assert server.active_spans == [span.context]  # our span is current while the request is sent
    assert not trace.get_current_span().get_span_context().is_valid  # and detached after
    assert_call_metrics(atelemetry, metric_attrs(), input_tokens=25, output_tokens=12)
    assert atelemetry.events() == []


def test_create_without_capture_records_no_content(atelemetry):
    client = make_anthropic_client(Server(), telemetry=atelemetry)
    client.messages.create(
        model=MODEL,
        max_tokens=MAX_TOKENS,
        system="You are a geography tutor.",
        messages=USER,
        tools=[{"name": "lookup", "description": "Look up a fact.", "input_schema": {"type": "object"}}],
    )
    assert_span(atelemetry, {**request_attrs(), **response_attrs()})
    assert atelemetry.events() == []


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
    ],
)
def test_stop_reason_is_kept_raw_and_normalised_in_output_message(atelemetry_content, stop_reason, finish_reason):
    payload = message_payload([{"type": "text", "text": "Paris", "citations": None}], stop_reason=stop_reason)
    make_anthropic_client(Server(payload), telemetry=atelemetry_content).messages.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=USER
    )
    content = assert_content_span(
        atelemetry_content, {**request_attrs(), **response_attrs(finish_reasons=(stop_reason,))}
    )
    assert content == {
        "gen_ai.input.messages": user_input(text("What is the capital of France?")),
        "gen_ai.output.messages": output(text("Paris"), finish_reason=finish_reason),
    }


@pytest.mark.parametrize(
    ("output_config", "extra"),
    [
        ({"effort": "high"}, {"gen_ai.request.reasoning.level": "high"}),
        (
            {
                "format": {
                    "type": "json_schema",
                    "schema": {"type": "object", "properties": {"city": {"type": "string"}}},
                }
            },
            {"gen_ai.output.type": "json"},
        ),
        (
            {"effort": "low", "format": {"type": "json_schema", "schema": {"type": "object"}}},
            {"gen_ai.request.reasoning.level": "low", "gen_ai.output.type": "json"},
        ),
    ],
)
def test_request_parameters(atelemetry, output_config, extra):
    """temperature/top_p/top_k are not create() arguments of every SDK line: they go through extra_body."""
    server = Server()
    client = make_anthropic_client(server, telemetry=atelemetry)
    client.messages.create(
        model=MODEL,
        max_tokens=2048,
        messages=USER,
        stop_sequences=["\n\nHuman:", "END"],
        service_tier="auto",
        metadata={"user_id": "13803d75-b4b5-4c3e-b2a2-6f21399b021b"},
        output_config=output_config,
        extra_body={"temperature": 0.7, "top_p": 0.9, "top_k": 40},
    )
    body = server.bodies[0]
    assert {k: body[k] for k in ("temperature", "top_p", "top_k", "stop_sequences", "output_config")} == {
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": 40,
        "stop_sequences": ["\n\nHuman:", "END"],
        "output_config": output_config,
    }
    expected_request = request_attrs(
        max_tokens=2048,
        extra={
            "gen_ai.request.temperature": 0.7,
            "gen_ai.request.top_p": 0.9,
            "gen_ai.request.top_k": 40,
            "gen_ai.request.stop_sequences": ("\n\nHuman:", "END"),
            "anthropic.request.service_tier": "auto",
            **extra,
        },
    )
    assert_span(atelemetry, {**expected_request, **response_attrs()})


def test_zero_temperature_is_recorded(atelemetry):
    make_anthropic_client(Server(), telemetry=atelemetry).messages.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=USER, extra_body={"temperature": 0}
    )
    assert_span(atelemetry, {**request_attrs(extra={"gen_ai.request.temperature": 0}), **response_attrs()})


# -- prompt caching ------------------------------------------------------------------------------

LONG_SYSTEM = [
    {"type": "text", "text": "You are an AI assistant tasked with analyzing literary works."},
    {"type": "text", "text": "<the entire text of Pride and Prejudice>", "cache_control": {"type": "ephemeral"}},
]


@pytest.mark.parametrize(
    ("cache_read", "ephemeral_5m", "ephemeral_1h"),
    [
        (0, 2048, 0),  # first call: the prefix is written to a 5-minute cache
        (0, 0, 3072),  # written with ttl 1h
        (2048, 0, 0),  # a later call reads it
        (1536, 512, 1024),  # read one breakpoint, write two more
    ],
)
def test_prompt_caching_usage(atelemetry, cache_read, ephemeral_5m, ephemeral_1h):
    creation = ephemeral_5m + ephemeral_1h
    api_usage = {
        **usage(14, 390, cache_read=cache_read, cache_creation=creation),
        "cache_creation": {"ephemeral_5m_input_tokens": ephemeral_5m, "ephemeral_1h_input_tokens": ephemeral_1h},
    }
    payload = message_payload([{"type": "text", "text": "The novel explores...", "citations": None}], usage_=api_usage)
    client = make_anthropic_client(Server(payload), telemetry=atelemetry)
    message = client.messages.create(
        model=MODEL,
        max_tokens=MAX_TOKENS,
        system=LONG_SYSTEM,
        messages=[{"role": "user", "content": "Analyze the major themes in Pride and Prejudice."}],
    )
    assert message.usage.input_tokens == 14  # Anthropic's count leaves cached tokens out...
    total_input = 14 + cache_read + creation  # ...the conventions' count includes them
    expected = response_attrs(
        input_tokens=total_input,
        output_tokens=390,
        cache_read=cache_read,
        cache_creation=creation,
        ephemeral_5m=ephemeral_5m,
        ephemeral_1h=ephemeral_1h,
    )
    assert_span(atelemetry, {**request_attrs(), **expected})
    assert_call_metrics(atelemetry, metric_attrs(), input_tokens=total_input, output_tokens=390)


def test_usage_without_cache_fields(atelemetry):
    """Older API versions and some platforms send only input and output counts."""
    payload = message_payload(usage_={"input_tokens": 25, "output_tokens": 12})
    make_anthropic_client(Server(payload), telemetry=atelemetry).messages.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=USER
    )
    expected = response_attrs()
    for key in (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
        "anthropic.usage.cache_creation.ephemeral_5m_input_tokens",
        "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
        "anthropic.response.service_tier",
    ):
        del expected[key]
    assert_span(atelemetry, {**request_attrs(), **expected})
    assert_call_metrics(atelemetry, metric_attrs(), input_tokens=25, output_tokens=12)


# -- extended thinking ---------------------------------------------------------------------------

THINKING = "To approach this, let me think about 27 * 453. 27 * 453 = 27 * 400 + 27 * 53 = 10800 + 1431 = 12231."
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds8MFvU1UxaHaLF2g2gsLm2IBH+6y7hFPpnQ12Bj8e"
THINKING_USAGE = {**usage(46, 318), "output_tokens_details": {"thinking_tokens": 254}}
THINKING_PAYLOAD = message_payload(
    [
        {"type": "thinking", "thinking": THINKING, "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"},
        {"type": "text", "text": "27 \u00d7 453 = 12,231.", "citations": None},
    ],
    usage_=THINKING_USAGE,
)
THINKING_ATTRS = {
    **response_attrs(input_tokens=46, output_tokens=318),
    "gen_ai.usage.reasoning.output_tokens": 254,
}


@pytest.mark.parametrize(
    ("thinking", "extra"),
    [
        (
            {"type": "enabled", "budget_tokens": 10000},
            {"anthropic.thinking.type": "enabled", "anthropic.thinking.budget_tokens": 10000},
        ),
        ({"type": "adaptive"}, {"anthropic.thinking.type": "adaptive"}),
        ({"type": "disabled"}, {"anthropic.thinking.type": "disabled"}),
    ],
)
def test_thinking_request_attributes(atelemetry, thinking, extra):
    server = Server(THINKING_PAYLOAD)
    client = make_anthropic_client(server, telemetry=atelemetry)
    client.messages.create(
        model=MODEL, max_tokens=16000, thinking=thinking, messages=[{"role": "user", "content": "What is 27 * 453?"}]
    )
    assert server.bodies[0]["thinking"] == thinking
    assert_span(atelemetry, {**request_attrs(max_tokens=16000, extra=extra), **THINKING_ATTRS})
    assert_call_metrics(atelemetry, metric_attrs(), input_tokens=46, output_tokens=318)


def test_thinking_blocks_become_reasoning_parts(atelemetry_content):
    previous_turn = [
        {"type": "thinking", "thinking": "The user wants a multiplication.", "signature": SIGNATURE},
        {"type": "text", "text": "Sure, what should I multiply?"},
    ]
    client = make_anthropic_client(Server(THINKING_PAYLOAD), telemetry=atelemetry_content)
    message = client.messages.create(
        model=MODEL,
        max_tokens=16000,
        thinking={"type": "enabled", "budget_tokens": 10000},
        messages=[
            {"role": "user", "content": "Can you multiply two numbers for me?"},
            {"role": "assistant", "content": previous_turn},
            {"role": "user", "content": "What is 27 * 453?"},
        ],
    )
    assert [b.type for b in message.content] == ["thinking", "redacted_thinking", "text"]
    expected = {
        **request_attrs(
            max_tokens=16000,
            extra={"anthropic.thinking.type": "enabled", "anthropic.thinking.budget_tokens": 10000},
        ),
        **THINKING_ATTRS,
    }
    content = assert_content_span(atelemetry_content, expected)
    assert content == {
        "gen_ai.input.messages": [
            {"role": "user", "parts": [text("Can you multiply two numbers for me?")]},
            {
                "role": "assistant",
                "parts": [
                    {"type": "reasoning", "content": "The user wants a multiplication."},
                    text("Sure, what should I multiply?"),
                ],
            },
            {"role": "user", "parts": [text("What is 27 * 453?")]},
        ],
        "gen_ai.output.messages": output(
            {"type": "reasoning", "content": THINKING},
            {"type": "redacted_thinking"},  # encrypted: only the kind of block is recorded
            text("27 \u00d7 453 = 12,231."),
        ),
    }


# -- tools ---------------------------------------------------------------------------------------

WEATHER_ID = "toolu_01A09q90qw90lq917835lq9"
TIME_ID = "toolu_01T1x1fJ34qAmk2tNTrN7Up6"
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["location"],
}
TIME_SCHEMA = {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}
TOOLS = [
    {
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "input_schema": WEATHER_SCHEMA,
    },
    {"type": "custom", "name": "get_time", "input_schema": TIME_SCHEMA},
    {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
]
EXPECTED_TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "parameters": WEATHER_SCHEMA,
    },
    {"type": "function", "name": "get_time", "parameters": TIME_SCHEMA},
    {"type": "web_search_20250305", "name": "web_search"},
]
TOOL_MESSAGES = [
    {"role": "user", "content": "What time is it in San Francisco, and what's the weather like there?"},
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "I'll check the local time first."},
            {"type": "tool_use", "id": TIME_ID, "name": "get_time", "input": {"timezone": "America/Los_Angeles"}},
        ],
    },
    {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": TIME_ID, "content": "2025-06-01T09:41:00-07:00"}],
    },
]
TOOL_PAYLOAD = message_payload(
    [
        {"type": "text", "text": "It's 9:41 AM. Now let me check the weather.", "citations": None},
        {
            "type": "tool_use",
            "id": WEATHER_ID,
            "name": "get_weather",
            "input": {"location": "San Francisco, CA", "unit": "fahrenheit"},
        },
    ],
    stop_reason="tool_use",
    usage_=usage(672, 89),
)
TOOL_ATTRS = {
    **request_attrs(),
    **response_attrs(input_tokens=672, output_tokens=89, finish_reasons=("tool_use",)),
}


def test_tool_use_content(atelemetry_content):
    client = make_anthropic_client(Server(TOOL_PAYLOAD), telemetry=atelemetry_content)
    message = client.messages.create(
        model=MODEL, max_tokens=MAX_TOKENS, tools=TOOLS, tool_choice={"type": "auto"}, messages=TOOL_MESSAGES
    )
    assert message.content[1].input == {"location": "San Francisco, CA", "unit": "fahrenheit"}
    content = assert_content_span(atelemetry_content, TOOL_ATTRS)
    assert content == {
        "gen_ai.input.messages": [
            {"role": "user", "parts": [text("What time is it in San Francisco, and what's the weather like there?")]},
            {
                "role": "assistant",
                "parts": [
                    text("I'll check the local time first."),
                    {
                        "type": "tool_call",
                        "id": TIME_ID,
                        "name": "get_time",
                        "arguments": {"timezone": "America/Los_Angeles"},
                    },
                ],
            },
            {
                "role": "user",
                "parts": [{"type": "tool_call_response", "id": TIME_ID, "response": "2025-06-01T09:41:00-07:00"}],
            },
        ],
        "gen_ai.output.messages": output(
            text("It's 9:41 AM. Now let me check the weather."),
            {
                "type": "tool_call",
                "id": WEATHER_ID,
                "name": "get_weather",
                "arguments": {"location": "San Francisco, CA", "unit": "fahrenheit"},
            },
            finish_reason="tool_call",
        ),
        "gen_ai.tool.definitions": EXPECTED_TOOLS,
    }


def test_tool_use_without_capture(atelemetry):
    client = make_anthropic_client(Server(TOOL_PAYLOAD), telemetry=atelemetry)
    client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, tools=TOOLS, messages=TOOL_MESSAGES)
    assert_span(atelemetry, TOOL_ATTRS)
    assert_call_metrics(atelemetry, metric_attrs(), input_tokens=672, output_tokens=89)


@pytest.mark.parametrize(
    ("result", "response"),
    [
        ({"content": "65 degrees"}, "65 degrees"),
        (
            {"content": [{"type": "text", "text": "65 degrees, "}, {"type": "text", "text": "sunny"}]},
            "65 degrees, sunny",
        ),
        (
            {
                "content": [
                    {"type": "text", "text": "Radar:"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
                ]
            },
            [
                {"type": "text", "text": "Radar:"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
            ],
        ),
        ({"content": "ConnectionError: the weather service is down", "is_error": True}, None),
        ({}, None),
    ],
)
def test_tool_result_forms(atelemetry_content, result, response):
    if response is None:
        response = result.get("content")
    messages = [
        *TOOL_MESSAGES[:1],
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": WEATHER_ID,
                    "name": "get_weather",
                    "input": {"location": "San Francisco, CA"},
                }
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": WEATHER_ID, **result}]},
    ]
    client = make_anthropic_client(Server(), telemetry=atelemetry_content)
    client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, tools=TOOLS[:1], messages=messages)
    span = atelemetry_content.span()
    _, content = split_content(span)
    assert content["gen_ai.input.messages"][2] == {
        "role": "user",
        "parts": [{"type": "tool_call_response", "id": WEATHER_ID, "response": response}],
    }
    assert content["gen_ai.input.messages"][1]["parts"] == [
        {"type": "tool_call", "id": WEATHER_ID, "name": "get_weather", "arguments": {"location": "San Francisco, CA"}}
    ]
    assert content["gen_ai.tool.definitions"] == EXPECTED_TOOLS[:1]


def test_previous_response_sent_back_as_sdk_objects(atelemetry_content):
    """The usual agent loop passes ``message.content`` (SDK models, not dicts) back as the assistant turn."""
    server = Server(TOOL_PAYLOAD)
    client = make_anthropic_client(server, telemetry=atelemetry_content)
    question = {"role": "user", "content": "What's the weather like in San Francisco?"}
    first = client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, tools=TOOLS[:1], messages=[question])
    atelemetry_content.span_exporter.clear()
    server.payload = message_payload([{"type": "text", "text": "It's 65\u00b0F and sunny.", "citations": None}])
    result = {"type": "tool_result", "tool_use_id": WEATHER_ID, "content": "65 degrees, sunny"}
    client.messages.create(
        model=MODEL,
        max_tokens=MAX_TOKENS,
        tools=TOOLS[:1],
        messages=[question, {"role": "assistant", "content": first.content}, {"role": "user", "content": [result]}],
    )
    content = assert_content_span(atelemetry_content, {**request_attrs(), **response_attrs()})
    assert content["gen_ai.input.messages"] == [
        {"role": "user", "parts": [text("What's the weather like in San Francisco?")]},
        {
            "role": "assistant",
            "parts": [
                text("It's 9:41 AM. Now let me check the weather."),
                {
                    "type": "tool_call",
                    "id": WEATHER_ID,
                    "name": "get_weather",
                    "arguments": {"location": "San Francisco, CA", "unit": "fahrenheit"},
                },
            ],
        },
        {"role": "user", "parts": [{"type": "tool_call_response", "id": WEATHER_ID, "response": "65 degrees, sunny"}]},
    ]
    assert content["gen_ai.output.messages"] == output(text("It's 65\u00b0F and sunny."))


SEARCH_ID = "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE"
SEARCH_RESULT = {
    "type": "web_search_result",
    "url": "https://en.wikipedia.org/wiki/Claude_Shannon",
    "title": "Claude Shannon - Wikipedia",
    "encrypted_content": "EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y",
    "page_age": "April 30, 2025",
}
CITATION = {
    "type": "web_search_result_location",
    "url": "https://en.wikipedia.org/wiki/Claude_Shannon",
    "title": "Claude Shannon - Wikipedia",
    "encrypted_index": "Eo8BCioIAhgBIiQyYjQ0OWJmZi1lNm",
    "cited_text": "Claude Elwood Shannon (April 30, 1916 \u2013 February 24, 2001) was an American mathematician",
}


def test_server_tool_blocks_in_output(atelemetry_content):
    payload = message_payload(
        [
            {"type": "text", "text": "I'll search for when Claude Shannon was born.", "citations": None},
            {
                "type": "server_tool_use",
                "id": SEARCH_ID,
                "name": "web_search",
                "input": {"query": "claude shannon birth date"},
            },
            {"type": "web_search_tool_result", "tool_use_id": SEARCH_ID, "content": [SEARCH_RESULT]},
            {"type": "text", "text": "Claude Shannon was born on April 30, 1916.", "citations": [CITATION]},
        ],
        usage_={**usage(6039, 931), "server_tool_use": {"web_search_requests": 1}},
    )
    client = make_anthropic_client(Server(payload), telemetry=atelemetry_content)
    client.messages.create(
        model=MODEL,
        max_tokens=MAX_TOKENS,
        tools=[TOOLS[2]],
        messages=[{"role": "user", "content": "When was Claude Shannon born?"}],
    )
    expected = {**request_attrs(), **response_attrs(input_tokens=6039, output_tokens=931)}
    content = assert_content_span(atelemetry_content, expected)
    assert content["gen_ai.tool.definitions"] == [{"type": "web_search_20250305", "name": "web_search"}]
    assert content["gen_ai.output.messages"] == output(
        text("I'll search for when Claude Shannon was born."),
        {
            "type": "server_tool_call",
            "id": SEARCH_ID,
            "name": "web_search",
            "server_tool_call": {"type": "web_search", "arguments": {"query": "claude shannon birth date"}},
        },
        {
            "type": "server_tool_call_response",
            "id": SEARCH_ID,
            "server_tool_call_response": {"type": "web_search_tool_result", "content": [SEARCH_RESULT]},
        },
        text("Claude Shannon was born on April 30, 1916."),
    )


# -- system prompt and images --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ("You are a seasoned data scientist.", [text("You are a seasoned data scientist.")]),
        (
            LONG_SYSTEM,
            [
                text("You are an AI assistant tasked with analyzing literary works."),
                text("<the entire text of Pride and Prejudice>"),
            ],
        ),
    ],
)
def test_system_instructions(atelemetry_content, system, expected):
    server = Server()
    client = make_anthropic_client(server, telemetry=atelemetry_content)
    client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, system=system, messages=USER)
    assert server.bodies[0]["system"] == system
    content = assert_content_span(atelemetry_content, {**request_attrs(), **response_attrs()})
    assert content == {
        "gen_ai.system_instructions": expected,
        "gen_ai.input.messages": user_input(text("What is the capital of France?")),
        "gen_ai.output.messages": output(text(ANSWER)),
    }


def test_images_and_documents(atelemetry_content):
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
                {"type": "image", "source": {"type": "url", "url": ANT_URL}},
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64}},
                {"type": "text", "text": "Compare the two images, then summarize the document."},
            ],
        }
    ]
    payload = message_payload([{"type": "text", "text": "The first image is a single pixel...", "citations": None}])
    client = make_anthropic_client(Server(payload), telemetry=atelemetry_content)
    client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=messages)
    content = assert_content_span(atelemetry_content, {**request_attrs(), **response_attrs()})
    assert content == {
        "gen_ai.input.messages": user_input(
            {"type": "blob", "modality": "image", "mime_type": "image/png", "content": PNG_B64},
            {"type": "uri", "modality": "image", "uri": ANT_URL},
            {"type": "blob", "modality": "document", "mime_type": "application/pdf", "content": PDF_B64},
            text("Compare the two images, then summarize the document."),
        ),
        "gen_ai.output.messages": output(text("The first image is a single pixel...")),
    }


def test_files_api_and_text_document_sources(atelemetry_content):
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "document", "source": {"type": "file", "file_id": "file_011CNha8iCJcU1wXNR6q4V8w"}},
                {"type": "image", "source": {"type": "file", "file_id": "file_011CPMxVD3fHLUhvTqtsQA5w"}},
                {
                    "type": "document",
                    "source": {
                        "type": "url",
                        "url": "https://assets.anthropic.com/m/1cd9d098ac3e6467/original/Claude-3-Model-Card-October-Addendum.pdf",
                    },
                },
                {
                    "type": "document",
                    "source": {"type": "text", "media_type": "text/plain", "data": "The grass is green."},
                    "title": "Lawn facts",
                    "citations": {"enabled": True},
                },
                {"type": "text", "text": "What do these say?"},
            ],
        }
    ]
    server = Server()
    client = make_anthropic_client(server, telemetry=atelemetry_content)
    client.beta.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=messages, betas=["files-api-2025-04-14"])
    expected = {**request_attrs(extra={"anthropic.beta": ("files-api-2025-04-14",)}), **response_attrs()}
    content = assert_content_span(atelemetry_content, expected)
    assert content["gen_ai.input.messages"] == user_input(
        {"type": "file", "modality": "document", "file_id": "file_011CNha8iCJcU1wXNR6q4V8w"},
        {"type": "file", "modality": "image", "file_id": "file_011CPMxVD3fHLUhvTqtsQA5w"},
        {
            "type": "uri",
            "modality": "document",
            "uri": "https://assets.anthropic.com/m/1cd9d098ac3e6467/original/Claude-3-Model-Card-October-Addendum.pdf",
        },
        text("The grass is green."),
        text("What do these say?"),
    )


# -- count_tokens --------------------------------------------------------------------------------

COUNT_ATTRS = {
    **request_attrs(operation="count_tokens", max_tokens=None),
    "anthropic.message.count_tokens.input_tokens": 2095,
    "anthropic.request.id": REQUEST_ID,
}


def test_count_tokens(atelemetry):
    server = Server()
    client = make_anthropic_client(server, telemetry=atelemetry)
    result = client.messages.count_tokens(
        model=MODEL,
        system="You are a scientist",
        messages=[{"role": "user", "content": "Hello, Claude"}],
        tools=TOOLS[:1],
        thinking={"type": "enabled", "budget_tokens": 2048},
    )
    assert result.input_tokens == 2095
    assert server.paths == ["/v1/messages/count_tokens"]
    span = assert_span(atelemetry, COUNT_ATTRS, name=f"count_tokens {MODEL}")
    assert not [k for k in span.attributes if k.startswith("gen_ai.usage.")]  # counting consumes no tokens
    # a duration point and no token-usage points
    assert_call_metrics(atelemetry, metric_attrs(operation="count_tokens", response_model=None))
    assert "gen_ai.client.token.usage" not in atelemetry.metrics()


def test_count_tokens_content(atelemetry_content):
    client = make_anthropic_client(Server(), telemetry=atelemetry_content)
    client.messages.count_tokens(model=MODEL, system="You are a scientist", messages=USER, tools=TOOLS[:1])
    content = assert_content_span(atelemetry_content, COUNT_ATTRS, name=f"count_tokens {MODEL}")
    assert content == {
        "gen_ai.system_instructions": [text("You are a scientist")],
        "gen_ai.input.messages": user_input(text("What is the capital of France?")),
        "gen_ai.tool.definitions": EXPECTED_TOOLS[:1],
    }


async def test_async_count_tokens(atelemetry):
    client = make_anthropic_client(Server(), telemetry=atelemetry, is_async=True)
    result = await client.messages.count_tokens(model=MODEL, messages=USER)
    assert result.input_tokens == 2095
    assert_span(atelemetry, COUNT_ATTRS, name=f"count_tokens {MODEL}")
    assert_call_metrics(atelemetry, metric_attrs(operation="count_tokens", response_model=None))


# -- beta ----------------------------------------------------------------------------------------

BETAS = ["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"]


def test_beta_create(atelemetry):
    server = Server()
    client = make_anthropic_client(server, telemetry=atelemetry)
    message = client.beta.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER, betas=BETAS)
    assert message.content[0].text == ANSWER
    assert server.paths == ["/v1/messages"]  # 0.x and 1.x add ?beta=true
    assert server.requests[0].headers["anthropic-beta"] == ",".join(BETAS)
    assert_span(atelemetry, {**request_attrs(extra={"anthropic.beta": tuple(BETAS)}), **response_attrs()})
    assert_call_metrics(atelemetry, metric_attrs(), input_tokens=25, output_tokens=12)


def test_beta_header_on_plain_create(atelemetry):
    client = make_anthropic_client(Server(), telemetry=atelemetry)
    client.messages.create(
        model=MODEL,
        max_tokens=MAX_TOKENS,
        messages=USER,
        extra_headers={"anthropic-beta": "context-1m-2025-08-07, token-efficient-tools-2025-02-19"},
    )
    beta = ("context-1m-2025-08-07", "token-efficient-tools-2025-02-19")
    assert_span(atelemetry, {**request_attrs(extra={"anthropic.beta": beta}), **response_attrs()})


def test_beta_count_tokens(atelemetry):
    server = Server()
    client = make_anthropic_client(server, telemetry=atelemetry)
    result = client.beta.messages.count_tokens(model=MODEL, messages=USER, betas=["context-1m-2025-08-07"])
    assert result.input_tokens == 2095
    assert server.paths == ["/v1/messages/count_tokens"]
    # the SDK adds the token-counting beta of its own; the attribute is the header as sent
    sent = server.requests[0].headers["anthropic-beta"]
    assert sent == "context-1m-2025-08-07,token-counting-2024-11-01"
    expected = {**COUNT_ATTRS, "anthropic.beta": ("context-1m-2025-08-07", "token-counting-2024-11-01")}
    assert_span(atelemetry, expected, name=f"count_tokens {MODEL}")
    assert_call_metrics(atelemetry, metric_attrs(operation="count_tokens", response_model=None))


def test_beta_output_format(atelemetry):
    """The beta spelling of structured outputs; not a beta create() argument of every SDK line."""
    fmt = {"type": "json_schema", "schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
    server = Server(message_payload([{"type": "text", "text": '{"city":"Paris"}', "citations": None}]))
    client = make_anthropic_client(server, telemetry=atelemetry)
    client.beta.messages.create(
        model=MODEL,
        max_tokens=MAX_TOKENS,
        messages=USER,
        betas=["structured-outputs-2025-11-13"],
        extra_body={"output_format": fmt},
    )
    assert server.bodies[0]["output_format"] == fmt
    extra = {"anthropic.beta": ("structured-outputs-2025-11-13",), "gen_ai.output.type": "json"}
    assert_span(atelemetry, {**request_attrs(extra=extra), **response_attrs()})


@pytest.mark.parametrize("how", ["constructor", "with_options"])
def test_beta_from_client_default_headers(atelemetry, how):
    """A beta the client sends on every call is a beta of this call, as the SDK's own span records it."""
    beta = "context-1m-2025-08-07"
    server = Server()
    if how == "constructor":
        client = make_anthropic_client(server, telemetry=atelemetry, default_headers={"anthropic-beta": beta})
    else:
        client = make_anthropic_client(server, telemetry=atelemetry).with_options(
            default_headers={"anthropic-beta": beta}
        )
    client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER)
    assert server.requests[0].headers["anthropic-beta"] == beta
    assert_span(atelemetry, {**request_attrs(extra={"anthropic.beta": (beta,)}), **response_attrs()})


def test_beta_on_bedrock(atelemetry):
    """Bedrock moves the betas from the header into the body (``anthropic_beta``) after our hook read them."""
    server = Server(message_payload(model=PLATFORM_RESPONSE_MODEL))
    client = make_anthropic_client(server, telemetry=atelemetry, platform="bedrock")
    client.beta.messages.create(model=BEDROCK_MODEL, max_tokens=MAX_TOKENS, messages=USER, betas=BETAS[1:])
    assert server.bodies[0]["anthropic_beta"] == BETAS[1:]
    expected = {
        **request_attrs(
            BEDROCK_MODEL, provider="aws.bedrock", host=BEDROCK_HOST, extra={"anthropic.beta": (BETAS[1],)}
        ),
        **response_attrs(response_model=PLATFORM_RESPONSE_MODEL),
    }
    assert_span(atelemetry, expected, name=f"chat {BEDROCK_MODEL}")


async def test_async_beta_create(atelemetry):
    server = Server()
    client = make_anthropic_client(server, telemetry=atelemetry, is_async=True)
    await client.beta.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER, betas=BETAS[:1])
    expected = {**request_attrs(extra={"anthropic.beta": (BETAS[0],)}), **response_attrs()}
    assert_span(atelemetry, expected)


# -- raw and streaming responses -----------------------------------------------------------------


def test_with_raw_response(atelemetry):
    client = make_anthropic_client(Server(), telemetry=atelemetry)
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER)
    assert raw.headers["request-id"] == REQUEST_ID
    # 0.x reads the body at once; later lines read it at parse(), which ends the span
    assert len(atelemetry.spans()) == (1 if LEGACY_RAW_RESPONSE else 0)
    message = raw.parse()
    assert message.content[0].text == ANSWER
    assert message.id == MESSAGE_ID
    assert raw.parse() is message  # parsed once, cached by the SDK
    assert_span(atelemetry, {**request_attrs(), **response_attrs()})
    assert_call_metrics(atelemetry, metric_attrs(), input_tokens=25, output_tokens=12)


def test_with_raw_response_dropped_unparsed(atelemetry):
    """A raw response nobody parses still ends its span (0.x has parsed it already)."""
    client = make_anthropic_client(Server(), telemetry=atelemetry)
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER)
    del raw
    gc.collect()
    if LEGACY_RAW_RESPONSE:
        assert_span(atelemetry, {**request_attrs(), **response_attrs()})
        assert_call_metrics(atelemetry, metric_attrs(), input_tokens=25, output_tokens=12)
    else:
        assert_span(atelemetry, request_attrs())
        assert_call_metrics(atelemetry, metric_attrs(response_model=None))


def test_with_raw_response_content(atelemetry_content):
    client = make_anthropic_client(Server(TOOL_PAYLOAD), telemetry=atelemetry_content)
    raw = client.messages.with_raw_response.create(
        model=MODEL, max_tokens=MAX_TOKENS, tools=TOOLS, messages=TOOL_MESSAGES
    )
    raw.parse()
    content = assert_content_span(atelemetry_content, TOOL_ATTRS)
    assert content["gen_ai.output.messages"][0]["finish_reason"] == "tool_call"
    assert content["gen_ai.tool.definitions"] == EXPECTED_TOOLS


def test_with_raw_response_count_tokens(atelemetry):
    client = make_anthropic_client(Server(), telemetry=atelemetry)
    raw = client.messages.with_raw_response.count_tokens(model=MODEL, messages=USER)
    assert raw.parse().input_tokens == 2095
    assert_span(atelemetry, COUNT_ATTRS, name=f"count_tokens {MODEL}")


def test_with_streaming_response(atelemetry):
    client = make_anthropic_client(Server(), telemetry=atelemetry)
    with client.messages.with_streaming_response.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER) as response:
        assert response.headers["request-id"] == REQUEST_ID
        assert atelemetry.spans() == []  # the body is not read yet
        message = response.parse()
        assert message.content[0].text == ANSWER
        assert len(atelemetry.spans()) == 1
    assert_span(atelemetry, {**request_attrs(), **response_attrs()})
    assert_call_metrics(atelemetry, metric_attrs(), input_tokens=25, output_tokens=12)


def test_with_streaming_response_closed_unparsed(atelemetry):
    """Leaving the block without reading the body ends the span with what the request said."""
    client = make_anthropic_client(Server(), telemetry=atelemetry)
    with client.messages.with_streaming_response.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER) as response:
        assert response.http_response.status_code == 200
    assert_span(atelemetry, request_attrs())
    assert_call_metrics(atelemetry, metric_attrs(response_model=None))


async def test_async_with_raw_response(atelemetry):
    client = make_anthropic_client(Server(), telemetry=atelemetry, is_async=True)
    raw = await client.messages.with_raw_response.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER)
    assert len(atelemetry.spans()) == (1 if LEGACY_RAW_RESPONSE else 0)
    parsed = raw.parse()  # a coroutine on 1.x and later, the message on 0.x
    message = parsed if LEGACY_RAW_RESPONSE else await parsed
    assert message.content[0].text == ANSWER
    assert_span(atelemetry, {**request_attrs(), **response_attrs()})
    assert_call_metrics(atelemetry, metric_attrs(), input_tokens=25, output_tokens=12)


async def test_async_with_streaming_response(atelemetry):
    client = make_anthropic_client(Server(), telemetry=atelemetry, is_async=True)
    async with client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=USER
    ) as response:
        assert atelemetry.spans() == []
        message = await response.parse()
        assert message.content[0].text == ANSWER
    assert_span(atelemetry, {**request_attrs(), **response_attrs()})
    assert_call_metrics(atelemetry, metric_attrs(), input_tokens=25, output_tokens=12)


# -- async client --------------------------------------------------------------------------------


async def test_async_create(atelemetry):
    server = Server()
    client = make_anthropic_client(server, telemetry=atelemetry, is_async=True)
    message = await client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER)
    assert message.content[0].text == ANSWER
    span = assert_span(atelemetry, {**request_attrs(), **response_attrs()})
    assert server.active_spans == [span.context]
    assert not trace.get_current_span().get_span_context().is_valid
    assert_call_metrics(atelemetry, metric_attrs(), input_tokens=25, output_tokens=12)


async def test_async_tool_use_content(atelemetry_content):
    client = make_anthropic_client(Server(TOOL_PAYLOAD), telemetry=atelemetry_content, is_async=True)
    await client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, tools=TOOLS, messages=TOOL_MESSAGES)
    content = assert_content_span(atelemetry_content, TOOL_ATTRS)
    assert content["gen_ai.output.messages"] == output(
        text("It's 9:41 AM. Now let me check the weather."),
        {
            "type": "tool_call",
            "id": WEATHER_ID,
            "name": "get_weather",
            "arguments": {"location": "San Francisco, CA", "unit": "fahrenheit"},
        },
        finish_reason="tool_call",
    )
    assert content["gen_ai.tool.definitions"] == EXPECTED_TOOLS


async def test_async_concurrent_calls_each_get_one_span(atelemetry):
    client = make_anthropic_client(Server(), telemetry=atelemetry, is_async=True)
    await asyncio.gather(*(client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER) for _ in range(3)))
    spans = atelemetry.spans()
    assert len(spans) == 3
    assert len({s.context.trace_id for s in spans}) == 3  # independent calls, independent traces
    for span in spans:
        assert dict(span.attributes) == {**request_attrs(), **response_attrs()}


# -- platforms -----------------------------------------------------------------------------------


def platform_attrs(provider: str, host: str, model: str) -> dict[str, Any]:
    return {
        **request_attrs(model, provider=provider, host=host),
        **response_attrs(response_model=PLATFORM_RESPONSE_MODEL),
    }


@pytest.mark.parametrize("is_async", [False, True])
async def test_bedrock(atelemetry, is_async):
    server = Server(message_payload(model=PLATFORM_RESPONSE_MODEL))
    client = make_anthropic_client(server, telemetry=atelemetry, platform="bedrock", is_async=is_async)
    result = client.messages.create(model=BEDROCK_MODEL, max_tokens=MAX_TOKENS, messages=USER)
    message = await result if is_async else result
    assert message.model == PLATFORM_RESPONSE_MODEL
    # Bedrock takes the model out of the body and into the URL, after our hook read it
    assert server.paths == [f"/model/{BEDROCK_MODEL}/invoke"]
    assert server.requests[0].url.host == BEDROCK_HOST
    assert "model" not in server.bodies[0]
    assert server.bodies[0]["messages"] == USER
    assert_span(atelemetry, platform_attrs("aws.bedrock", BEDROCK_HOST, BEDROCK_MODEL), name=f"chat {BEDROCK_MODEL}")
    metrics = metric_attrs(
        BEDROCK_MODEL, provider="aws.bedrock", host=BEDROCK_HOST, response_model=PLATFORM_RESPONSE_MODEL
    )
    assert_call_metrics(atelemetry, metrics, input_tokens=25, output_tokens=12)


def test_bedrock_content(atelemetry_content):
    payload = message_payload(model=PLATFORM_RESPONSE_MODEL)
    client = make_anthropic_client(Server(payload), telemetry=atelemetry_content, platform="bedrock")
    client.messages.create(model=BEDROCK_MODEL, max_tokens=MAX_TOKENS, system="Be brief.", messages=USER)
    expected = platform_attrs("aws.bedrock", BEDROCK_HOST, BEDROCK_MODEL)
    content = assert_content_span(atelemetry_content, expected, name=f"chat {BEDROCK_MODEL}")
    assert content == {
        "gen_ai.system_instructions": [text("Be brief.")],
        "gen_ai.input.messages": user_input(text("What is the capital of France?")),
        "gen_ai.output.messages": output(text("Paris.")),
    }


def test_bedrock_count_tokens_is_refused_by_the_sdk(atelemetry):
    """The SDK refuses token counting on Bedrock before sending anything: one failed span, no request."""
    server = Server()
    client = make_anthropic_client(server, telemetry=atelemetry, platform="bedrock")
    with pytest.raises(anthropic.AnthropicError) as raised:
        client.messages.count_tokens(model=BEDROCK_MODEL, messages=USER)
    assert server.requests == []
    span = atelemetry.span()
    assert span.name == f"count_tokens {BEDROCK_MODEL}"
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes) == {
        **request_attrs(
            BEDROCK_MODEL, operation="count_tokens", provider="aws.bedrock", host=BEDROCK_HOST, max_tokens=None
        ),
        "error.type": type(raised.value).__qualname__,
    }
    assert [e.name for e in span.events] == ["exception"]
    metrics = metric_attrs(
        BEDROCK_MODEL, operation="count_tokens", provider="aws.bedrock", host=BEDROCK_HOST, response_model=None
    )
    assert_call_metrics(atelemetry, {**metrics, "error.type": type(raised.value).__qualname__})


@pytest.mark.parametrize("is_async", [False, True])
async def test_vertex(atelemetry, is_async):
    server = Server(message_payload(model=PLATFORM_RESPONSE_MODEL))
    client = make_anthropic_client(server, telemetry=atelemetry, platform="vertex", is_async=is_async)
    result = client.messages.create(model=VERTEX_MODEL, max_tokens=MAX_TOKENS, messages=USER)
    message = await result if is_async else result
    assert message.model == PLATFORM_RESPONSE_MODEL
    assert server.paths == [f"{VERTEX_PREFIX}{VERTEX_MODEL}:rawPredict"]
    assert server.requests[0].url.host == VERTEX_HOST
    assert "model" not in server.bodies[0]
    assert_span(atelemetry, platform_attrs("gcp.vertex_ai", VERTEX_HOST, VERTEX_MODEL), name=f"chat {VERTEX_MODEL}")
    metrics = metric_attrs(
        VERTEX_MODEL, provider="gcp.vertex_ai", host=VERTEX_HOST, response_model=PLATFORM_RESPONSE_MODEL
    )
    assert_call_metrics(atelemetry, metrics, input_tokens=25, output_tokens=12)


def test_vertex_count_tokens(atelemetry):
    server = Server(count=17)
    client = make_anthropic_client(server, telemetry=atelemetry, platform="vertex")
    assert client.messages.count_tokens(model=VERTEX_MODEL, messages=USER).input_tokens == 17
    assert server.paths == [VERTEX_PREFIX + "count-tokens:rawPredict"]
    expected = {
        **request_attrs(
            VERTEX_MODEL, operation="count_tokens", provider="gcp.vertex_ai", host=VERTEX_HOST, max_tokens=None
        ),
        "anthropic.message.count_tokens.input_tokens": 17,
        "anthropic.request.id": REQUEST_ID,
    }
    assert_span(atelemetry, expected, name=f"count_tokens {VERTEX_MODEL}")
    metrics = metric_attrs(
        VERTEX_MODEL, operation="count_tokens", provider="gcp.vertex_ai", host=VERTEX_HOST, response_model=None
    )
    assert_call_metrics(atelemetry, metrics)


# -- the SDK's own spans -------------------------------------------------------------------------


@pytest.mark.skipif(not NATIVE_TRACING, reason="anthropic < 1.14 has no tracing of its own")
def test_uninstrumented_sdk_spans_reach_the_test_exporter():
    """Without otel-llm the SDK's own span lands in the exporter: the span counts above are meaningful."""
    t = Telemetry()
    client = make_anthropic_client(Server(), telemetry=t)
    client.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=USER)
    client.messages.count_tokens(model=MODEL, messages=USER)
    assert [s.name for s in t.spans()] == ["anthropic.messages.create", "anthropic.messages.count_tokens"]
    assert SCOPE not in {s.instrumentation_scope.name for s in t.spans()}
