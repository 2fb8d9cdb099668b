"""Responses API (``responses.create``, streaming, the ``stream()`` helper, raw responses).

Payloads are complete bodies and event sequences as api.openai.com sends them; every test
checks the span's name, kind, status and exact attributes, and the metric points.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from tests.support import (
    assert_call_metrics,
    json_response,
    make_client,
    sse,
    sse_response,
    validate_content,
)

RESP_ID = "resp_68af3c9d6f2c8193b0a6d6a0c7e1f2a40f1c1b9c8e7d6a5b"
MSG_ID = "msg_68af3c9e1e588193a9f1c1d4b3e2a7f60f1c1b9c8e7d6a5b"
STORY = (
    "Under a silver moon, a gentle unicorn named Luna tiptoed through the sleeping meadow. "
    "Wherever her hooves touched the grass, tiny flowers glowed like stars. "
    "By morning, the whole meadow sparkled, and Luna curled up for a well-earned nap."
)
PROMPT = "Tell me a three sentence bedtime story about a unicorn."

OPENAI = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "server.address": "api.openai.com",
    "server.port": 443,
}


def request_attrs(model: str = "gpt-4.1", **extra: Any) -> dict[str, Any]:
    return {**OPENAI, "gen_ai.request.model": model, "openai.api.type": "responses", **extra}


def metric_attrs(model: str = "gpt-4.1", response_model: str | None = "gpt-4.1-2025-04-14", **extra: Any) -> dict:
    attrs = {**OPENAI, "gen_ai.request.model": model, **extra}
    if response_model is not None:
        attrs["gen_ai.response.model"] = response_model
    return attrs


def message_item(text: str = STORY, status: str = "completed") -> dict[str, Any]:
    return {
        "id": MSG_ID,
        "type": "message",
        "status": status,
        "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}],
        "role": "assistant",
    }


def response_body(**overrides: Any) -> dict[str, Any]:
    """A complete ``Response`` object as ``POST /v1/responses`` returns it."""
    body: dict[str, Any] = {
        "id": RESP_ID,
        "object": "response",
        "created_at": 1756314781,
        "status": "completed",
        "background": False,
        "billing": {"payer": "developer"},
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": "gpt-4.1-2025-04-14",
        "output": [message_item()],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": 2006,
            "input_tokens_details": {"cached_tokens": 1920},
            "output_tokens": 87,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 2093,
        },
        "user": None,
        "metadata": {},
    }
    body.update(overrides)
    return body


class Recorder:
    """A handler that answers with fixed responses and keeps the JSON bodies it was sent."""

    def __init__(self, *responses: Any) -> None:
        self.responses = list(responses)
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> Any:
        self.bodies.append(json.loads(request.content))
        payload = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        return payload() if callable(payload) else payload


def plain(body: dict[str, Any] | None = None) -> Recorder:
    payload = body or response_body()
    return Recorder(lambda: json_response(payload, headers={"x-request-id": "req_7f0e8b3c2d1a"}))


def check_span(telemetry: Any, name: str, status: StatusCode = StatusCode.UNSET) -> Any:
    span = telemetry.span()
    assert span.name == name
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is status
    return span


PLAIN_RESPONSE_ATTRS = {
    "gen_ai.response.id": RESP_ID,
    "gen_ai.response.model": "gpt-4.1-2025-04-14",
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.usage.input_tokens": 2006,
    "gen_ai.usage.output_tokens": 87,
    "gen_ai.usage.cache_read.input_tokens": 1920,
    "gen_ai.usage.reasoning.output_tokens": 0,
    "openai.response.service_tier": "default",
}


# -- plain create ----------------------------------------------------------------------------


def test_create_plain(telemetry):
    handler = plain()
    client = make_client(handler)

    result = client.responses.create(model="gpt-4.1", input=PROMPT)

    assert result.output_text == STORY
    assert handler.bodies == [{"model": "gpt-4.1", "input": PROMPT}]
    span = check_span(telemetry, "chat gpt-4.1")
    assert dict(span.attributes) == {**request_attrs(), **PLAIN_RESPONSE_ATTRS}
    assert span.events == ()
    assert_call_metrics(telemetry, metric_attrs(), input_tokens=2006, output_tokens=87)


def test_create_plain_captures_content(telemetry_content):
    client = make_client(plain())

    client.responses.create(model="gpt-4.1", input=PROMPT)

    span = check_span(telemetry_content, "chat gpt-4.1")
    attrs = dict(span.attributes)
    content = validate_content(attrs)
    assert content == {
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}],
        "gen_ai.output.messages": [
            {"role": "assistant", "parts": [{"type": "text", "content": STORY}], "finish_reason": "stop"}
        ],
    }
    for key in content:
        del attrs[key]
    assert attrs == {**request_attrs(), **PLAIN_RESPONSE_ATTRS}
    assert_call_metrics(telemetry_content, metric_attrs(), input_tokens=2006, output_tokens=87)


def test_create_request_parameters(telemetry):
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "story": {"type": "string"}},
        "required": ["title", "story"],
        "additionalProperties": False,
    }
    body = response_body(
        service_tier="flex",
        temperature=0.2,
        top_p=0.9,
        max_output_tokens=512,
        text={"format": {"type": "json_schema", "name": "story", "schema": schema, "strict": True}},
        output=[message_item('{"title":"Luna","story":"Under a silver moon..."}')],
    )
    client = make_client(plain(body))

    client.responses.create(
        model="gpt-4.1",
        input=PROMPT,
        temperature=0.2,
        top_p=0.9,
        max_output_tokens=512,
        service_tier="flex",
        text={"format": {"type": "json_schema", "name": "story", "schema": schema, "strict": True}},
    )

    span = check_span(telemetry, "chat gpt-4.1")
    assert dict(span.attributes) == {
        **request_attrs(),
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 512,
        "gen_ai.output.type": "json",
        "openai.request.service_tier": "flex",
        **PLAIN_RESPONSE_ATTRS,
        "openai.response.service_tier": "flex",
    }


def test_create_service_tier_auto_is_not_recorded(telemetry):
    client = make_client(plain())

    client.responses.create(model="gpt-4.1", input=PROMPT, service_tier="auto")

    span = check_span(telemetry, "chat gpt-4.1")
    assert dict(span.attributes) == {**request_attrs(), **PLAIN_RESPONSE_ATTRS}


# -- reasoning models, tools, function calls ----------------------------------------------------

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a location.",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City and country, e.g. Paris, France"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
INSTRUCTIONS = "You are a concise weather assistant. Always use the get_weather tool for current conditions."
QUESTION = "What's the weather like in Paris today?"
REASONING_SUMMARY = (
    "**Checking the weather in Paris**\n\nThe user wants current conditions in Paris, so I should "
    "call get_weather with the location Paris, France in celsius."
)
REASONING_ITEM = {
    "id": "rs_68af3d2a7b4c8193a1b2c3d4e5f60718",
    "type": "reasoning",
    "summary": [{"type": "summary_text", "text": REASONING_SUMMARY}],
}
CALL_ID = "call_Xk3nW2pLq9RtZ8vB1mYc4HsA"
CALL_ARGS = '{"location":"Paris, France","unit":"celsius"}'
FUNCTION_CALL_ITEM = {
    "id": "fc_68af3d2c1a2b8193b4c5d6e7f8091a2b",
    "type": "function_call",
    "status": "completed",
    "arguments": CALL_ARGS,
    "call_id": CALL_ID,
    "name": "get_weather",
}
TOOL_RESULT = '{"temperature": 18, "unit": "celsius", "conditions": "partly cloudy"}'
WEATHER_ANSWER = "It's currently 18 °C and partly cloudy in Paris."


def o4_body(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "resp_68af3d28e5a08193a2f4c6e8b0d1f3a5",
        "model": "o4-mini-2025-04-16",
        "instructions": INSTRUCTIONS,
        "reasoning": {"effort": "medium", "summary": "detailed"},
        "tools": [{**WEATHER_TOOL}],
    }
    return response_body(**{**fields, **overrides})


O4_REQUEST = {
    **request_attrs("o4-mini"),
    "gen_ai.request.max_tokens": 2048,
}
TOOL_DEFINITIONS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Get the current weather for a location.",
        "parameters": WEATHER_TOOL["parameters"],
    }
]


def test_reasoning_and_function_call(telemetry_content):
    body = o4_body(
        output=[REASONING_ITEM, FUNCTION_CALL_ITEM],
        usage={
            "input_tokens": 88,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 213,
            "output_tokens_details": {"reasoning_tokens": 192},
            "total_tokens": 301,
        },
    )
    client = make_client(plain(body))

    result = client.responses.create(
        model="o4-mini",
        instructions=INSTRUCTIONS,
        input=[{"role": "user", "content": QUESTION}],
        tools=[WEATHER_TOOL],
        reasoning={"effort": "medium", "summary": "detailed"},
        max_output_tokens=2048,
    )

    assert [item.type for item in result.output] == ["reasoning", "function_call"]
    span = check_span(telemetry_content, "chat o4-mini")
    attrs = dict(span.attributes)
    content = validate_content(attrs)
    assert content == {
        "gen_ai.system_instructions": [{"type": "text", "content": INSTRUCTIONS}],
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": QUESTION}]}],
        "gen_ai.output.messages": [
            {
                "role": "assistant",
                "parts": [
                    {"type": "reasoning", "content": REASONING_SUMMARY},
                    {
                        "type": "tool_call",
                        "id": CALL_ID,
                        "name": "get_weather",
                        "arguments": {"location": "Paris, France", "unit": "celsius"},
                    },
                ],
                "finish_reason": "tool_call",
            }
        ],
        "gen_ai.tool.definitions": TOOL_DEFINITIONS,
    }
    for key in content:
        del attrs[key]
    assert attrs == {
        **O4_REQUEST,
        "gen_ai.response.id": "resp_68af3d28e5a08193a2f4c6e8b0d1f3a5",
        "gen_ai.response.model": "o4-mini-2025-04-16",
        "gen_ai.response.finish_reasons": ("tool_call",),
        "gen_ai.usage.input_tokens": 88,
        "gen_ai.usage.output_tokens": 213,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.reasoning.output_tokens": 192,
        "openai.response.service_tier": "default",
    }
    assert_call_metrics(
        telemetry_content, metric_attrs("o4-mini", "o4-mini-2025-04-16"), input_tokens=88, output_tokens=213
    )


def test_function_call_output_turn(telemetry_content):
    """The follow-up turn: the input replays reasoning and the call and adds its output."""
    body = o4_body(
        id="resp_68af3d3f0c1d8193a7b8c9d0e1f2a3b4",
        output=[message_item(WEATHER_ANSWER)],
        usage={
            "input_tokens": 321,
            "input_tokens_details": {"cached_tokens": 256},
            "output_tokens": 19,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 340,
        },
    )
    handler = plain(body)
    client = make_client(handler)

    client.responses.create(
        model="o4-mini",
        instructions=INSTRUCTIONS,
        input=[
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": QUESTION}]},
            REASONING_ITEM,
            FUNCTION_CALL_ITEM,
            {"type": "function_call_output", "call_id": CALL_ID, "output": TOOL_RESULT},
        ],
        tools=[WEATHER_TOOL],
        max_output_tokens=2048,
    )

    assert handler.bodies[0]["input"][3] == {"type": "function_call_output", "call_id": CALL_ID, "output": TOOL_RESULT}
    span = check_span(telemetry_content, "chat o4-mini")
    attrs = dict(span.attributes)
    content = validate_content(attrs)
    assert content == {
        "gen_ai.system_instructions": [{"type": "text", "content": INSTRUCTIONS}],
        "gen_ai.input.messages": [
            {"role": "user", "parts": [{"type": "text", "content": QUESTION}]},
            {"role": "assistant", "parts": [{"type": "reasoning", "content": REASONING_SUMMARY}]},
            {
                "role": "assistant",
                "parts": [
                    {
                        "type": "tool_call",
                        "id": CALL_ID,
                        "name": "get_weather",
                        "arguments": {"location": "Paris, France", "unit": "celsius"},
                    }
                ],
            },
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": CALL_ID, "response": TOOL_RESULT}]},
        ],
        "gen_ai.output.messages": [
            {"role": "assistant", "parts": [{"type": "text", "content": WEATHER_ANSWER}], "finish_reason": "stop"}
        ],
        "gen_ai.tool.definitions": TOOL_DEFINITIONS,
    }
    for key in content:
        del attrs[key]
    assert attrs == {
        **O4_REQUEST,
        "gen_ai.response.id": "resp_68af3d3f0c1d8193a7b8c9d0e1f2a3b4",
        "gen_ai.response.model": "o4-mini-2025-04-16",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 321,
        "gen_ai.usage.output_tokens": 19,
        "gen_ai.usage.cache_read.input_tokens": 256,
        "gen_ai.usage.reasoning.output_tokens": 0,
        "openai.response.service_tier": "default",
    }


def test_content_not_captured_by_default(telemetry):
    client = make_client(plain(o4_body(output=[REASONING_ITEM, FUNCTION_CALL_ITEM])))

    client.responses.create(
        model="o4-mini", instructions=INSTRUCTIONS, input=QUESTION, tools=[WEATHER_TOOL], max_output_tokens=2048
    )

    attrs = dict(check_span(telemetry, "chat o4-mini").attributes)
    for key in ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"):
        assert key not in attrs
    assert "gen_ai.tool.definitions" not in attrs
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_call",)


def test_builtin_web_search_tool(telemetry_content):
    """A server-side tool: its definition and its call carry the same tool name."""
    answer = "As of today, the Louvre is open from 9:00 to 18:00 except on Tuesdays [louvre.fr]."
    search_call = {
        "type": "web_search_call",
        "id": "ws_68af3f1a2b3c8193a4b5c6d7e8f90a1b",
        "status": "completed",
        "action": {"type": "search", "query": "Louvre opening hours today"},
    }
    message = message_item(answer)
    message["content"][0]["annotations"] = [
        {
            "type": "url_citation",
            "start_index": 71,
            "end_index": 82,
            "url": "https://www.louvre.fr/en/visit/hours-admission",
            "title": "Hours & admission - Louvre",
        }
    ]
    body = response_body(output=[search_call, message], tools=[{"type": "web_search", "search_context_size": "medium"}])
    client = make_client(plain(body))

    client.responses.create(model="gpt-4.1", input="Is the Louvre open today?", tools=[{"type": "web_search"}])

    span = check_span(telemetry_content, "chat gpt-4.1")
    content = validate_content(span.attributes)
    assert content["gen_ai.tool.definitions"] == [{"type": "web_search", "name": "web_search"}]
    [output] = content["gen_ai.output.messages"]
    assert output["finish_reason"] == "stop"
    server_call, text = output["parts"]
    assert text == {"type": "text", "content": answer}
    assert server_call["type"] == "server_tool_call"
    assert server_call["id"] == "ws_68af3f1a2b3c8193a4b5c6d7e8f90a1b"
    assert server_call["name"] == "web_search"  # the tool's name, as in gen_ai.tool.definitions
    assert server_call["server_tool_call"]["type"] in ("web_search", "web_search_call")


# -- conversations -------------------------------------------------------------------------------

CONV_ID = "conv_68af3e5b2c1d8190a4b6c8d0e2f4a6b80c7533ace33a2dab"


@pytest.mark.parametrize("conversation", [CONV_ID, {"id": CONV_ID}], ids=["string", "object"])
def test_conversation_id(telemetry, conversation):
    handler = plain(response_body(conversation={"id": CONV_ID}))
    client = make_client(handler)

    client.responses.create(model="gpt-4.1", input=PROMPT, conversation=conversation)

    assert handler.bodies[0]["conversation"] == conversation
    span = check_span(telemetry, "chat gpt-4.1")
    assert dict(span.attributes) == {
        **request_attrs(),
        "gen_ai.conversation.id": CONV_ID,
        **PLAIN_RESPONSE_ATTRS,
    }


def test_no_conversation_id_is_invented(telemetry):
    client = make_client(plain(response_body(previous_response_id="resp_68af3a0000000000")))

    client.responses.create(model="gpt-4.1", input=PROMPT, previous_response_id="resp_68af3a0000000000")

    assert "gen_ai.conversation.id" not in check_span(telemetry, "chat gpt-4.1").attributes


# -- incomplete and failed responses ---------------------------------------------------------------


def test_incomplete_max_output_tokens(telemetry_content):
    partial = "Under a silver moon, a gentle unicorn"
    body = response_body(
        status="incomplete",
        incomplete_details={"reason": "max_output_tokens"},
        max_output_tokens=16,
        output=[message_item(partial, status="incomplete")],
        usage={
            "input_tokens": 22,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 16,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 38,
        },
    )
    client = make_client(plain(body))

    result = client.responses.create(model="gpt-4.1", input=PROMPT, max_output_tokens=16)

    assert result.status == "incomplete"
    span = check_span(telemetry_content, "chat gpt-4.1")
    attrs = dict(span.attributes)
    content = validate_content(attrs)
    assert content["gen_ai.output.messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": partial}], "finish_reason": "length"}
    ]
    del attrs["gen_ai.input.messages"], attrs["gen_ai.output.messages"]
    assert attrs == {
        **request_attrs(),
        "gen_ai.request.max_tokens": 16,
        "gen_ai.response.id": RESP_ID,
        "gen_ai.response.model": "gpt-4.1-2025-04-14",
        "gen_ai.response.finish_reasons": ("length",),
        "gen_ai.usage.input_tokens": 22,
        "gen_ai.usage.output_tokens": 16,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.reasoning.output_tokens": 0,
        "openai.response.service_tier": "default",
    }
    assert_call_metrics(telemetry_content, metric_attrs(), input_tokens=22, output_tokens=16)


def test_incomplete_content_filter(telemetry):
    body = response_body(status="incomplete", incomplete_details={"reason": "content_filter"}, output=[])
    client = make_client(plain(body))

    client.responses.create(model="gpt-4.1", input=PROMPT)

    span = check_span(telemetry, "chat gpt-4.1")
    assert span.attributes["gen_ai.response.finish_reasons"] == ("content_filter",)


FAILED_MESSAGE = "The server had an error processing your request. Sorry about that! Please retry."


def test_failed_response(telemetry):
    body = response_body(
        status="failed",
        error={"code": "server_error", "message": FAILED_MESSAGE},
        output=[],
        usage=None,
    )
    client = make_client(plain(body))

    result = client.responses.create(model="gpt-4.1", input=PROMPT)

    assert result.status == "failed"  # the SDK returns the failed response; it raises nothing
    span = check_span(telemetry, "chat gpt-4.1", StatusCode.ERROR)
    assert span.status.description == FAILED_MESSAGE
    assert span.events == ()
    assert dict(span.attributes) == {
        **request_attrs(),
        "gen_ai.response.id": RESP_ID,
        "gen_ai.response.model": "gpt-4.1-2025-04-14",
        "gen_ai.response.finish_reasons": ("error",),
        "openai.response.service_tier": "default",
        "error.type": "server_error",
    }
    assert_call_metrics(telemetry, metric_attrs(**{"error.type": "server_error"}))


# -- streaming -----------------------------------------------------------------------------------

WORDS = ["Under a silver moon, ", "a gentle unicorn ", "named Luna tiptoed ", "through the sleeping meadow."]
STREAM_TEXT = "".join(WORDS)


def stream_events(words: list[str] = WORDS) -> list[dict[str, Any]]:
    """The event sequence of a streamed response with one text message, as the API sends it."""
    text = "".join(words)
    start = response_body(status="in_progress", output=[], usage=None)
    final = response_body(
        output=[message_item(text)],
        usage={
            "input_tokens": 22,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 19,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 41,
        },
    )
    empty_part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    loc = {"item_id": MSG_ID, "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": copy.deepcopy(start)},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"id": MSG_ID, "type": "message", "status": "in_progress", "content": [], "role": "assistant"},
        },
        {"type": "response.content_part.added", **loc, "part": empty_part},
    ]
    events += [{"type": "response.output_text.delta", **loc, "delta": w, "logprobs": []} for w in words]
    events += [
        {"type": "response.output_text.done", **loc, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **loc, "part": {**empty_part, "text": text}},
        {"type": "response.output_item.done", "output_index": 0, "item": message_item(text)},
        {"type": "response.completed", "response": final},
    ]
    for seq, event in enumerate(events):
        event["sequence_number"] = seq
    return events


STREAM_REQUEST = request_attrs(**{"gen_ai.request.stream": True})
STREAM_RESPONSE = {
    "gen_ai.response.id": RESP_ID,
    "gen_ai.response.model": "gpt-4.1-2025-04-14",
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.usage.input_tokens": 22,
    "gen_ai.usage.output_tokens": 19,
    "gen_ai.usage.cache_read.input_tokens": 0,
    "gen_ai.usage.reasoning.output_tokens": 0,
    "openai.response.service_tier": "default",
}


def streaming(events: list[dict[str, Any]] | None = None) -> Recorder:
    body = sse(events or stream_events(), named=True, done=False)
    return Recorder(lambda: sse_response(body))


def pop_ttfc(span: Any) -> dict[str, Any]:
    attrs = dict(span.attributes)
    ttfc = attrs.pop("gen_ai.response.time_to_first_chunk")
    assert isinstance(ttfc, float)
    assert 0 <= ttfc <= (span.end_time - span.start_time) / 1e9
    return attrs


def test_stream_sync(telemetry_content):
    events = stream_events()
    handler = streaming(events)
    client = make_client(handler)

    stream = client.responses.create(model="gpt-4.1", input=PROMPT, stream=True)
    assert telemetry_content.spans() == []  # the call lasts until the stream is consumed
    received = list(stream)

    assert handler.bodies[0]["stream"] is True
    assert [e.type for e in received] == [e["type"] for e in events]
    assert "".join(e.delta for e in received if e.type == "response.output_text.delta") == STREAM_TEXT
    span = check_span(telemetry_content, "chat gpt-4.1")
    attrs = pop_ttfc(span)
    content = validate_content(attrs)
    assert content == {
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}],
        "gen_ai.output.messages": [
            {"role": "assistant", "parts": [{"type": "text", "content": STREAM_TEXT}], "finish_reason": "stop"}
        ],
    }
    for key in content:
        del attrs[key]
    assert attrs == {**STREAM_REQUEST, **STREAM_RESPONSE}
    assert_call_metrics(telemetry_content, metric_attrs(), input_tokens=22, output_tokens=19, chunks=len(events))


async def test_stream_async(telemetry):
    events = stream_events()
    client = make_client(streaming(events), is_async=True)

    stream = await client.responses.create(model="gpt-4.1", input=PROMPT, stream=True)
    received = [event async for event in stream]

    assert [e.type for e in received] == [e["type"] for e in events]
    span = check_span(telemetry, "chat gpt-4.1")
    assert pop_ttfc(span) == {**STREAM_REQUEST, **STREAM_RESPONSE}
    assert_call_metrics(telemetry, metric_attrs(), input_tokens=22, output_tokens=19, chunks=len(events))


def test_stream_closed_early(telemetry):
    """A stream the user stops reading ends the span with what arrived, once."""
    client = make_client(streaming())

    with client.responses.create(model="gpt-4.1", input=PROMPT, stream=True) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                break

    span = check_span(telemetry, "chat gpt-4.1")
    assert pop_ttfc(span) == {
        **STREAM_REQUEST,
        "gen_ai.response.id": RESP_ID,
        "gen_ai.response.model": "gpt-4.1-2025-04-14",
    }
    assert_call_metrics(telemetry, metric_attrs(), chunks=5)


async def test_stream_closed_early_async(telemetry):
    client = make_client(streaming(), is_async=True)

    async with await client.responses.create(model="gpt-4.1", input=PROMPT, stream=True) as stream:
        async for event in stream:
            if event.type == "response.output_text.delta":
                break

    span = check_span(telemetry, "chat gpt-4.1")
    assert pop_ttfc(span) == {
        **STREAM_REQUEST,
        "gen_ai.response.id": RESP_ID,
        "gen_ai.response.model": "gpt-4.1-2025-04-14",
    }
    assert_call_metrics(telemetry, metric_attrs(), chunks=5)


def test_stream_helper_get_final_response(telemetry_content):
    events = stream_events()
    handler = streaming(events)
    client = make_client(handler)

    with client.responses.stream(model="gpt-4.1", input=PROMPT) as stream:
        final = stream.get_final_response()

    assert final.output_text == STREAM_TEXT
    assert handler.bodies[0]["stream"] is True
    span = check_span(telemetry_content, "chat gpt-4.1")
    attrs = pop_ttfc(span)
    content = validate_content(attrs)
    assert content["gen_ai.output.messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": STREAM_TEXT}], "finish_reason": "stop"}
    ]
    for key in content:
        del attrs[key]
    assert attrs == {**STREAM_REQUEST, **STREAM_RESPONSE}
    assert_call_metrics(telemetry_content, metric_attrs(), input_tokens=22, output_tokens=19, chunks=len(events))


async def test_stream_helper_async(telemetry):
    events = stream_events()
    client = make_client(streaming(events), is_async=True)

    async with client.responses.stream(model="gpt-4.1", input=PROMPT) as stream:
        deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
        final = await stream.get_final_response()

    assert "".join(deltas) == STREAM_TEXT
    assert final.output_text == STREAM_TEXT
    span = check_span(telemetry, "chat gpt-4.1")
    assert pop_ttfc(span) == {**STREAM_REQUEST, **STREAM_RESPONSE}
    assert_call_metrics(telemetry, metric_attrs(), input_tokens=22, output_tokens=19, chunks=len(events))


STREAM_ERROR = "The server had an error while processing your request. Sorry about that!"


def error_stream_events() -> list[dict[str, Any]]:
    start = response_body(status="in_progress", output=[], usage=None)
    return [
        {"type": "response.created", "sequence_number": 0, "response": start},
        {"type": "response.in_progress", "sequence_number": 1, "response": copy.deepcopy(start)},
        {"type": "error", "sequence_number": 2, "code": "server_error", "message": STREAM_ERROR, "param": None},
    ]


def test_stream_ending_with_error_event(telemetry):
    client = make_client(streaming(error_stream_events()))

    stream = client.responses.create(model="gpt-4.1", input=PROMPT, stream=True)
    received = list(stream)

    assert [e.type for e in received] == ["response.created", "response.in_progress", "error"]
    span = check_span(telemetry, "chat gpt-4.1", StatusCode.ERROR)
    assert span.status.description == STREAM_ERROR
    assert pop_ttfc(span) == {
        **STREAM_REQUEST,
        "gen_ai.response.id": RESP_ID,
        "gen_ai.response.model": "gpt-4.1-2025-04-14",
        "error.type": "server_error",
    }
    assert_call_metrics(telemetry, metric_attrs(**{"error.type": "server_error"}), chunks=3)


async def test_stream_ending_with_error_event_async(telemetry):
    client = make_client(streaming(error_stream_events()), is_async=True)

    stream = await client.responses.create(model="gpt-4.1", input=PROMPT, stream=True)
    received = [e async for e in stream]

    assert [e.type for e in received] == ["response.created", "response.in_progress", "error"]
    span = check_span(telemetry, "chat gpt-4.1", StatusCode.ERROR)
    assert span.attributes["error.type"] == "server_error"


def test_stream_response_failed_event(telemetry):
    start = response_body(status="in_progress", output=[], usage=None)
    failed = response_body(status="failed", error={"code": "server_error", "message": FAILED_MESSAGE}, output=[])
    failed["usage"] = None
    events = [
        {"type": "response.created", "sequence_number": 0, "response": start},
        {"type": "response.in_progress", "sequence_number": 1, "response": copy.deepcopy(start)},
        {"type": "response.failed", "sequence_number": 2, "response": failed},
    ]
    client = make_client(streaming(events))

    received = list(client.responses.create(model="gpt-4.1", input=PROMPT, stream=True))

    assert received[-1].type == "response.failed"
    span = check_span(telemetry, "chat gpt-4.1", StatusCode.ERROR)
    assert span.status.description == FAILED_MESSAGE
    assert pop_ttfc(span) == {
        **STREAM_REQUEST,
        "gen_ai.response.id": RESP_ID,
        "gen_ai.response.model": "gpt-4.1-2025-04-14",
        "gen_ai.response.finish_reasons": ("error",),
        "openai.response.service_tier": "default",
        "error.type": "server_error",
    }


# -- raw responses -------------------------------------------------------------------------------


def test_with_raw_response(telemetry):
    client = make_client(plain())

    raw = client.responses.with_raw_response.create(model="gpt-4.1", input=PROMPT)
    assert raw.headers["x-request-id"] == "req_7f0e8b3c2d1a"
    result = raw.parse()

    assert result.output_text == STORY
    assert raw.parse() is result
    span = check_span(telemetry, "chat gpt-4.1")
    assert dict(span.attributes) == {**request_attrs(), **PLAIN_RESPONSE_ATTRS}
    assert_call_metrics(telemetry, metric_attrs(), input_tokens=2006, output_tokens=87)


async def test_with_raw_response_async(telemetry):
    client = make_client(plain(), is_async=True)

    raw = await client.responses.with_raw_response.create(model="gpt-4.1", input=PROMPT)
    result = raw.parse()  # with_raw_response gives the legacy response: parse() is not a coroutine

    assert result.output_text == STORY
    span = check_span(telemetry, "chat gpt-4.1")
    assert dict(span.attributes) == {**request_attrs(), **PLAIN_RESPONSE_ATTRS}
    assert_call_metrics(telemetry, metric_attrs(), input_tokens=2006, output_tokens=87)


def test_with_raw_response_stream(telemetry):
    events = stream_events()
    client = make_client(streaming(events))

    raw = client.responses.with_raw_response.create(model="gpt-4.1", input=PROMPT, stream=True)
    received = list(raw.parse())

    assert [e.type for e in received] == [e["type"] for e in events]
    span = check_span(telemetry, "chat gpt-4.1")
    assert pop_ttfc(span) == {**STREAM_REQUEST, **STREAM_RESPONSE}
    assert_call_metrics(telemetry, metric_attrs(), input_tokens=22, output_tokens=19, chunks=len(events))


def test_with_streaming_response(telemetry):
    client = make_client(plain())

    with client.responses.with_streaming_response.create(model="gpt-4.1", input=PROMPT) as raw:
        assert raw.headers["x-request-id"] == "req_7f0e8b3c2d1a"
        result = raw.parse()

    assert result.output_text == STORY
    span = check_span(telemetry, "chat gpt-4.1")
    assert dict(span.attributes) == {**request_attrs(), **PLAIN_RESPONSE_ATTRS}
    assert_call_metrics(telemetry, metric_attrs(), input_tokens=2006, output_tokens=87)


async def test_with_streaming_response_async(telemetry):
    client = make_client(plain(), is_async=True)

    async with client.responses.with_streaming_response.create(model="gpt-4.1", input=PROMPT) as raw:
        result = await raw.parse()

    assert result.output_text == STORY
    span = check_span(telemetry, "chat gpt-4.1")
    assert dict(span.attributes) == {**request_attrs(), **PLAIN_RESPONSE_ATTRS}
