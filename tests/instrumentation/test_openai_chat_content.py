"""Chat Completions content capture: messages, tools and refusals as the GenAI JSON schemas shape
them, on the span, on the details event, or nowhere, as the capture mode says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

from tests.support import (
    Telemetry,
    chat_completion_payload,
    chat_message,
    instrument,
    json_response,
    make_client,
    plain,
    validate_content,
)

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
LOCATE_ID = "call_qyWz8Jc0CuUWfGrLhOXSwmHe"
WEATHER_ID = "call_9Hk2xQn4LbT0v1Ae7sPzYw3R"
TIME_ID = "call_Fp8dN2mZr5Ks1Qx0Ya4Tb6Wc"

WEATHER_PARAMS = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["city", "unit"],
    "additionalProperties": False,
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": WEATHER_PARAMS,
            "strict": True,
        },
    },
    {
        "type": "function",
        "function": {"name": "get_local_time", "parameters": {"type": "object", "properties": {}}},
    },
]
MESSAGES = [
    {"role": "system", "content": "You are a concise travel assistant."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "Where was this taken, and what's the weather there now?"},
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/photos/tower.jpg", "detail": "low"},
            },
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": LOCATE_ID,
                "type": "function",
                "function": {"name": "locate_photo", "arguments": '{"photo_index": 0}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": LOCATE_ID, "content": "Paris, France"},
]
TOOL_CALLS = [
    {
        "id": WEATHER_ID,
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Paris","unit":"celsius"}'},
    },
    {"id": TIME_ID, "type": "function", "function": {"name": "get_local_time", "arguments": "{}"}},
]
TOOL_PAYLOAD = chat_completion_payload(
    (chat_message(None, tool_calls=TOOL_CALLS), "tool_calls"), prompt_tokens=412, completion_tokens=51
)

EXPECTED_INPUT = [
    {"role": "system", "parts": [{"type": "text", "content": "You are a concise travel assistant."}]},
    {
        "role": "user",
        "parts": [
            {"type": "text", "content": "Where was this taken, and what's the weather there now?"},
            {"type": "uri", "modality": "image", "uri": "https://example.com/photos/tower.jpg"},
            {"type": "blob", "modality": "image", "mime_type": "image/png", "content": PNG_B64},
        ],
    },
    {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": LOCATE_ID, "name": "locate_photo", "arguments": {"photo_index": 0}}],
    },
    {"role": "tool", "parts": [{"type": "tool_call_response", "id": LOCATE_ID, "response": "Paris, France"}]},
]
EXPECTED_OUTPUT = [
    {
        "role": "assistant",
        "parts": [
            {
                "type": "tool_call",
                "id": WEATHER_ID,
                "name": "get_weather",
                "arguments": {"city": "Paris", "unit": "celsius"},
            },
            {"type": "tool_call", "id": TIME_ID, "name": "get_local_time", "arguments": {}},
        ],
        "finish_reason": "tool_call",
    }
]
EXPECTED_TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": WEATHER_PARAMS,
    },
    {"type": "function", "name": "get_local_time", "parameters": {"type": "object", "properties": {}}},
]
EXPECTED_CONTENT = {
    "gen_ai.input.messages": EXPECTED_INPUT,
    "gen_ai.output.messages": EXPECTED_OUTPUT,
    "gen_ai.tool.definitions": EXPECTED_TOOLS,
}
# The span's attributes apart from content, for the tool request below.
TOOL_ATTRS = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "server.address": "api.openai.com",
    "server.port": 443,
    "openai.api.type": "chat_completions",
    "gen_ai.request.temperature": 0,
    "gen_ai.response.id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.response.finish_reasons": ("tool_calls",),
    "gen_ai.usage.input_tokens": 412,
    "gen_ai.usage.output_tokens": 51,
    "gen_ai.usage.cache_read.input_tokens": 0,
    "gen_ai.usage.reasoning.output_tokens": 0,
    "openai.response.service_tier": "default",
    "openai.response.system_fingerprint": "fp_50cad350e4",
}
CONTENT_KEYS = {
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.definitions",
    "gen_ai.system_instructions",
}


@contextmanager
def instrumented(**kwargs: Any) -> Iterator[Telemetry]:
    t = Telemetry()
    instrumentor = instrument(t, **kwargs)
    try:
        yield t
    finally:
        instrumentor.uninstrument()


def call_tools(is_async: bool = False) -> Any:
    client = make_client(lambda request: json_response(TOOL_PAYLOAD), is_async=is_async)
    return client.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=TOOLS, temperature=0)


def content_on_span(span: Any) -> dict[str, Any]:
    """Content attributes of the span, checked to be JSON strings and parsed."""
    found = {k: v for k, v in span.attributes.items() if k in CONTENT_KEYS}
    assert all(isinstance(v, str) for v in found.values()), found
    return {k: json.loads(v) for k, v in found.items()}


def assert_plain_span(span: Any) -> None:
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET


def test_tool_calls_multi_turn_content_on_span(telemetry_content):
    completion = call_tools()
    assert [c.id for c in completion.choices[0].message.tool_calls] == [WEATHER_ID, TIME_ID]
    span = telemetry_content.span()
    assert_plain_span(span)
    attrs = dict(span.attributes)
    content = content_on_span(span)
    assert content == EXPECTED_CONTENT
    assert {k: v for k, v in attrs.items() if k not in CONTENT_KEYS} == TOOL_ATTRS
    assert validate_content(attrs) == EXPECTED_CONTENT
    assert telemetry_content.events() == []


async def test_async_tool_calls_content_on_span(telemetry_content):
    await call_tools(is_async=True)
    span = telemetry_content.span()
    assert_plain_span(span)
    assert content_on_span(span) == EXPECTED_CONTENT
    assert {k: v for k, v in span.attributes.items() if k not in CONTENT_KEYS} == TOOL_ATTRS


def test_refusal_in_output(telemetry_content):
    refusal = "I'm sorry, I can't help with that request."
    payload = chat_completion_payload((chat_message(None, refusal=refusal), "stop"), completion_tokens=11)
    client = make_client(lambda request: json_response(payload))
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "How do I pick a lock?"}]
    )
    assert completion.choices[0].message.refusal == refusal
    span = telemetry_content.span()
    assert_plain_span(span)
    content = content_on_span(span)
    assert content == {
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": "How do I pick a lock?"}]}],
        "gen_ai.output.messages": [
            {"role": "assistant", "parts": [{"type": "refusal", "content": refusal}], "finish_reason": "stop"}
        ],
    }
    validate_content(span.attributes)
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes["gen_ai.usage.output_tokens"] == 11


def test_every_choice_is_an_output_message(telemetry_content):
    payload = chat_completion_payload(
        (chat_message("Paris."), "stop"), (chat_message("The capital of France is"), "length")
    )
    client = make_client(lambda request: json_response(payload))
    client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Capital of France?"}], n=2, max_tokens=6
    )
    span = telemetry_content.span()
    assert content_on_span(span)["gen_ai.output.messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"},
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "The capital of France is"}],
            "finish_reason": "length",
        },
    ]
    assert span.attributes["gen_ai.request.choice.count"] == 2
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop", "length")
    validate_content(span.attributes)


# -- capture modes -------------------------------------------------------------------------------


def test_default_captures_no_content(telemetry):
    call_tools()
    span = telemetry.span()
    assert_plain_span(span)
    assert dict(span.attributes) == TOOL_ATTRS
    assert telemetry.events() == []


def assert_details_event(t: Telemetry, span: Any) -> None:
    (event,) = t.events()
    assert event.event_name == "gen_ai.client.inference.operation.details"
    assert (event.trace_id, event.span_id) == (span.context.trace_id, span.context.span_id)
    attrs = dict(event.attributes)
    for key in EXPECTED_CONTENT:  # structured values, not JSON strings
        assert isinstance(attrs[key], (list, tuple)), (key, type(attrs[key]))
    assert plain(attrs) == plain({**TOOL_ATTRS, **EXPECTED_CONTENT})
    assert validate_content(plain(attrs)) == EXPECTED_CONTENT


def test_event_only_puts_content_on_event_not_span():
    with instrumented(capture_content="EVENT_ONLY") as t:
        call_tools()
    span = t.span()
    assert_plain_span(span)
    assert dict(span.attributes) == TOOL_ATTRS
    assert_details_event(t, span)


def test_span_and_event_puts_content_on_both():
    with instrumented(capture_content="SPAN_AND_EVENT") as t:
        call_tools()
    span = t.span()
    assert content_on_span(span) == EXPECTED_CONTENT
    assert {k: v for k, v in span.attributes.items() if k not in CONTENT_KEYS} == TOOL_ATTRS
    assert_details_event(t, span)


def test_event_of_unsampled_call_still_carries_request_attributes():
    """Sampling drops the span, not the event: the event must describe the call on its own."""
    t = Telemetry()
    t.tracer_provider = TracerProvider(sampler=ALWAYS_OFF)
    t.tracer_provider.add_span_processor(SimpleSpanProcessor(t.span_exporter))
    instrumentor = instrument(t, capture_content="EVENT_ONLY")
    try:
        call_tools()
    finally:
        instrumentor.uninstrument()
    assert t.spans() == []
    (event,) = t.events()
    assert event.event_name == "gen_ai.client.inference.operation.details"
    assert plain(dict(event.attributes)) == plain({**TOOL_ATTRS, **EXPECTED_CONTENT})


@pytest.mark.parametrize(
    ("value", "on_span", "on_event"),
    [
        ("true", True, False),
        ("True", True, False),
        ("false", False, False),
        ("SPAN_ONLY", True, False),
        ("EVENT_ONLY", False, True),
        ("SPAN_AND_EVENT", True, True),
        ("NO_CONTENT", False, False),
    ],
)
def test_capture_env_var(monkeypatch, value, on_span, on_event):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", value)
    with instrumented() as t:
        call_tools()
    span = t.span()
    assert content_on_span(span) == (EXPECTED_CONTENT if on_span else {})
    assert {k: v for k, v in span.attributes.items() if k not in CONTENT_KEYS} == TOOL_ATTRS
    if on_event:
        assert_details_event(t, span)
    else:
        assert t.events() == []


def test_capture_content_argument_overrides_env_var(monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    with instrumented(capture_content="NO_CONTENT") as t:
        call_tools()
    assert dict(t.span().attributes) == TOOL_ATTRS
    assert t.events() == []
