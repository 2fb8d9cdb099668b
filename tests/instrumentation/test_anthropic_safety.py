"""A bug in any anthropic hook of ours is logged once, and the user's call returns the SDK's own result.

Each test injects a fault into one of our hooks (the only place tests replace our code: to simulate our
own bugs) and compares what the user gets with the same call made uninstrumented. With the SDK's own
tracing (anthropic >= 1.14), a fault must never leave a call with two spans, the SDK's and ours: a
call that we fail to trace from the start keeps the SDK's span, one that we started keeps ours.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from typing import Any

import anthropic
import pytest

from otel_llm import _safety
from otel_llm.genai.invocation import Invocation
from otel_llm.genai.metrics import GenAIMetrics
from otel_llm.genai.telemetry import GenAITelemetry
from otel_llm.instrumentation import _stainless
from otel_llm.instrumentation.anthropic import messages, patch, response
from otel_llm.instrumentation.anthropic.patch import AnthropicMapping
from otel_llm.instrumentation.anthropic.stream import MessageStreamAccumulator
from tests.anthropic_support import MODEL, NATIVE_TRACING, error_response, make_anthropic_client
from tests.instrumentation.test_anthropic_native import (
    ARGS,
    LOOPBACK,
    MESSAGES,
    NATIVE,
    OURS,
    SYSTEM,
    TRACE_HEADERS,
    Recorder,
)
from tests.support import Telemetry

TOOLS = [
    {
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    }
]


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected otel-llm bug")


# -- each call as a user makes it, giving back everything the user sees ------------------------------


def _create(client: Any) -> Any:
    return client.messages.create(**ARGS, tools=TOOLS).model_dump()


def _create_stream(client: Any) -> Any:
    return [event.model_dump() for event in client.messages.create(**ARGS, stream=True)]


def _stream_helper(client: Any) -> Any:
    with client.messages.stream(**ARGS) as stream:
        events = [event.model_dump() for event in stream]
        return events, stream.get_final_message().model_dump()


def _count_tokens(client: Any) -> Any:
    return client.messages.count_tokens(model=MODEL, messages=MESSAGES, system=SYSTEM).model_dump()


def _raw_create(client: Any) -> Any:
    raw = client.messages.with_raw_response.create(**ARGS)
    return raw.headers.get("request-id"), raw.parse().model_dump()


def _raw_stream(client: Any) -> Any:
    raw = client.messages.with_raw_response.create(**ARGS, stream=True)
    return raw.headers.get("request-id"), [event.model_dump() for event in raw.parse()]


async def _async_create(client: Any) -> Any:
    return (await client.messages.create(**ARGS)).model_dump()


async def _async_stream(client: Any) -> Any:
    return [event.model_dump() async for event in await client.messages.create(**ARGS, stream=True)]


async def _async_stream_helper(client: Any) -> Any:
    async with client.messages.stream(**ARGS) as stream:
        events = [event.model_dump() async for event in stream]
        return events, (await stream.get_final_message()).model_dump()


CALLS: dict[str, tuple[Callable[[Any], Any], bool, str]] = {  # call, is_async, our operation
    "create": (_create, False, "chat"),
    "create_stream": (_create_stream, False, "chat"),
    "stream_helper": (_stream_helper, False, "chat"),
    "count_tokens": (_count_tokens, False, "count_tokens"),
    "raw_create": (_raw_create, False, "chat"),
    "raw_stream": (_raw_stream, False, "chat"),
    "async_create": (_async_create, True, "chat"),
    "async_stream": (_async_stream, True, "chat"),
    "async_stream_helper": (_async_stream_helper, True, "chat"),
}
STREAMS = ["create_stream", "stream_helper", "async_stream", "async_stream_helper"]
NATIVE_NAMES = {"count_tokens": "anthropic.messages.count_tokens"}


def run(name: str, t: Telemetry, handler: Any = None, **kwargs: Any) -> Any:
    """Make call ``name`` with a client whose SDK spans go to ``t`` too."""
    call, is_async, _ = CALLS[name]
    client = make_anthropic_client(handler or Recorder(), telemetry=t, is_async=is_async, **kwargs)
    result = call(client)
    return asyncio.run(result) if is_async else result


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    """What each call gives the user uninstrumented (module scope: made before any test instruments)."""
    return {name: run(name, Telemetry()) for name in CALLS}


def spans_of(t: Telemetry) -> list[tuple[str, str]]:
    gc.collect()  # a stream proxy left unfinished by a fault ends on collection
    return [(s.name, s.instrumentation_scope.name) for s in t.spans()]


def ours(name: str) -> tuple[str, str]:
    return (f"{CALLS[name][2]} {MODEL}", OURS)


def native(name: str) -> tuple[str, str]:
    return (NATIVE_NAMES.get(name, "anthropic.messages.create"), NATIVE)


# -- a fault before our span starts: the call is the SDK's, with the SDK's own span (if it has one) ---------

START_FAULTS = [
    pytest.param(_stainless, "request_attributes", id="endpoint.request_attributes"),
    pytest.param(AnthropicMapping, "request_attributes", id="AnthropicMapping.request_attributes"),
    pytest.param(patch, "beta_features", id="beta_features"),
    pytest.param(patch, "client_telemetry_options", id="client_telemetry_options"),
    pytest.param(AnthropicMapping, "endpoint", id="AnthropicMapping.endpoint"),
    pytest.param(AnthropicMapping, "prepare", id="AnthropicMapping.prepare"),
    pytest.param(_stainless.RequestHook, "begin", id="RequestHook.begin"),
    pytest.param(_stainless.RequestHook, "_server", id="RequestHook._server"),
    pytest.param(GenAITelemetry, "start", id="GenAITelemetry.start"),
    pytest.param(Invocation, "__init__", id="Invocation.__init__"),
]


@pytest.mark.parametrize(("target", "attribute"), START_FAULTS)
@pytest.mark.parametrize("name", ["create", "create_stream", "stream_helper", "count_tokens", "async_create"])
def test_start_fault_leaves_the_call_to_the_sdk(
    atelemetry: Telemetry,
    monkeypatch: pytest.MonkeyPatch,
    expected: dict[str, Any],
    target: Any,
    attribute: str,
    name: str,
) -> None:
    monkeypatch.setattr(target, attribute, _boom)
    assert run(name, atelemetry) == expected[name]
    # Untraced by us; the SDK's own span, where it has one, is the call's one span.
    assert spans_of(atelemetry) == ([native(name)] if NATIVE_TRACING else [])


# -- a fault after our span started: one span, never ours beside the SDK's --------------------------------


@pytest.mark.parametrize("attribute", ["set_span_in_context", "set_value"])
@pytest.mark.parametrize("name", ["create", "create_stream", "async_create"])
def test_fault_after_our_span_started_leaves_one_span(
    atelemetry: Telemetry, monkeypatch: pytest.MonkeyPatch, expected: dict[str, Any], attribute: str, name: str
) -> None:
    monkeypatch.setattr(_stainless, attribute, _boom)
    assert run(name, atelemetry) == expected[name]
    spans = spans_of(atelemetry)
    assert len(spans) == 1, spans  # ours (ended, not left open) or the SDK's, not both
    assert spans[0] in (ours(name), native(name))


def test_propagation_fault_keeps_the_call_and_its_span(
    atelemetry: Telemetry, monkeypatch: pytest.MonkeyPatch, expected: dict[str, Any]
) -> None:
    monkeypatch.setattr(_stainless, "add_trace_headers", _boom)
    recorder = Recorder()
    assert run("create", atelemetry, recorder, base_url=LOOPBACK) == expected["create"]
    assert spans_of(atelemetry) == [ours("create")]
    assert atelemetry.span().attributes["gen_ai.usage.input_tokens"] == 25
    assert recorder.trace_headers() == [set()]  # neither ours nor, the span name being dropped, the SDK's
    assert TRACE_HEADERS.isdisjoint(recorder.headers[0])


# -- a fault while finishing: the SDK's result, our span ended once ------------------------------------


@pytest.mark.parametrize(
    ("name", "target", "attribute"),
    [
        pytest.param("create", response.BY_KIND, "messages", id="BY_KIND[messages]"),
        pytest.param("count_tokens", response.BY_KIND, "count_tokens", id="BY_KIND[count_tokens]"),
        pytest.param("create", response, "set_usage", id="set_usage"),
        pytest.param("create", messages, "output_message", id="output_message"),
        pytest.param("create", AnthropicMapping, "complete", id="AnthropicMapping.complete"),
        pytest.param("create", _stainless.RequestHook, "_finish", id="RequestHook._finish"),
        pytest.param("count_tokens", _stainless.RequestHook, "_finish", id="RequestHook._finish-count"),
        pytest.param("create", GenAIMetrics, "record", id="GenAIMetrics.record"),
        pytest.param("create", Invocation, "_record_content", id="Invocation._record_content"),
        pytest.param("raw_create", response.BY_KIND, "messages", id="raw-BY_KIND[messages]"),
        pytest.param("raw_create", AnthropicMapping, "complete", id="raw-AnthropicMapping.complete"),
        pytest.param("async_create", response.BY_KIND, "messages", id="async-BY_KIND[messages]"),
        pytest.param("async_create", _stainless.RequestHook, "_finish", id="async-RequestHook._finish"),
    ],
)
def test_finish_fault_returns_the_sdks_result_and_ends_our_span(
    atelemetry_content: Telemetry,
    monkeypatch: pytest.MonkeyPatch,
    expected: dict[str, Any],
    name: str,
    target: Any,
    attribute: str,
) -> None:
    if isinstance(target, dict):
        monkeypatch.setitem(target, attribute, _boom)
    else:
        monkeypatch.setattr(target, attribute, _boom)
    assert run(name, atelemetry_content) == expected[name]
    assert spans_of(atelemetry_content) == [ours(name)]
    assert atelemetry_content.span().end_time is not None


def test_finish_fault_keeps_the_sdk_response_type(atelemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(response.BY_KIND, "messages", _boom)
    message = make_anthropic_client(Recorder(), telemetry=atelemetry).messages.create(**ARGS)
    assert type(message) is anthropic.types.Message
    assert message._request_id == "req_011CSHoEeqs5C35K2UUqR7Fy"


# -- a fault in input content: the call and its other facts stay -------------------------------------------


@pytest.mark.parametrize(
    ("target", "attribute"),
    [
        (messages, "input_messages"),
        (messages, "system_instructions"),
        (messages, "tool_definitions"),
        (AnthropicMapping, "input_content"),
    ],
)
def test_input_content_fault_keeps_the_span(
    atelemetry_content: Telemetry,
    monkeypatch: pytest.MonkeyPatch,
    expected: dict[str, Any],
    target: Any,
    attribute: str,
) -> None:
    monkeypatch.setattr(target, attribute, _boom)
    assert run("create", atelemetry_content) == expected["create"]
    assert spans_of(atelemetry_content) == [ours("create")]
    attrs = atelemetry_content.span().attributes
    assert attrs["gen_ai.usage.input_tokens"] == 25
    assert attrs["gen_ai.response.id"] == expected["create"]["id"]
    assert "gen_ai.output.messages" in attrs  # the response side is not affected
    if attribute in ("input_messages", "input_content"):
        assert "gen_ai.input.messages" not in attrs


# -- a fault while streaming: every event reaches the user, one span ---------------------------------


STREAM_FAULTS = [
    (MessageStreamAccumulator, "add"),
    (MessageStreamAccumulator, "apply"),
    (MessageStreamAccumulator, "_merge_usage"),
    (MessageStreamAccumulator, "_delta"),
    (MessageStreamAccumulator, "_content"),
    (MessageStreamAccumulator, "__init__"),
    (AnthropicMapping, "accumulator"),
    (_stainless.RequestHook, "_wrap_stream"),
]


@pytest.mark.parametrize(("target", "attribute"), STREAM_FAULTS)
@pytest.mark.parametrize("name", STREAMS)
def test_stream_fault_yields_every_event(
    atelemetry_content: Telemetry,
    monkeypatch: pytest.MonkeyPatch,
    expected: dict[str, Any],
    target: Any,
    attribute: str,
    name: str,
) -> None:
    monkeypatch.setattr(target, attribute, _boom)
    assert run(name, atelemetry_content) == expected[name]
    assert spans_of(atelemetry_content) == [ours(name)]


@pytest.mark.parametrize(("target", "attribute"), STREAM_FAULTS)
def test_raw_stream_fault_ends_the_span_while_the_response_is_held(
    atelemetry_content: Telemetry,
    monkeypatch: pytest.MonkeyPatch,
    expected: dict[str, Any],
    target: Any,
    attribute: str,
) -> None:
    """A user who keeps the raw response (to read its headers later) has read the whole stream: the call is over."""
    monkeypatch.setattr(target, attribute, _boom)
    client = make_anthropic_client(Recorder(), telemetry=atelemetry_content)
    raw = client.messages.with_raw_response.create(**ARGS, stream=True)
    assert (raw.headers.get("request-id"), [e.model_dump() for e in raw.parse()]) == expected["raw_stream"]
    assert [(s.name, s.instrumentation_scope.name) for s in atelemetry_content.spans()] == [ours("raw_stream")]
    assert raw.headers.get("request-id")  # held until here


# -- a fault while recording a failure: the SDK's error reaches the user -----------------------------------


@pytest.mark.parametrize("name", ["create", "create_stream", "async_create"])
def test_fail_fault_lets_the_sdk_error_through(
    atelemetry: Telemetry, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr(Invocation, "fail", _boom)

    def unauthorized(request: Any) -> Any:
        return error_response(401, "authentication_error", "invalid x-api-key")

    with pytest.raises(anthropic.AuthenticationError) as info:
        run(name, atelemetry, unauthorized)
    assert info.value.status_code == 401
    spans = spans_of(atelemetry)
    assert set(spans) <= {ours(name)} and len(spans) <= 1, spans  # never the SDK's beside ours


# -- reporting ------------------------------------------------------------------------------------------


def test_fault_is_logged_once(
    atelemetry: Telemetry, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_safety, "_reported", set())
    monkeypatch.setitem(response.BY_KIND, "messages", _boom)
    client = make_anthropic_client(Recorder(), telemetry=atelemetry)
    with caplog.at_level(logging.DEBUG, logger="otel_llm"):
        for _ in range(3):
            client.messages.create(**ARGS)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "otel_llm"]
    assert len(warnings) == 1
    assert "anthropic.response" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None
    assert [s.name for s in atelemetry.spans()] == [f"chat {MODEL}"] * 3


def test_start_fault_is_logged_as_anthropic_start(
    atelemetry: Telemetry, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_safety, "_reported", set())
    monkeypatch.setattr(AnthropicMapping, "prepare", _boom)
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        make_anthropic_client(Recorder(), telemetry=atelemetry).messages.create(**ARGS)
    (warning,) = [r for r in caplog.records if r.name == "otel_llm"]
    assert "anthropic.start" in warning.getMessage()
