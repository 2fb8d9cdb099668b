"""Streamed Anthropic messages through the real anthropic SDK.

Every way a user can consume a stream, sync and async: ``messages.create(stream=True)`` read by
``for``, ``next()``, inside ``with``, stopped early and closed or dropped, ended by closing its
HTTP response; the ``messages.stream(...)`` helper (``text_stream``, events, ``get_final_message``,
``until_done``) and its beta twin; ``with_raw_response`` and ``with_streaming_response``; an
``error`` event sent mid-stream. Each test checks that exactly one span is exported (a span ended
twice would show up twice in the in-memory exporter, and a native SDK span of anthropic >= 1.14
lands in the same exporter), its exact attributes and the GenAI client metrics.

The events follow what api.anthropic.com sends: ``message_start`` carries id, model and the input
side of usage (cache reads and writes counted apart from ``input_tokens``), a ``ping`` after the
first block starts (the SDK drops it: it is not a chunk the user sees), the block deltas,
``message_delta`` with the stop reason and the final usage, and ``message_stop``.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
from typing import Any

import anthropic
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from tests.anthropic_support import (
    ANTHROPIC_VERSION,
    MESSAGE_ID,
    MODEL,
    REQUEST_ID,
    RESPONSE_MODEL,
    ahttp,
    make_anthropic_client,
    sse_body,
    stream_events,
    thinking_block_events,
    tool_use_block_events,
)
from tests.support import assert_call_metrics, validate_content

# -- API-shaped events ---------------------------------------------------------------------------

TEXT_PIECES = ["Hello", "!", " How can I", " help you today?"]
TEXT = "".join(TEXT_PIECES)
INPUT_TOKENS = 25  # uncached
CACHE_READ = 1024
CACHE_CREATION = 200
TOTAL_INPUT = INPUT_TOKENS + CACHE_READ + CACHE_CREATION

TEXT_EVENTS = stream_events(
    TEXT_PIECES,
    input_tokens=INPUT_TOKENS,
    output_tokens=12,
    cache_read=CACHE_READ,
    cache_creation=CACHE_CREATION,
)


def yielded(events: list[dict[str, Any]]) -> int:
    """How many events the SDK hands out: every one but ``ping``."""
    return sum(1 for e in events if e["type"] != "ping")


TEXT_CHUNKS = yielded(TEXT_EVENTS)  # message_start, block start, 4 deltas, block stop, delta, stop

MESSAGES = [{"role": "user", "content": "Say hello."}]
SYSTEM = "You are terse."

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a location.",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}
TOOL_ID = "toolu_01A09q90qw90lq917835lq9"
TOOL_JSON = ['{"loc', 'ation": "Pa', 'ris, FR"}']
TOOL_EVENTS = stream_events(
    ["Let me check."],
    stop_reason="tool_use",
    input_tokens=INPUT_TOKENS,
    output_tokens=48,
    extra_blocks=[tool_use_block_events(TOOL_ID, "get_weather", TOOL_JSON)],
)

THINKING_PIECES = ["The user greets me", "; answer briefly."]


def text_block_events(pieces: list[str]) -> list[dict[str, Any]]:
    """Events of one streamed ``text`` block (for ``stream_events(extra_blocks=...)``)."""
    start = {"type": "content_block_start", "content_block": {"type": "text", "text": ""}}
    deltas = [{"type": "content_block_delta", "delta": {"type": "text_delta", "text": p}} for p in pieces]
    return [start, *deltas, {"type": "content_block_stop"}]


THINKING_EVENTS = stream_events(
    None,
    input_tokens=INPUT_TOKENS,
    output_tokens=64,
    extra_blocks=[thinking_block_events(THINKING_PIECES), text_block_events(TEXT_PIECES)],
)

OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
# start, block start, ping, two deltas, then the error event instead of the rest
ERROR_EVENTS = [*TEXT_EVENTS[:5], OVERLOADED]
ERROR_CHUNKS = yielded(ERROR_EVENTS) - 1  # the error event raises instead of being yielded

# -- expected telemetry ----------------------------------------------------------------------------

TTFC = "gen_ai.response.time_to_first_chunk"
REQUEST_ID_ATTR = "anthropic.request.id"

METRIC_BASE = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": MODEL,
    "server.address": "api.anthropic.com",
    "server.port": 443,
}
METRIC_ATTRS = {**METRIC_BASE, "gen_ai.response.model": RESPONSE_MODEL}
REQUEST_ATTRS = {**METRIC_BASE, "gen_ai.request.max_tokens": 1024, "gen_ai.request.stream": True}


def usage_attrs(
    output_tokens: int, *, input_tokens: int = TOTAL_INPUT, cache_read: int = CACHE_READ, cache: int = CACHE_CREATION
) -> dict[str, Any]:
    return {
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "gen_ai.usage.cache_read.input_tokens": cache_read,
        "gen_ai.usage.cache_creation.input_tokens": cache,
        "anthropic.usage.cache_creation.ephemeral_5m_input_tokens": cache,
        "anthropic.usage.cache_creation.ephemeral_1h_input_tokens": 0,
        "anthropic.response.service_tier": "standard",
    }


IDENTITY_ATTRS = {"gen_ai.response.id": MESSAGE_ID, "gen_ai.response.model": RESPONSE_MODEL}
FULL_TEXT_ATTRS = {
    **REQUEST_ATTRS,
    **IDENTITY_ATTRS,
    "gen_ai.response.finish_reasons": ("end_turn",),
    **usage_attrs(12),
}
# A stream read only past message_start: identity and the usage message_start reported (1 output token).
PARTIAL_ATTRS = {**REQUEST_ATTRS, **IDENTITY_ATTRS, **usage_attrs(1)}


class Recorder:
    """A mock-transport handler answering every request with one SSE body; keeps the requests."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.body = sse_body(events)
        self.requests: list[Any] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        headers = {"content-type": "text/event-stream; charset=utf-8", "request-id": REQUEST_ID}
        return ahttp.Response(200, headers=headers, content=self.body)

    def sent(self) -> dict[str, Any]:
        assert len(self.requests) == 1
        return json.loads(self.requests[0].content)


