"""Streamed Chat Completions (and legacy Completions) through the real openai SDK.

Every way a user can consume a stream, sync and async: plain iteration, ``with`` blocks,
manual ``next()``, early ``close()``, dropping the stream, exceptions in user code, errors sent
mid-stream by the server, the ``.stream()`` helper, ``with_raw_response`` and
``with_streaming_response``. Each test checks that exactly one span is exported (a span ended
twice would show up twice in the in-memory exporter), its name, kind, status and exact
attributes, and the four GenAI client metrics.

The chunk payloads follow what api.openai.com sends for ``chat.completion.chunk``: every chunk
repeats id / created / model / system_fingerprint / service_tier, the first delta carries the
role and an empty content, tool calls arrive split over several chunks, the finish reason comes
in its own chunk and, with ``stream_options.include_usage``, a last chunk has no choices and
carries the usage (every other chunk then has ``"usage": null``).
"""

from __future__ import annotations

import gc
import json
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionChunk
from openai.types.completion import Completion
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from tests.support import http, make_client, sse, validate_content

# -- recorded-style payloads ---------------------------------------------------------------------

CHAT_ID = "chatcmpl-AqX1bQ8mZ3n7Yk2LcVhJ0pRfT5sEu"
RESPONSE_MODEL = "gpt-4o-2024-08-06"
FINGERPRINT = "fp_f785eb5f47"
CREATED = 1731012345

USAGE = {
    "prompt_tokens": 1250,
    "completion_tokens": 12,
    "total_tokens": 1262,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def chunk(choices: list[dict[str, Any]], *, usage: Any = None, **extra: Any) -> dict[str, Any]:
    """One chat.completion.chunk as the API sends it (include_usage: ``usage`` null until the end)."""
    body: dict[str, Any] = {
        "id": CHAT_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": RESPONSE_MODEL,
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
        "choices": choices,
        "usage": usage,
    }
    body.update(extra)
    return body


def delta(index: int = 0, finish_reason: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"index": index, "delta": fields, "logprobs": None, "finish_reason": finish_reason}


TEXT_PIECES = ["Hello", "!", " How can I", " help you today?"]
TEXT = "".join(TEXT_PIECES)

# role chunk, 4 content chunks, finish chunk, usage chunk
TEXT_CHUNKS = [
    chunk([delta(role="assistant", content="", refusal=None)]),
    *(chunk([delta(content=piece)]) for piece in TEXT_PIECES),
    chunk([delta(finish_reason="stop")]),
    chunk([], usage=USAGE),
]


def tool_call(index: int, arguments: str, call_id: str | None = None, name: str | None = None) -> dict[str, Any]:
    """One tool-call delta: the first for a call carries id, type and name with empty arguments."""
    if call_id is None:
        return {"index": index, "function": {"arguments": arguments}}
    return {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


# Two parallel tool calls; ids and names come once, arguments in pieces.
TOOL_CHUNKS = [
    chunk([delta(role="assistant", content=None, refusal=None, tool_calls=[
        tool_call(0, "", "call_Wx1", "get_weather"),
    ])]),
    chunk([delta(tool_calls=[tool_call(0, '{"lo')])]),
    chunk([delta(tool_calls=[tool_call(0, 'cation": "Pa')])]),
    chunk([delta(tool_calls=[tool_call(0, 'ris, FR"}')])]),
    chunk([delta(tool_calls=[tool_call(1, "", "call_Tz2", "get_time")])]),
    chunk([delta(tool_calls=[tool_call(1, '{"tz": ')])]),
    chunk([delta(tool_calls=[tool_call(1, '"Europe/Paris"}')])]),
    chunk([delta(finish_reason="tool_calls")]),
    chunk([], usage={**USAGE, "completion_tokens": 48, "total_tokens": 1298}),
]  # fmt: skip

REFUSAL_PIECES = ["I'm sorry", ", but I can't", " help with that."]
REFUSAL_CHUNKS = [
    chunk([delta(role="assistant", content=None, refusal="")]),
    *(chunk([delta(refusal=piece)]) for piece in REFUSAL_PIECES),
    chunk([delta(finish_reason="stop")]),
    chunk([], usage={**USAGE, "completion_tokens": 9, "total_tokens": 1259}),
]

# n=2: the choices interleave, each has its own role chunk and finish chunk.
N2_CHUNKS = [
    chunk([delta(0, role="assistant", content="", refusal=None)]),
    chunk([delta(1, role="assistant", content="", refusal=None)]),
    chunk([delta(0, content="Red")]),
    chunk([delta(1, content="Blue")]),
    chunk([delta(1, content=" and green")]),
    chunk([delta(0, finish_reason="stop")]),
    chunk([delta(1, finish_reason="length")]),
    chunk([], usage={**USAGE, "completion_tokens": 6, "total_tokens": 1256}),
]

SERVER_ERROR = {
    "error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}
ERROR_CHUNKS = [
    chunk([delta(role="assistant", content="", refusal=None)]),
    chunk([delta(content="Hel")]),
    SERVER_ERROR,
]

COMPLETION_ID = "cmpl-9Lx3Yb2QfT8nW1"
INSTRUCT = "gpt-3.5-turbo-instruct"


def completion_chunk(choices: list[dict[str, Any]], usage: Any = None) -> dict[str, Any]:
    return {
        "id": COMPLETION_ID,
        "object": "text_completion",
        "created": CREATED,
        "model": INSTRUCT,
        "system_fingerprint": None,
        "choices": choices,
        "usage": usage,
    }


def text_choice(text: str, finish_reason: str | None = None) -> dict[str, Any]:
    return {"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}


COMPLETION_CHUNKS = [
    completion_chunk([text_choice("\n\nOnce")]),
    completion_chunk([text_choice(" upon")]),
    completion_chunk([text_choice(" a time")]),
    completion_chunk([text_choice(".", "stop")]),
    completion_chunk([], {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11}),
]

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello."},
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a location.",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
        },
    },
]

# -- expected telemetry ----------------------------------------------------------------------------

TTFC = "gen_ai.response.time_to_first_chunk"
M_DURATION = "gen_ai.client.operation.duration"
M_TTFC = "gen_ai.client.operation.time_to_first_chunk"
M_PER_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
M_TOKENS = "gen_ai.client.token.usage"

METRIC_BASE = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "server.address": "api.openai.com",
    "server.port": 443,
}
REQUEST_ATTRS = {
    **METRIC_BASE,
    "openai.api.type": "chat_completions",
    "gen_ai.request.stream": True,
}
# What the first chunk alone tells (a stream cut short still has these).
IDENTITY_ATTRS = {
    "gen_ai.response.id": CHAT_ID,
    "gen_ai.response.model": RESPONSE_MODEL,
    "openai.response.system_fingerprint": FINGERPRINT,
    "openai.response.service_tier": "default",
}


def usage_attrs(output_tokens: int) -> dict[str, Any]:
    return {
        "gen_ai.usage.input_tokens": 1250,
        "gen_ai.usage.output_tokens": output_tokens,
        "gen_ai.usage.cache_read.input_tokens": 1024,
        "gen_ai.usage.reasoning.output_tokens": 0,
    }


FULL_TEXT_ATTRS = {
    **REQUEST_ATTRS,
    **IDENTITY_ATTRS,
    "gen_ai.response.finish_reasons": ("stop",),
    **usage_attrs(12),
}
PARTIAL_ATTRS = {**REQUEST_ATTRS, **IDENTITY_ATTRS}


class Recorder:
    """A mock-transport handler answering every request with one SSE body; keeps the requests."""

    def __init__(self, events: list[dict[str, Any]], *, done: bool = True) -> None:
        self.body = sse(events, done=done)
        self.requests: list[Any] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        headers = {
            "content-type": "text/event-stream; charset=utf-8",
            "x-request-id": "req_7f3c2a",
            "openai-processing-ms": "187",
        }
        return http.Response(200, headers=headers, content=self.body)

    def sent(self) -> dict[str, Any]:
        assert len(self.requests) == 1
        return json.loads(self.requests[0].content)


def tuples(attrs: dict[str, Any]) -> dict[str, Any]:
    """Sequences as the SDK stores them on a span (tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items()}


def check_span(
    telemetry: Any,
    expected: dict[str, Any],
    *,
    name: str = "chat gpt-4o",
    status: StatusCode = StatusCode.UNSET,
    description: str | None = None,
) -> Any:
    """Exactly one span; exact name, kind, status and attributes (time to first chunk > 0)."""
    spans = telemetry.spans()
    assert [s.name for s in spans] == [name], "one span per call, ended once"
    span = spans[0]
    assert span.kind is SpanKind.CLIENT
    attrs = dict(span.attributes)
    ttfc = attrs.pop(TTFC, None)
    assert isinstance(ttfc, float), f"{TTFC} missing: {attrs}"
    assert 0 < ttfc <= (span.end_time - span.start_time) / 1e9
    assert attrs == tuples(expected)
    assert span.status.status_code is status
    if description is not None:
        assert span.status.description == description
    return span


def check_metrics(
    telemetry: Any,
    *,
    chunks: int,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    base: dict[str, Any] = METRIC_BASE,
    response_model: str | None = RESPONSE_MODEL,
    error_type: str | None = None,
) -> None:
    """Duration and time to first chunk once; one gap per chunk after the first; token usage."""
    metrics = telemetry.metrics()
    attrs = dict(base)
    if response_model is not None:
        attrs["gen_ai.response.model"] = response_model
    if error_type is not None:
        attrs["error.type"] = error_type

    (duration,) = metrics[M_DURATION]
    assert duration.count == 1
    assert dict(duration.attributes) == attrs
    assert duration.sum > 0

    (ttfc,) = metrics[M_TTFC]
    assert ttfc.count == 1
    assert dict(ttfc.attributes) == attrs
    assert 0 < ttfc.sum <= duration.sum

    if chunks > 1:
        (gaps,) = metrics[M_PER_CHUNK]
        assert gaps.count == chunks - 1
        assert dict(gaps.attributes) == attrs
        assert 0 <= gaps.sum <= duration.sum
    else:
        assert not metrics.get(M_PER_CHUNK)

    tokens = {p.attributes["gen_ai.token.type"]: p for p in metrics.get(M_TOKENS, [])}
    expected_tokens = {k: v for k, v in (("input", input_tokens), ("output", output_tokens)) if v is not None}
    assert {k: (p.count, p.sum) for k, p in tokens.items()} == {k: (1, v) for k, v in expected_tokens.items()}
    for kind, point in tokens.items():
        assert dict(point.attributes) == {**attrs, "gen_ai.token.type": kind}


def check_full_text(telemetry: Any, *, chunks: int = len(TEXT_CHUNKS)) -> Any:
    span = check_span(telemetry, FULL_TEXT_ATTRS)
    check_metrics(telemetry, chunks=chunks, input_tokens=1250, output_tokens=12)
    return span


def check_partial(telemetry: Any, *, chunks: int) -> Any:
    """A stream the user stopped reading: identity from the chunks seen, no finish reason, no usage."""
    span = check_span(telemetry, PARTIAL_ATTRS)
    check_metrics(telemetry, chunks=chunks)
    return span


def create_kwargs(**extra: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": "gpt-4o",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    kwargs.update(extra)
    return kwargs


def text_of(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


# -- full consumption ----------------------------------------------------------------------------


def test_for_loop(telemetry):
    handler = Recorder(TEXT_CHUNKS)
    client = make_client(handler)
    stream = client.chat.completions.create(**create_kwargs())
    assert telemetry.spans() == []  # nothing ends before the stream is read
    assert trace.get_current_span() is trace.INVALID_SPAN  # the call's context is not left attached
    received = list(stream)
    assert len(received) == len(TEXT_CHUNKS)
    assert all(isinstance(c, ChatCompletionChunk) for c in received)
    assert text_of(received) == TEXT
    assert received[-1].usage.prompt_tokens_details.cached_tokens == 1024
    assert handler.sent()["stream"] is True
    assert handler.sent()["stream_options"] == {"include_usage": True}
    check_full_text(telemetry)


async def test_async_for_loop(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    stream = await client.chat.completions.create(**create_kwargs())
    assert telemetry.spans() == []
    received = [c async for c in stream]
    assert len(received) == len(TEXT_CHUNKS)
    assert all(isinstance(c, ChatCompletionChunk) for c in received)
    assert text_of(received) == TEXT
    check_full_text(telemetry)


def test_with_block(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    with client.chat.completions.create(**create_kwargs()) as stream:
        assert isinstance(stream, openai.Stream)
        received = [c for c in stream]
    assert text_of(received) == TEXT
    check_full_text(telemetry)


async def test_async_with_block(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    async with await client.chat.completions.create(**create_kwargs()) as stream:
        assert isinstance(stream, openai.AsyncStream)
        received = [c async for c in stream]
    assert text_of(received) == TEXT
    check_full_text(telemetry)


def test_manual_next(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    stream = client.chat.completions.create(**create_kwargs())
    received = []
    while True:
        try:
            received.append(next(stream))
        except StopIteration:
            break
    assert len(received) == len(TEXT_CHUNKS)
    with pytest.raises(StopIteration):
        next(stream)  # asking again does not end the span again
    stream.close()
    check_full_text(telemetry)


async def test_async_manual_anext(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    stream = await client.chat.completions.create(**create_kwargs())
    received = []
    while True:
        try:
            received.append(await stream.__anext__())
        except StopAsyncIteration:
            break
    assert len(received) == len(TEXT_CHUNKS)
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    await stream.close()
    check_full_text(telemetry)


def test_without_include_usage(telemetry):
    """No usage chunk: no usage attributes and no token metric, everything else as usual."""
    events = TEXT_CHUNKS[:-1]
    client = make_client(Recorder([{k: v for k, v in c.items() if k != "usage"} for c in events]))
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    assert text_of(list(stream)) == TEXT
    check_span(telemetry, {**PARTIAL_ATTRS, "gen_ai.response.finish_reasons": ["stop"]})
    check_metrics(telemetry, chunks=len(events))


# -- stopping early --------------------------------------------------------------------------------


def test_break_then_close(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    stream = client.chat.completions.create(**create_kwargs())
    for i, _ in enumerate(stream):
        if i == 1:
            break
    assert telemetry.spans() == []  # still open: the user may go on reading
    stream.close()
    stream.close()
    check_partial(telemetry, chunks=2)


async def test_async_break_then_close(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    stream = await client.chat.completions.create(**create_kwargs())
    i = 0
    async for _ in stream:
        if i == 1:
            break
        i += 1
    assert telemetry.spans() == []
    await stream.close()
    await stream.close()
    check_partial(telemetry, chunks=2)


def test_break_and_drop(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    stream = client.chat.completions.create(**create_kwargs())
    for i, _ in enumerate(stream):
        if i == 2:
            break
    assert telemetry.spans() == []
    del stream
    gc.collect()
    check_partial(telemetry, chunks=3)


def test_break_and_drop_after_touching_response(telemetry):
    """``stream.response`` links the response proxy back to the stream: a cycle gc must still end."""
    client = make_client(Recorder(TEXT_CHUNKS))
    stream = client.chat.completions.create(**create_kwargs())
    assert stream.response.status_code == 200
    next(stream)
    del stream
    gc.collect()
    check_partial(telemetry, chunks=1)


async def test_async_break_and_drop(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    stream = await client.chat.completions.create(**create_kwargs())
    i = 0
    async for _ in stream:
        if i == 2:
            break
        i += 1
    assert telemetry.spans() == []
    del stream
    gc.collect()
    check_partial(telemetry, chunks=3)


def test_with_block_break(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    with client.chat.completions.create(**create_kwargs()) as stream:
        for _ in stream:
            break
    check_partial(telemetry, chunks=1)


# -- exceptions ----------------------------------------------------------------------------------
#
# An exception from user code inside the ``with`` block aborts the call: the span records it
# (status ERROR, error.type the exception's class), as opentelemetry-instrumentation-openai-v2
# does, so an aborted stream is told apart from one the user closed on purpose.


class UserError(Exception):
    pass


def test_user_exception_in_with_block(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    boom = UserError("consumer failed")
    with pytest.raises(UserError) as raised, client.chat.completions.create(**create_kwargs()) as stream:
        for i, _ in enumerate(stream):
            if i == 1:
                raise boom
    assert raised.value is boom
    assert raised.value.__cause__ is None
    span = check_span(
        telemetry,
        {**PARTIAL_ATTRS, "error.type": "UserError"},
        status=StatusCode.ERROR,
        description="consumer failed",
    )
    assert [e.attributes["exception.message"] for e in span.events] == ["consumer failed"]
    check_metrics(telemetry, chunks=2, error_type="UserError")


async def test_async_user_exception_in_with_block(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    boom = UserError("consumer failed")
    with pytest.raises(UserError) as raised:
        async with await client.chat.completions.create(**create_kwargs()) as stream:
            async for _ in stream:
                raise boom
    assert raised.value is boom
    check_span(
        telemetry,
        {**PARTIAL_ATTRS, "error.type": "UserError"},
        status=StatusCode.ERROR,
        description="consumer failed",
    )
    check_metrics(telemetry, chunks=1, error_type="UserError")


def check_server_error(telemetry: Any, raised: Any) -> None:
    message = SERVER_ERROR["error"]["message"]
    assert type(raised.value) is openai.APIError
    assert raised.value.message == message
    assert raised.value.body == SERVER_ERROR["error"]
    span = check_span(
        telemetry,
        {**PARTIAL_ATTRS, "error.type": "APIError"},
        status=StatusCode.ERROR,
        description=message,
    )
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.message"] == message
    check_metrics(telemetry, chunks=2, error_type="APIError")


def test_server_error_mid_stream(telemetry):
    client = make_client(Recorder(ERROR_CHUNKS, done=False))
    stream = client.chat.completions.create(**create_kwargs())
    received = []
    with pytest.raises(openai.APIError) as raised:
        for c in stream:
            received.append(c)
    assert text_of(received) == "Hel"
    stream.close()  # closing after the failure changes nothing
    check_server_error(telemetry, raised)


async def test_async_server_error_mid_stream(telemetry):
    client = make_client(Recorder(ERROR_CHUNKS, done=False), is_async=True)
    received = []
    with pytest.raises(openai.APIError) as raised:
        async with await client.chat.completions.create(**create_kwargs()) as stream:
            async for c in stream:
                received.append(c)
    assert text_of(received) == "Hel"
    check_server_error(telemetry, raised)


# -- content: choices, tool calls, refusals --------------------------------------------------------

INPUT_MESSAGES = [
    {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
    {"role": "user", "parts": [{"type": "text", "content": "Say hello."}]},
]


def content_of(span: Any) -> dict[str, Any]:
    parsed = validate_content(span.attributes)
    assert json.loads(span.attributes["gen_ai.input.messages"]) == INPUT_MESSAGES
    return parsed


def test_text_content_captured(telemetry_content):
    client = make_client(Recorder(TEXT_CHUNKS))
    list(client.chat.completions.create(**create_kwargs()))
    span = telemetry_content.span()
    output = [{"role": "assistant", "parts": [{"type": "text", "content": TEXT}], "finish_reason": "stop"}]
    check_span(telemetry_content, {
        **FULL_TEXT_ATTRS,
        "gen_ai.input.messages": span.attributes["gen_ai.input.messages"],
        "gen_ai.output.messages": span.attributes["gen_ai.output.messages"],
    })  # fmt: skip
    assert content_of(span)["gen_ai.output.messages"] == output
    check_metrics(telemetry_content, chunks=len(TEXT_CHUNKS), input_tokens=1250, output_tokens=12)


def test_partial_content_captured(telemetry_content):
    """Closed early: the text received so far, and the choice counts as never finished."""
    client = make_client(Recorder(TEXT_CHUNKS))
    stream = client.chat.completions.create(**create_kwargs())
    for i, _ in enumerate(stream):
        if i == 2:
            break
    stream.close()
    span = telemetry_content.span()
    assert "gen_ai.response.finish_reasons" not in span.attributes
    assert content_of(span)["gen_ai.output.messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello!"}], "finish_reason": "error"}
    ]


def test_two_choices(telemetry_content):
    client = make_client(Recorder(N2_CHUNKS))
    received = list(client.chat.completions.create(**create_kwargs(n=2, max_tokens=3)))
    assert len(received) == len(N2_CHUNKS)
    span = telemetry_content.span()
    check_span(telemetry_content, {
        **REQUEST_ATTRS,
        **IDENTITY_ATTRS,
        "gen_ai.request.choice.count": 2,
        "gen_ai.request.max_tokens": 3,
        "gen_ai.response.finish_reasons": ["stop", "length"],
        **usage_attrs(6),
        "gen_ai.input.messages": span.attributes["gen_ai.input.messages"],
        "gen_ai.output.messages": span.attributes["gen_ai.output.messages"],
    })  # fmt: skip
    assert content_of(span)["gen_ai.output.messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Red"}], "finish_reason": "stop"},
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Blue and green"}],
            "finish_reason": "length",
        },
    ]
    check_metrics(telemetry_content, chunks=len(N2_CHUNKS), input_tokens=1250, output_tokens=6)


TOOL_OUTPUT = [
    {
        "role": "assistant",
        "parts": [
            {
                "type": "tool_call",
                "id": "call_Wx1",
                "name": "get_weather",
                "arguments": {"location": "Paris, FR"},
            },
            {"type": "tool_call", "id": "call_Tz2", "name": "get_time", "arguments": {"tz": "Europe/Paris"}},
        ],
        "finish_reason": "tool_call",
    }
]
TOOL_DEFINITIONS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a location.",
        "parameters": TOOLS[0]["function"]["parameters"],
    },
    {"type": "function", "name": "get_time", "parameters": TOOLS[1]["function"]["parameters"]},
]


def check_tool_span(telemetry: Any) -> None:
    span = telemetry.span()
    check_span(telemetry, {
        **REQUEST_ATTRS,
        **IDENTITY_ATTRS,
        "gen_ai.request.temperature": 0.0,
        "gen_ai.response.finish_reasons": ["tool_calls"],
        **usage_attrs(48),
        "gen_ai.input.messages": span.attributes["gen_ai.input.messages"],
        "gen_ai.output.messages": span.attributes["gen_ai.output.messages"],
        "gen_ai.tool.definitions": span.attributes["gen_ai.tool.definitions"],
    })  # fmt: skip
    content = content_of(span)
    assert content["gen_ai.output.messages"] == TOOL_OUTPUT
    assert content["gen_ai.tool.definitions"] == TOOL_DEFINITIONS
    check_metrics(telemetry, chunks=len(TOOL_CHUNKS), input_tokens=1250, output_tokens=48)


def test_tool_calls(telemetry_content):
    client = make_client(Recorder(TOOL_CHUNKS))
    received = list(client.chat.completions.create(**create_kwargs(tools=TOOLS, temperature=0.0)))
    args = "".join(
        c.choices[0].delta.tool_calls[0].function.arguments or ""
        for c in received
        if c.choices and c.choices[0].delta.tool_calls and c.choices[0].delta.tool_calls[0].index == 0
    )
    assert json.loads(args) == {"location": "Paris, FR"}
    check_tool_span(telemetry_content)


async def test_async_tool_calls(telemetry_content):
    client = make_client(Recorder(TOOL_CHUNKS), is_async=True)
    stream = await client.chat.completions.create(**create_kwargs(tools=TOOLS, temperature=0.0))
    async for _ in stream:
        pass
    check_tool_span(telemetry_content)


def test_tool_calls_without_capture(telemetry):
    """Content off: the same facts, not a word of content."""
    client = make_client(Recorder(TOOL_CHUNKS))
    list(client.chat.completions.create(**create_kwargs(tools=TOOLS, temperature=0.0)))
    check_span(telemetry, {
        **REQUEST_ATTRS,
        **IDENTITY_ATTRS,
        "gen_ai.request.temperature": 0.0,
        "gen_ai.response.finish_reasons": ["tool_calls"],
        **usage_attrs(48),
    })  # fmt: skip
    check_metrics(telemetry, chunks=len(TOOL_CHUNKS), input_tokens=1250, output_tokens=48)


def test_refusal(telemetry_content):
    client = make_client(Recorder(REFUSAL_CHUNKS))
    received = list(client.chat.completions.create(**create_kwargs()))
    assert "".join(c.choices[0].delta.refusal or "" for c in received if c.choices) == "".join(REFUSAL_PIECES)
    span = telemetry_content.span()
    check_span(telemetry_content, {
        **REQUEST_ATTRS,
        **IDENTITY_ATTRS,
        "gen_ai.response.finish_reasons": ["stop"],
        **usage_attrs(9),
        "gen_ai.input.messages": span.attributes["gen_ai.input.messages"],
        "gen_ai.output.messages": span.attributes["gen_ai.output.messages"],
    })  # fmt: skip
    assert content_of(span)["gen_ai.output.messages"] == [
        {
            "role": "assistant",
            "parts": [{"type": "refusal", "content": "I'm sorry, but I can't help with that."}],
            "finish_reason": "stop",
        }
    ]
    check_metrics(telemetry_content, chunks=len(REFUSAL_CHUNKS), input_tokens=1250, output_tokens=9)


# -- the SDK's behaviour is kept -----------------------------------------------------------------


def check_http_response(response: Any) -> None:
    assert isinstance(response, http.Response)
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req_7f3c2a"
    assert response.headers["content-type"].startswith("text/event-stream")


def test_stream_is_the_sdk_stream(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    stream = client.chat.completions.create(**create_kwargs())
    assert isinstance(stream, openai.Stream)
    assert stream.__class__ is openai.Stream
    check_http_response(stream.response)
    first = next(stream)
    assert type(first) is ChatCompletionChunk
    assert first.id == CHAT_ID
    assert first.model == RESPONSE_MODEL
    assert first.system_fingerprint == FINGERPRINT
    assert first.choices[0].delta.role == "assistant"
    rest = list(stream)
    assert all(type(c) is ChatCompletionChunk for c in rest)
    assert rest[-1].choices == []
    assert rest[-1].usage.prompt_tokens == 1250
    check_full_text(telemetry)


async def test_async_stream_is_the_sdk_stream(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    stream = await client.chat.completions.create(**create_kwargs())
    assert isinstance(stream, openai.AsyncStream)
    assert stream.__class__ is openai.AsyncStream
    check_http_response(stream.response)
    received = [c async for c in stream]
    assert all(type(c) is ChatCompletionChunk for c in received)
    check_full_text(telemetry)


# -- the .stream() helper --------------------------------------------------------------------------


def test_helper_iterate_events(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, stream_options={"include_usage": True}) as s:
        events = [e for e in s]
        final = s.get_final_completion()
    assert "".join(e.delta for e in events if e.type == "content.delta") == TEXT
    assert [e.content for e in events if e.type == "content.done"] == [TEXT]
    assert final.choices[0].message.content == TEXT
    assert final.usage.prompt_tokens == 1250
    check_full_text(telemetry)


def test_helper_get_final_completion(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, stream_options={"include_usage": True}) as s:
        final = s.get_final_completion()
        assert telemetry.spans() != []  # read to the end: the span is already over
    assert final.id == CHAT_ID
    assert final.choices[0].message.content == TEXT
    assert final.choices[0].finish_reason == "stop"
    check_full_text(telemetry)


def test_helper_until_done(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    manager = client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, stream_options={"include_usage": True})
    with manager as s:
        assert s.until_done() is s
        if hasattr(s, "text_deltas"):  # not on every SDK line
            assert list(s.text_deltas) == []
    check_full_text(telemetry)


def test_helper_tool_calls(telemetry_content):
    client = make_client(Recorder(TOOL_CHUNKS))
    with client.chat.completions.stream(
        model="gpt-4o",
        messages=MESSAGES,
        tools=TOOLS,
        temperature=0.0,
        stream_options={"include_usage": True},
    ) as s:
        final = s.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("call_Wx1", "get_weather", {"location": "Paris, FR"}),
        ("call_Tz2", "get_time", {"tz": "Europe/Paris"}),
    ]
    check_tool_span(telemetry_content)


def test_helper_close_early(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, stream_options={"include_usage": True}) as s:
        for event in s:
            if event.type == "content.delta" and event.delta == "!":
                break
        assert telemetry.spans() == []
    check_partial(telemetry, chunks=3)


def test_helper_exception_in_block(telemetry):
    """The helper's manager only calls close(), so the exception never reaches the stream.

    The span ends once as a stream closed early; the exception is the user's, unchanged.
    """
    client = make_client(Recorder(TEXT_CHUNKS))
    boom = UserError("stop")
    with (
        pytest.raises(UserError) as raised,
        client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, stream_options={"include_usage": True}) as s,
    ):
        assert next(iter(s)).type == "chunk"
        raise boom
    assert raised.value is boom
    check_partial(telemetry, chunks=1)


async def test_async_helper_iterate_and_final(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    async with client.chat.completions.stream(
        model="gpt-4o", messages=MESSAGES, stream_options={"include_usage": True}
    ) as s:
        deltas = [e.delta async for e in s if e.type == "content.delta"]
        final = await s.get_final_completion()
    assert "".join(deltas) == TEXT
    assert final.choices[0].message.content == TEXT
    check_full_text(telemetry)


async def test_async_helper_until_done(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    async with client.chat.completions.stream(
        model="gpt-4o", messages=MESSAGES, stream_options={"include_usage": True}
    ) as s:
        assert await s.until_done() is s
    check_full_text(telemetry)


async def test_async_helper_close_early(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    async with client.chat.completions.stream(
        model="gpt-4o", messages=MESSAGES, stream_options={"include_usage": True}
    ) as s:
        async for event in s:
            if event.type == "content.delta" and event.delta == "!":
                break
        assert telemetry.spans() == []
    check_partial(telemetry, chunks=3)


# -- raw and streaming responses -------------------------------------------------------------------


def test_with_raw_response(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    raw = client.chat.completions.with_raw_response.create(**create_kwargs())
    assert raw.status_code == 200
    assert raw.headers["x-request-id"] == "req_7f3c2a"
    stream = raw.parse()
    assert isinstance(stream, openai.Stream)
    assert raw.parse() is stream  # the SDK caches parse(): one stream, one proxy
    assert telemetry.spans() == []
    received = list(stream)
    assert text_of(received) == TEXT
    del raw
    gc.collect()
    check_full_text(telemetry)


def test_with_raw_response_parse_chained(telemetry):
    """``create(...).parse()`` drops the raw response at once; the stream is still traced."""
    client = make_client(Recorder(TEXT_CHUNKS))
    stream = client.chat.completions.with_raw_response.create(**create_kwargs()).parse()
    gc.collect()
    assert telemetry.spans() == [], "span ended before the stream was read"
    assert text_of(list(stream)) == TEXT
    check_full_text(telemetry)


async def test_async_with_raw_response(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    raw = await client.chat.completions.with_raw_response.create(**create_kwargs())
    assert raw.headers["x-request-id"] == "req_7f3c2a"
    stream = raw.parse()  # with_raw_response gives the legacy response: parse() is not awaited
    assert isinstance(stream, openai.AsyncStream)
    received = [c async for c in stream]
    assert text_of(received) == TEXT
    check_full_text(telemetry)


def test_with_streaming_response(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS))
    with client.chat.completions.with_streaming_response.create(**create_kwargs()) as response:
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "req_7f3c2a"
        stream = response.parse()
        assert isinstance(stream, openai.Stream)
        received = list(stream)
    assert text_of(received) == TEXT
    check_full_text(telemetry)


def test_with_streaming_response_exit_early(telemetry):
    """Leaving the block after two chunks closes the response: the span keeps what was received."""
    client = make_client(Recorder(TEXT_CHUNKS))
    with client.chat.completions.with_streaming_response.create(**create_kwargs()) as response:
        stream = response.parse()
        for i, _ in enumerate(stream):
            if i == 1:
                break
        assert telemetry.spans() == []
    check_partial(telemetry, chunks=2)


async def test_async_with_streaming_response(telemetry):
    client = make_client(Recorder(TEXT_CHUNKS), is_async=True)
    async with client.chat.completions.with_streaming_response.create(**create_kwargs()) as response:
        assert response.status_code == 200
        stream = await response.parse()
        assert isinstance(stream, openai.AsyncStream)
        received = [c async for c in stream]
    assert text_of(received) == TEXT
    check_full_text(telemetry)


# -- legacy completions ----------------------------------------------------------------------------

COMPLETION_METRIC_BASE = {
    **METRIC_BASE,
    "gen_ai.operation.name": "text_completion",
    "gen_ai.request.model": INSTRUCT,
}
COMPLETION_ATTRS = {
    **COMPLETION_METRIC_BASE,
    "gen_ai.request.stream": True,
    "gen_ai.request.max_tokens": 16,
    "gen_ai.response.id": COMPLETION_ID,
    "gen_ai.response.model": INSTRUCT,
    "gen_ai.response.finish_reasons": ["stop"],
    "gen_ai.usage.input_tokens": 5,
    "gen_ai.usage.output_tokens": 6,
}


def test_legacy_completions_stream(telemetry):
    client = make_client(Recorder(COMPLETION_CHUNKS))
    stream = client.completions.create(
        model=INSTRUCT,
        prompt="Tell a story",
        max_tokens=16,
        stream=True,
        stream_options={"include_usage": True},
    )
    assert isinstance(stream, openai.Stream)
    received = list(stream)
    assert all(type(c) is Completion for c in received)
    assert "".join(c.choices[0].text for c in received if c.choices) == "\n\nOnce upon a time."
    check_span(telemetry, COMPLETION_ATTRS, name=f"text_completion {INSTRUCT}")
    check_metrics(
        telemetry,
        chunks=len(COMPLETION_CHUNKS),
        input_tokens=5,
        output_tokens=6,
        base=COMPLETION_METRIC_BASE,
        response_model=INSTRUCT,
    )


async def test_async_legacy_completions_stream(telemetry_content):
    client = make_client(Recorder(COMPLETION_CHUNKS), is_async=True)
    stream = await client.completions.create(
        model=INSTRUCT,
        prompt="Tell a story",
        max_tokens=16,
        stream=True,
        stream_options={"include_usage": True},
    )
    async for _ in stream:
        pass
    span = telemetry_content.span()
    check_span(telemetry_content, {
        **COMPLETION_ATTRS,
        "gen_ai.input.messages": span.attributes["gen_ai.input.messages"],
        "gen_ai.output.messages": span.attributes["gen_ai.output.messages"],
    }, name=f"text_completion {INSTRUCT}")  # fmt: skip
    content = validate_content(span.attributes)
    assert content["gen_ai.input.messages"] == [
        {"role": "user", "parts": [{"type": "text", "content": "Tell a story"}]}
    ]
    assert content["gen_ai.output.messages"] == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "\n\nOnce upon a time."}],
            "finish_reason": "stop",
        }
    ]
    check_metrics(
        telemetry_content,
        chunks=len(COMPLETION_CHUNKS),
        input_tokens=5,
        output_tokens=6,
        base=COMPLETION_METRIC_BASE,
        response_model=INSTRUCT,
    )