def tuples(attrs: dict[str, Any]) -> dict[str, Any]:
    """Sequences as the OTel SDK stores them on a span (tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items()}


def check_span(
    telemetry: Any,
    expected: dict[str, Any],
    *,
    status: StatusCode = StatusCode.UNSET,
    description: str | None = None,
) -> Any:
    """Exactly one span; exact name, kind, status and attributes (time to first chunk > 0).

    ``anthropic.request.id`` may be missing here (``test_stream_records_request_id`` requires it);
    when present it must be the response's.
    """
    span = telemetry.span()
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    attrs = dict(span.attributes)
    assert attrs.pop(REQUEST_ID_ATTR, REQUEST_ID) == REQUEST_ID
    ttfc = attrs.pop(TTFC, None)
    assert isinstance(ttfc, float), f"{TTFC} missing: {attrs}"
    assert 0 < ttfc <= (span.end_time - span.start_time) / 1e9
    assert attrs == tuples(expected)
    assert span.status.status_code is status
    if description is not None:
        assert span.status.description == description
    return span


def check_full_text(telemetry: Any, expected: dict[str, Any] = FULL_TEXT_ATTRS) -> Any:
    span = check_span(telemetry, expected)
    assert span.events == ()
    assert_call_metrics(telemetry, METRIC_ATTRS, input_tokens=TOTAL_INPUT, output_tokens=12, chunks=TEXT_CHUNKS)
    return span


def check_partial(telemetry: Any, *, chunks: int) -> Any:
    """A stream the user stopped reading: no stop reason, usage as message_start told it."""
    span = check_span(telemetry, PARTIAL_ATTRS)
    assert span.events == ()
    assert_call_metrics(telemetry, METRIC_ATTRS, input_tokens=TOTAL_INPUT, output_tokens=1, chunks=chunks)
    return span


def create_kwargs(**extra: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 1024, "messages": MESSAGES, "stream": True}
    kwargs.update(extra)
    return kwargs


def stream_kwargs(**extra: Any) -> dict[str, Any]:
    """Arguments of the ``messages.stream(...)`` helper (it sets ``stream`` itself)."""
    kwargs = create_kwargs(**extra)
    del kwargs["stream"]
    return kwargs


def text_of(events: list[Any]) -> str:
    return "".join(
        e.delta.text for e in events if e.type == "content_block_delta" and getattr(e.delta, "type", "") == "text_delta"
    )


async def resolve(value: Any) -> Any:
    """``parse()`` of an async raw response is a coroutine in some SDK lines, plain in others."""
    return await value if inspect.isawaitable(value) else value


# -- messages.create(stream=True), read to the end -----------------------------------------------


def test_for_loop(atelemetry):
    handler = Recorder(TEXT_EVENTS)
    client = make_anthropic_client(handler, telemetry=atelemetry)
    stream = client.messages.create(**create_kwargs())
    assert atelemetry.spans() == []  # nothing ends before the stream is read
    assert trace.get_current_span() is trace.INVALID_SPAN  # the call's context is not left attached
    received = []
    for event in stream:
        received.append(event)
    assert [e.type for e in received] == [e["type"] for e in TEXT_EVENTS if e["type"] != "ping"]
    assert text_of(received) == TEXT
    assert handler.sent()["stream"] is True
    check_full_text(atelemetry)


async def test_async_for_loop(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    stream = await client.messages.create(**create_kwargs())
    assert atelemetry.spans() == []
    received = [e async for e in stream]
    assert len(received) == TEXT_CHUNKS
    assert text_of(received) == TEXT
    check_full_text(atelemetry)


def test_manual_next(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    stream = client.messages.create(**create_kwargs())
    received = []
    while True:
        try:
            received.append(next(stream))
        except StopIteration:
            break
    assert len(received) == TEXT_CHUNKS
    with pytest.raises(StopIteration):
        next(stream)  # asking again does not end the span again
    stream.close()
    check_full_text(atelemetry)


async def test_async_manual_anext(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    stream = await client.messages.create(**create_kwargs())
    received = []
    while True:
        try:
            received.append(await stream.__anext__())
        except StopAsyncIteration:
            break
    assert len(received) == TEXT_CHUNKS
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()
    await stream.close()
    check_full_text(atelemetry)


def test_with_block(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    with client.messages.create(**create_kwargs()) as stream:
        assert stream.__class__ is anthropic.Stream
        received = list(stream)
    assert text_of(received) == TEXT
    check_full_text(atelemetry)


async def test_async_with_block(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    async with await client.messages.create(**create_kwargs()) as stream:
        assert stream.__class__ is anthropic.AsyncStream
        received = [e async for e in stream]
    assert text_of(received) == TEXT
    check_full_text(atelemetry)


def test_stream_is_the_sdk_stream(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    stream = client.messages.create(**create_kwargs())
    assert stream.__class__ is anthropic.Stream
    assert stream.response.status_code == 200
    assert stream.response.headers["request-id"] == REQUEST_ID
    first = next(stream)
    assert type(first) is anthropic.types.RawMessageStartEvent
    assert first.message.id == MESSAGE_ID
    assert first.message.usage.cache_read_input_tokens == CACHE_READ
    rest = list(stream)
    assert type(rest[-2]) is anthropic.types.RawMessageDeltaEvent
    assert rest[-2].delta.stop_reason == "end_turn"
    assert type(rest[-1]) is anthropic.types.RawMessageStopEvent
    check_full_text(atelemetry)


def test_stream_passes_isinstance(atelemetry):
    """``isinstance(stream, anthropic.Stream)`` holds as without instrumentation.

    anthropic 0.x gives ``Stream`` a metaclass whose ``__instancecheck__`` answers False for
    anything but its own ``MessageStream``; only ``type(x) is Stream`` passes before it is asked.
    """
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    stream = client.messages.create(**create_kwargs())
    assert isinstance(stream, anthropic.Stream)
    with stream as entered:
        assert isinstance(entered, anthropic.Stream)
        list(entered)
    check_full_text(atelemetry)


async def test_async_stream_passes_isinstance(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    stream = await client.messages.create(**create_kwargs())
    assert isinstance(stream, anthropic.AsyncStream)
    async for _ in stream:
        pass
    check_full_text(atelemetry)


def test_stream_records_request_id(atelemetry):
    """The request id a plain message records (``anthropic.request.id``) is known for a stream too.

    The accumulator promises "the same facts a plain Message gives"; the ``request-id`` header of
    the streamed response is the same one the SDK puts on a parsed Message's ``_request_id``.
    """
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    stream = client.messages.create(**create_kwargs())
    assert stream.response.headers["request-id"] == REQUEST_ID
    list(stream)
    check_full_text(atelemetry)
    assert atelemetry.span().attributes.get(REQUEST_ID_ATTR) == REQUEST_ID


def test_message_delta_with_output_tokens_only(atelemetry):
    """``message_delta`` usage as the API sent it before 2025 (output only): input comes from message_start."""
    events = [dict(e) for e in TEXT_EVENTS]
    events[-2] = {**events[-2], "usage": {"output_tokens": 12}}
    client = make_anthropic_client(Recorder(events), telemetry=atelemetry)
    assert text_of(list(client.messages.create(**create_kwargs()))) == TEXT
    check_full_text(atelemetry)


def test_stopped_by_max_tokens(atelemetry):
    events = stream_events(TEXT_PIECES, stop_reason="max_tokens", output_tokens=4)
    client = make_anthropic_client(Recorder(events), telemetry=atelemetry)
    list(client.messages.create(**create_kwargs(max_tokens=4)))
    check_span(
        atelemetry,
        {
            **REQUEST_ATTRS,
            **IDENTITY_ATTRS,
            "gen_ai.request.max_tokens": 4,
            "gen_ai.response.finish_reasons": ("max_tokens",),
            **usage_attrs(4, input_tokens=INPUT_TOKENS, cache_read=0, cache=0),
        },
    )
    assert_call_metrics(atelemetry, METRIC_ATTRS, input_tokens=INPUT_TOKENS, output_tokens=4, chunks=yielded(events))


# -- stopping early --------------------------------------------------------------------------------


def test_break_then_close(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    stream = client.messages.create(**create_kwargs())
    for i, _ in enumerate(stream):
        if i == 2:
            break
    assert atelemetry.spans() == []  # still open: the user may go on reading
    stream.close()
    stream.close()
    check_partial(atelemetry, chunks=3)


async def test_async_break_then_close(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    stream = await client.messages.create(**create_kwargs())
    i = 0
    async for _ in stream:
        if i == 2:
            break
        i += 1
    assert atelemetry.spans() == []
    await stream.close()
    await stream.close()
    check_partial(atelemetry, chunks=3)


def test_break_and_drop(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    stream = client.messages.create(**create_kwargs())
    for i, _ in enumerate(stream):
        if i == 1:
            break
    assert atelemetry.spans() == []
    del stream
    gc.collect()
    check_partial(atelemetry, chunks=2)
    gc.collect()
    check_partial(atelemetry, chunks=2)  # still the one span


async def test_async_break_and_drop(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    stream = await client.messages.create(**create_kwargs())
    i = 0
    async for _ in stream:
        if i == 1:
            break
        i += 1
    assert atelemetry.spans() == []
    del stream
    gc.collect()
    # A dropped async generator is closed by the event loop's finalizer (a scheduled aclose()),
    # so the span may end only once the loop has run. On anthropic 0.x (in-place hooking) the SDK's
    # own __aiter__ generator sits in front of ours and is finalised first: a second round is needed.
    for _ in range(5):
        await asyncio.sleep(0)
    if IN_PLACE_STREAMS:
        gc.collect()
        for _ in range(5):
            await asyncio.sleep(0)
    check_partial(atelemetry, chunks=2)
    gc.collect()
    await asyncio.sleep(0)
    check_partial(atelemetry, chunks=2)  # still the one span


def test_drop_after_touching_response(atelemetry):
    """``stream.response`` links a response proxy back to the stream: dropping both still ends once."""
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    stream = client.messages.create(**create_kwargs())
    assert stream.response.status_code == 200
    next(stream)
    del stream
    gc.collect()
    check_partial(atelemetry, chunks=1)


def test_closing_the_response(atelemetry):
    """Closing the stream's HTTP response (as helpers do) ends the span with what was read."""
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    stream = client.messages.create(**create_kwargs())
    next(stream)
    next(stream)
    assert atelemetry.spans() == []
    stream.response.close()
    check_partial(atelemetry, chunks=2)
    stream.close()
    del stream
    gc.collect()
    check_partial(atelemetry, chunks=2)  # still the one span


async def test_async_closing_the_response(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    stream = await client.messages.create(**create_kwargs())
    await stream.__anext__()
    assert atelemetry.spans() == []
    await stream.response.aclose()
    check_partial(atelemetry, chunks=1)
    await stream.close()
    del stream
    gc.collect()
    check_partial(atelemetry, chunks=1)


def test_with_block_break(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    with client.messages.create(**create_kwargs()) as stream:
        for _ in stream:
            break
    check_partial(atelemetry, chunks=1)


class UserError(Exception):
    pass


# anthropic 0.x streams are hooked in place (its Stream metaclass refuses proxies in isinstance()),
# and its Stream.__exit__ does not pass the exception on: the call ends with what was delivered.
IN_PLACE_STREAMS = ANTHROPIC_VERSION < (1, 0)


@pytest.mark.skipif(IN_PLACE_STREAMS, reason="anthropic 0.x: Stream.__exit__ does not pass the exception on")
def test_user_exception_in_with_block(atelemetry):
    """An exception from user code inside ``with`` aborts the call: the span records it."""
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    boom = UserError("consumer failed")
    with pytest.raises(UserError) as raised, client.messages.create(**create_kwargs()) as stream:
        for i, _ in enumerate(stream):
            if i == 1:
                raise boom
    assert raised.value is boom
    span = check_span(
        atelemetry,
        {**PARTIAL_ATTRS, "error.type": "UserError"},
        status=StatusCode.ERROR,
        description="consumer failed",
    )
    assert [e.attributes["exception.message"] for e in span.events] == ["consumer failed"]
    assert_call_metrics(
        atelemetry, {**METRIC_ATTRS, "error.type": "UserError"}, input_tokens=TOTAL_INPUT, output_tokens=1, chunks=2
    )


# -- the messages.stream(...) helper ------------------------------------------------------------------


def test_helper_text_stream(atelemetry):
    handler = Recorder(TEXT_EVENTS)
    client = make_anthropic_client(handler, telemetry=atelemetry)
    with client.messages.stream(**stream_kwargs()) as s:
        assert atelemetry.spans() == []
        text = "".join(s.text_stream)
    assert text == TEXT
    assert handler.sent()["stream"] is True
    check_full_text(atelemetry)


def test_helper_iterate_events(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    with client.messages.stream(**stream_kwargs()) as s:
        events = list(s)
        final = s.get_final_message()
    assert "".join(e.text for e in events if e.type == "text") == TEXT
    assert final.content[0].text == TEXT
    assert final.usage.cache_read_input_tokens == CACHE_READ
    check_full_text(atelemetry)


def test_helper_get_final_message(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    with client.messages.stream(**stream_kwargs()) as s:
        final = s.get_final_message()
        assert len(atelemetry.spans()) == 1  # read to the end: the span is already over
    assert final.id == MESSAGE_ID
    assert final.stop_reason == "end_turn"
    assert final.content[0].text == TEXT
    check_full_text(atelemetry)


def test_helper_get_final_text(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    with client.messages.stream(**stream_kwargs()) as s:
        assert s.get_final_text() == TEXT
    check_full_text(atelemetry)


def test_helper_until_done(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    with client.messages.stream(**stream_kwargs()) as s:
        s.until_done()
        assert s.current_message_snapshot.content[0].text == TEXT
    check_full_text(atelemetry)


def test_helper_close_early(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    with client.messages.stream(**stream_kwargs()) as s:
        for text in s.text_stream:
            if text == "!":
                break
        assert atelemetry.spans() == []
    # message_start, block start, two deltas
    check_partial(atelemetry, chunks=4)


def test_helper_exception_in_block(atelemetry):
    """The helper's manager only calls close(): the span ends once, as a stream closed early."""
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    boom = UserError("stop")
    with pytest.raises(UserError) as raised, client.messages.stream(**stream_kwargs()) as s:
        assert next(iter(s)).type == "message_start"
        raise boom
    assert raised.value is boom
    check_partial(atelemetry, chunks=1)


async def test_async_helper_text_stream(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    async with client.messages.stream(**stream_kwargs()) as s:
        text = "".join([t async for t in s.text_stream])
    assert text == TEXT
    check_full_text(atelemetry)


async def test_async_helper_iterate_events(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    async with client.messages.stream(**stream_kwargs()) as s:
        events = [e async for e in s]
        final = await s.get_final_message()
    assert "".join(e.text for e in events if e.type == "text") == TEXT
    assert final.content[0].text == TEXT
    check_full_text(atelemetry)


async def test_async_helper_get_final_message(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    async with client.messages.stream(**stream_kwargs()) as s:
        final = await s.get_final_message()
    assert final.id == MESSAGE_ID
    assert final.content[0].text == TEXT
    check_full_text(atelemetry)


async def test_async_helper_until_done(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    async with client.messages.stream(**stream_kwargs()) as s:
        await s.until_done()
    check_full_text(atelemetry)


async def test_async_helper_close_early(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    async with client.messages.stream(**stream_kwargs()) as s:
        async for event in s:
            if event.type == "content_block_start":
                break
        assert atelemetry.spans() == []
    check_partial(atelemetry, chunks=2)


BETA = "interleaved-thinking-2025-05-14"
BETA_ATTRS = {**FULL_TEXT_ATTRS, "anthropic.beta": (BETA,)}


def test_beta_helper(atelemetry):
    handler = Recorder(TEXT_EVENTS)
    client = make_anthropic_client(handler, telemetry=atelemetry)
    with client.beta.messages.stream(**stream_kwargs(betas=[BETA])) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == TEXT
    assert final.content[0].text == TEXT
    assert handler.requests[0].headers["anthropic-beta"] == BETA
    check_full_text(atelemetry, BETA_ATTRS)


async def test_async_beta_helper(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    async with client.beta.messages.stream(**stream_kwargs(betas=[BETA])) as s:
        final = await s.get_final_message()
    assert final.content[0].text == TEXT
    check_full_text(atelemetry, BETA_ATTRS)


def test_beta_create_stream(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    received = list(client.beta.messages.create(**create_kwargs(betas=[BETA])))
    assert text_of(received) == TEXT
    check_full_text(atelemetry, BETA_ATTRS)


# -- raw and streaming responses -------------------------------------------------------------------


def test_with_raw_response(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    raw = client.messages.with_raw_response.create(**create_kwargs())
    assert raw.status_code == 200
    assert raw.headers["request-id"] == REQUEST_ID
    stream = raw.parse()
    assert stream.__class__ is anthropic.Stream
    assert raw.parse() is stream  # the SDK caches parse(): one stream, one proxy
    assert atelemetry.spans() == []
    assert text_of(list(stream)) == TEXT
    del raw
    gc.collect()
    check_full_text(atelemetry)


def test_with_raw_response_parse_chained(atelemetry):
    """``create(...).parse()`` drops the raw response at once; the stream is still traced."""
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    stream = client.messages.with_raw_response.create(**create_kwargs()).parse()
    gc.collect()
    assert atelemetry.spans() == [], "span ended before the stream was read"
    assert text_of(list(stream)) == TEXT
    check_full_text(atelemetry)


async def test_async_with_raw_response(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    raw = await client.messages.with_raw_response.create(**create_kwargs())
    assert raw.headers["request-id"] == REQUEST_ID
    stream = await resolve(raw.parse())  # 0.x: the legacy response parses synchronously
    assert stream.__class__ is anthropic.AsyncStream
    assert atelemetry.spans() == []
    assert text_of([e async for e in stream]) == TEXT
    check_full_text(atelemetry)


def test_with_streaming_response(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    with client.messages.with_streaming_response.create(**create_kwargs()) as response:
        assert response.status_code == 200
        assert response.headers["request-id"] == REQUEST_ID
        stream = response.parse()
        assert stream.__class__ is anthropic.Stream
        received = list(stream)
    assert text_of(received) == TEXT
    check_full_text(atelemetry)


def test_with_streaming_response_exit_early(atelemetry):
    """Leaving the block after two events closes the response: the span keeps what was received."""
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    with client.messages.with_streaming_response.create(**create_kwargs()) as response:
        stream = response.parse()
        for i, _ in enumerate(stream):
            if i == 1:
                break
        assert atelemetry.spans() == []
    check_partial(atelemetry, chunks=2)


async def test_async_with_streaming_response(atelemetry):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry)
    async with client.messages.with_streaming_response.create(**create_kwargs()) as response:
        assert response.status_code == 200
        stream = await response.parse()
        assert stream.__class__ is anthropic.AsyncStream
        received = [e async for e in stream]
    assert text_of(received) == TEXT
    check_full_text(atelemetry)


def test_with_raw_response_dropped_unparsed(atelemetry):
    """A raw response never parsed and dropped ends the call with what the request told."""
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    raw = client.messages.with_raw_response.create(**create_kwargs())
    assert raw.headers["request-id"] == REQUEST_ID
    assert atelemetry.spans() == []
    del raw
    gc.collect()
    span = atelemetry.span()
    assert dict(span.attributes) == REQUEST_ATTRS
    assert span.status.status_code is StatusCode.UNSET
    assert_call_metrics(atelemetry, METRIC_BASE)


def test_with_streaming_response_not_parsed(atelemetry):
    """Leaving the block without parsing closes the response: the span ends, no chunk seen."""
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry)
    with client.messages.with_streaming_response.create(**create_kwargs()) as response:
        assert response.status_code == 200
        assert atelemetry.spans() == []
    span = atelemetry.span()
    assert dict(span.attributes) == REQUEST_ATTRS
    assert span.status.status_code is StatusCode.UNSET
    assert_call_metrics(atelemetry, METRIC_BASE)


# -- an error event mid-stream ---------------------------------------------------------------------

ERROR_MESSAGE = str(OVERLOADED)  # the SDK's message: the event's JSON body as a Python dict
ERROR_ATTRS = {**PARTIAL_ATTRS, "error.type": "APIStatusError"}


def check_error_event(telemetry: Any, exc: BaseException) -> None:
    """The SDK raises the status error of a 200 response: ``APIStatusError`` itself."""
    assert type(exc) is anthropic.APIStatusError
    assert exc.status_code == 200
    assert exc.body == OVERLOADED
    assert str(exc) == ERROR_MESSAGE
    span = check_span(telemetry, ERROR_ATTRS, status=StatusCode.ERROR, description=ERROR_MESSAGE)
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "anthropic.APIStatusError"
    assert event.attributes["exception.message"] == ERROR_MESSAGE
    assert_call_metrics(
        telemetry,
        {**METRIC_ATTRS, "error.type": "APIStatusError"},
        input_tokens=TOTAL_INPUT,
        output_tokens=1,
        chunks=ERROR_CHUNKS,
    )


def test_error_event_mid_stream(atelemetry):
    client = make_anthropic_client(Recorder(ERROR_EVENTS), telemetry=atelemetry)
    stream = client.messages.create(**create_kwargs())
    received = []
    with pytest.raises(anthropic.APIStatusError) as raised:
        for event in stream:
            received.append(event)
    assert text_of(received) == "Hello!"
    stream.close()  # closing after the failure changes nothing
    check_error_event(atelemetry, raised.value)


async def test_async_error_event_mid_stream(atelemetry):
    client = make_anthropic_client(Recorder(ERROR_EVENTS), is_async=True, telemetry=atelemetry)
    received = []
    with pytest.raises(anthropic.APIStatusError) as raised:
        async with await client.messages.create(**create_kwargs()) as stream:
            async for event in stream:
                received.append(event)
    assert text_of(received) == "Hello!"
    check_error_event(atelemetry, raised.value)


def test_helper_error_event_mid_stream(atelemetry):
    client = make_anthropic_client(Recorder(ERROR_EVENTS), telemetry=atelemetry)
    texts = []
    with pytest.raises(anthropic.APIStatusError) as raised, client.messages.stream(**stream_kwargs()) as s:
        for text in s.text_stream:
            texts.append(text)
    assert texts == ["Hello", "!"]
    check_error_event(atelemetry, raised.value)


async def test_async_helper_error_event_mid_stream(atelemetry):
    client = make_anthropic_client(Recorder(ERROR_EVENTS), is_async=True, telemetry=atelemetry)
    with pytest.raises(anthropic.APIStatusError) as raised:
        async with client.messages.stream(**stream_kwargs()) as s:
            await s.get_final_message()
    check_error_event(atelemetry, raised.value)


def test_error_event_before_any_event(atelemetry):
    """Overloaded before message_start: nothing was streamed, so no response facts and no chunk timing."""
    client = make_anthropic_client(Recorder([OVERLOADED]), telemetry=atelemetry)
    stream = client.messages.create(**create_kwargs())
    with pytest.raises(anthropic.APIStatusError) as raised:
        next(stream)
    assert raised.value.body == OVERLOADED
    span = atelemetry.span()
    assert dict(span.attributes) == {**REQUEST_ATTRS, REQUEST_ID_ATTR: REQUEST_ID, "error.type": "APIStatusError"}
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == ERROR_MESSAGE
    assert [e.name for e in span.events] == ["exception"]
    assert_call_metrics(atelemetry, {**METRIC_BASE, "error.type": "APIStatusError"})


def test_stream_cut_off_by_timeout(atelemetry):
    """The connection times out mid-body: the SDK raises while iterating (the line decides the class)."""

    def cut_off(request: Any) -> Any:
        def chunks() -> Any:
            yield sse_body(TEXT_EVENTS[:5])
            raise ahttp.ReadTimeout("The read operation timed out", request=request)

        headers = {"content-type": "text/event-stream", "request-id": REQUEST_ID}
        return ahttp.Response(200, headers=headers, content=chunks())

    client = make_anthropic_client(cut_off, telemetry=atelemetry)
    received = []
    with pytest.raises((anthropic.APITimeoutError, ahttp.ReadTimeout)) as raised:
        for event in client.messages.create(**create_kwargs()):
            received.append(event)
    assert text_of(received) == "Hello!"
    error_type = type(raised.value).__qualname__
    span = check_span(
        atelemetry, {**PARTIAL_ATTRS, "error.type": error_type}, status=StatusCode.ERROR, description=str(raised.value)
    )
    assert [e.name for e in span.events] == ["exception"]
    assert_call_metrics(
        atelemetry,
        {**METRIC_ATTRS, "error.type": error_type},
        input_tokens=TOTAL_INPUT,
        output_tokens=1,
        chunks=len(received),
    )


# -- content capture -------------------------------------------------------------------------------

INPUT_MESSAGES = [{"role": "user", "parts": [{"type": "text", "content": "Say hello."}]}]
SYSTEM_INSTRUCTIONS = [{"type": "text", "content": SYSTEM}]
CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
)
TEXT_OUTPUT = [{"role": "assistant", "parts": [{"type": "text", "content": TEXT}], "finish_reason": "stop"}]


def content_of(telemetry: Any, expected: dict[str, Any], *, chunks: int, output_tokens: int, input_tokens: int) -> Any:
    """Check the span with its content attributes present; return them parsed and schema-validated."""
    span = telemetry.span()
    content = {k: span.attributes[k] for k in CONTENT_KEYS if k in span.attributes}
    check_span(telemetry, {**expected, **content})
    assert_call_metrics(telemetry, METRIC_ATTRS, input_tokens=input_tokens, output_tokens=output_tokens, chunks=chunks)
    parsed = validate_content(span.attributes)
    assert set(parsed) == set(content)
    return parsed


def test_text_content(atelemetry_content):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry_content)
    list(client.messages.create(**create_kwargs(system=SYSTEM)))
    content = content_of(
        atelemetry_content, FULL_TEXT_ATTRS, chunks=TEXT_CHUNKS, output_tokens=12, input_tokens=TOTAL_INPUT
    )
    assert content == {
        "gen_ai.input.messages": INPUT_MESSAGES,
        "gen_ai.system_instructions": SYSTEM_INSTRUCTIONS,
        "gen_ai.output.messages": TEXT_OUTPUT,
    }


async def test_async_helper_text_content(atelemetry_content):
    client = make_anthropic_client(Recorder(TEXT_EVENTS), is_async=True, telemetry=atelemetry_content)
    async with client.messages.stream(**stream_kwargs(system=SYSTEM)) as s:
        await s.get_final_message()
    content = content_of(
        atelemetry_content, FULL_TEXT_ATTRS, chunks=TEXT_CHUNKS, output_tokens=12, input_tokens=TOTAL_INPUT
    )
    assert content["gen_ai.output.messages"] == TEXT_OUTPUT


def test_partial_content(atelemetry_content):
    """Closed early: the text received so far, and the message counts as never finished."""
    client = make_anthropic_client(Recorder(TEXT_EVENTS), telemetry=atelemetry_content)
    stream = client.messages.create(**create_kwargs())
    for event in stream:
        if event.type == "content_block_delta" and event.delta.text == "!":
            break
    stream.close()
    content = content_of(atelemetry_content, PARTIAL_ATTRS, chunks=4, output_tokens=1, input_tokens=TOTAL_INPUT)
    assert content["gen_ai.output.messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello!"}], "finish_reason": "error"}
    ]


TOOL_ATTRS = {
    **REQUEST_ATTRS,
    **IDENTITY_ATTRS,
    "gen_ai.response.finish_reasons": ("tool_use",),
    **usage_attrs(48, input_tokens=INPUT_TOKENS, cache_read=0, cache=0),
}
TOOL_OUTPUT = [
    {
        "role": "assistant",
        "parts": [
            {"type": "text", "content": "Let me check."},
            {"type": "tool_call", "id": TOOL_ID, "name": "get_weather", "arguments": {"location": "Paris, FR"}},
        ],
        "finish_reason": "tool_call",
    }
]
TOOL_DEFINITIONS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a location.",
        "parameters": WEATHER_TOOL["input_schema"],
    }
]


def check_tool_content(telemetry: Any) -> None:
    content = content_of(
        telemetry, TOOL_ATTRS, chunks=yielded(TOOL_EVENTS), output_tokens=48, input_tokens=INPUT_TOKENS
    )
    assert content == {
        "gen_ai.input.messages": INPUT_MESSAGES,
        "gen_ai.output.messages": TOOL_OUTPUT,
        "gen_ai.tool.definitions": TOOL_DEFINITIONS,
    }


def test_tool_use_content(atelemetry_content):
    client = make_anthropic_client(Recorder(TOOL_EVENTS), telemetry=atelemetry_content)
    received = list(client.messages.create(**create_kwargs(tools=[WEATHER_TOOL])))
    fragments = [e.delta.partial_json for e in received if e.type == "content_block_delta" and e.index == 1]
    assert fragments == TOOL_JSON
    check_tool_content(atelemetry_content)


def test_helper_tool_use_content(atelemetry_content):
    client = make_anthropic_client(Recorder(TOOL_EVENTS), telemetry=atelemetry_content)
    with client.messages.stream(**stream_kwargs(tools=[WEATHER_TOOL])) as s:
        final = s.get_final_message()
    assert final.content[1].input == {"location": "Paris, FR"}
    check_tool_content(atelemetry_content)


async def test_async_tool_use_content(atelemetry_content):
    client = make_anthropic_client(Recorder(TOOL_EVENTS), is_async=True, telemetry=atelemetry_content)
    stream = await client.messages.create(**create_kwargs(tools=[WEATHER_TOOL]))
    async for _ in stream:
        pass
    check_tool_content(atelemetry_content)


def test_tool_use_without_capture(atelemetry):
    """Content off: the same facts, not a word of content."""
    client = make_anthropic_client(Recorder(TOOL_EVENTS), telemetry=atelemetry)
    list(client.messages.create(**create_kwargs(tools=[WEATHER_TOOL])))
    check_span(atelemetry, TOOL_ATTRS)
    assert_call_metrics(
        atelemetry, METRIC_ATTRS, input_tokens=INPUT_TOKENS, output_tokens=48, chunks=yielded(TOOL_EVENTS)
    )


THINKING = {"type": "enabled", "budget_tokens": 2048}
THINKING_ATTRS = {
    **REQUEST_ATTRS,
    **IDENTITY_ATTRS,
    "anthropic.thinking.type": "enabled",
    "anthropic.thinking.budget_tokens": 2048,
    "gen_ai.response.finish_reasons": ("end_turn",),
    **usage_attrs(64, input_tokens=INPUT_TOKENS, cache_read=0, cache=0),
}
THINKING_OUTPUT = [
    {
        "role": "assistant",
        "parts": [
            {"type": "reasoning", "content": "".join(THINKING_PIECES)},
            {"type": "text", "content": TEXT},
        ],
        "finish_reason": "stop",
    }
]


def test_thinking_content(atelemetry_content):
    client = make_anthropic_client(Recorder(THINKING_EVENTS), telemetry=atelemetry_content)
    received = list(client.messages.create(**create_kwargs(thinking=THINKING)))
    assert [e.delta.type for e in received if e.type == "content_block_delta" and e.index == 0] == [
        "thinking_delta",
        "thinking_delta",
        "signature_delta",
    ]
    content = content_of(
        atelemetry_content, THINKING_ATTRS, chunks=yielded(THINKING_EVENTS), output_tokens=64, input_tokens=INPUT_TOKENS
    )
    assert content == {"gen_ai.input.messages": INPUT_MESSAGES, "gen_ai.output.messages": THINKING_OUTPUT}


async def test_async_helper_thinking_content(atelemetry_content):
    client = make_anthropic_client(Recorder(THINKING_EVENTS), is_async=True, telemetry=atelemetry_content)
    async with client.messages.stream(**stream_kwargs(thinking=THINKING)) as s:
        final = await s.get_final_message()
    assert final.content[0].thinking == "".join(THINKING_PIECES)
    content = content_of(
        atelemetry_content, THINKING_ATTRS, chunks=yielded(THINKING_EVENTS), output_tokens=64, input_tokens=INPUT_TOKENS
    )
    assert content["gen_ai.output.messages"] == THINKING_OUTPUT


def test_with_streaming_response_content(atelemetry_content):
    client = make_anthropic_client(Recorder(TOOL_EVENTS), telemetry=atelemetry_content)
    with client.messages.with_streaming_response.create(**create_kwargs(tools=[WEATHER_TOOL])) as response:
        for _ in response.parse():
            pass
    check_tool_content(atelemetry_content)


def test_partial_tool_use_content(atelemetry_content):
    """Closed inside the tool's JSON: the arguments are the text received, not a parse error."""
    client = make_anthropic_client(Recorder(TOOL_EVENTS), telemetry=atelemetry_content)
    stream = client.messages.create(**create_kwargs(tools=[WEATHER_TOOL]))
    fragments = []
    for event in stream:
        if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
            fragments.append(event.delta.partial_json)
            if len(fragments) == 2:
                break
    stream.close()
    span = atelemetry_content.span()
    assert "gen_ai.response.finish_reasons" not in span.attributes
    output = validate_content(span.attributes)["gen_ai.output.messages"]
    assert output == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Let me check."},
                {"type": "tool_call", "id": TOOL_ID, "name": "get_weather", "arguments": '{"location": "Pa'},
            ],
            "finish_reason": "error",
        }
    ]


def test_max_tokens_content(atelemetry_content):
    events = stream_events(TEXT_PIECES, stop_reason="max_tokens", output_tokens=4)
    client = make_anthropic_client(Recorder(events), telemetry=atelemetry_content)
    with client.messages.stream(**stream_kwargs(max_tokens=4)) as s:
        assert s.get_final_message().stop_reason == "max_tokens"
    output = validate_content(atelemetry_content.span().attributes)["gen_ai.output.messages"]
    assert output == [{"role": "assistant", "parts": [{"type": "text", "content": TEXT}], "finish_reason": "length"}]
