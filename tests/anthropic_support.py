"""Helpers for Anthropic tests: real anthropic clients on a mock transport, and API-shaped payloads.

The anthropic SDK under test is whatever the environment has: 2.x or 1.x (httpx2, with native
tracing from 1.14), or 0.x (httpx, no native tracing). Every client is given the test's tracer
provider for the SDK's own spans too, so a native span that otel-llm failed to replace shows up in
the same exporter and span counts catch duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import pytest

from tests.support import Telemetry

ANTHROPIC_VERSION = tuple(int(p) for p in anthropic.__version__.split(".")[:2])
NATIVE_TRACING = ANTHROPIC_VERSION >= (1, 14)  # the SDK's own OpenTelemetry spans, on by default
if ANTHROPIC_VERSION >= (1, 0):
    import httpx2 as ahttp
else:
    import httpx as ahttp  # type: ignore[no-redef]

MODEL = "claude-sonnet-4-6"
RESPONSE_MODEL = "claude-sonnet-4-6"
MESSAGE_ID = "msg_01XFDUDYJgAACzvnptvVoYEL"
REQUEST_ID = "req_011CSHoEeqs5C35K2UUqR7Fy"
Handler = Callable[[Any], Any]


def instrument_anthropic(telemetry: Telemetry, **kwargs: Any) -> Any:
    from otel_llm.instrumentation.anthropic import AnthropicInstrumentor

    instrumentor = AnthropicInstrumentor()
    kwargs.setdefault("cost", False)  # as tests.support.instrument
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        logger_provider=telemetry.logger_provider,
        **kwargs,
    )
    return instrumentor


@pytest.fixture
def atelemetry() -> Iterator[Telemetry]:
    """Instrumented anthropic with content capture off (the default); no pricing (see tests/conftest.py)."""
    t = Telemetry()
    instrumentor = instrument_anthropic(t)
    yield t
    instrumentor.uninstrument()


@pytest.fixture
def atelemetry_content() -> Iterator[Telemetry]:
    """Instrumented anthropic with content captured on spans."""
    t = Telemetry()
    instrumentor = instrument_anthropic(t, capture_content="SPAN_ONLY")
    yield t
    instrumentor.uninstrument()


def make_anthropic_client(
    handler: Handler,
    *,
    is_async: bool = False,
    telemetry: Telemetry | None = None,
    platform: str | None = None,
    base_url: str | None = None,
    max_retries: int = 0,
    open_telemetry: Any = "test-provider",
    **kwargs: Any,
) -> Any:
    """A real anthropic client whose HTTP goes to ``handler(request) -> response``.

    ``platform`` is None, ``"bedrock"`` or ``"vertex"``. ``open_telemetry`` is the SDK's own option
    (anthropic >= 1.14); by default it points the SDK's spans at ``telemetry``'s provider.
    """
    if is_async:

        async def ahandler(request: Any) -> Any:
            return handler(request)

        http_client = ahttp.AsyncClient(transport=ahttp.MockTransport(ahandler))
    else:
        http_client = ahttp.Client(transport=ahttp.MockTransport(handler))
    common: dict[str, Any] = {"http_client": http_client, "max_retries": max_retries}
    if NATIVE_TRACING:
        if open_telemetry == "test-provider":
            open_telemetry = {"tracer_provider": telemetry.tracer_provider} if telemetry is not None else None
        if open_telemetry is not None:
            common["open_telemetry"] = open_telemetry
    if base_url:
        common["base_url"] = base_url
    common.update(kwargs)
    if platform == "bedrock":
        cls = anthropic.AsyncAnthropicBedrock if is_async else anthropic.AnthropicBedrock
        return cls(aws_region="us-east-1", aws_access_key="AKIAEXAMPLE", aws_secret_key="secret", **common)
    if platform == "vertex":
        cls = anthropic.AsyncAnthropicVertex if is_async else anthropic.AnthropicVertex
        return cls(region="us-east5", project_id="my-project", access_token="ya29.token", **common)
    cls = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
    return cls(api_key="sk-ant-test", **common)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    return ahttp.Response(status, json=payload, headers=headers or {"request-id": REQUEST_ID})


def error_response(status: int, error_type: str, message: str) -> Any:
    body = {"type": "error", "error": {"type": error_type, "message": message}, "request_id": REQUEST_ID}
    return ahttp.Response(status, json=body, headers={"request-id": REQUEST_ID})


def sse_body(events: list[dict[str, Any]]) -> bytes:
    """An SSE body as the Messages API sends it: named events, no [DONE]."""
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def sse_response(events: list[dict[str, Any]]) -> Any:
    return ahttp.Response(
        200, headers={"content-type": "text/event-stream", "request-id": REQUEST_ID}, content=sse_body(events)
    )


def usage(
    input_tokens: int = 25,
    output_tokens: int = 12,
    *,
    cache_read: int = 0,
    cache_creation: int = 0,
    service_tier: str = "standard",
) -> dict[str, Any]:
    """A Messages API ``usage`` object with every field the API sends."""
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_creation, "ephemeral_1h_input_tokens": 0},
        "server_tool_use": None,
        "service_tier": service_tier,
    }


def message_payload(
    content: list[dict[str, Any]] | None = None,
    *,
    stop_reason: str = "end_turn",
    model: str = RESPONSE_MODEL,
    message_id: str = MESSAGE_ID,
    usage_: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A full ``message`` body."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content if content is not None else [{"type": "text", "text": "Paris.", "citations": None}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage_ if usage_ is not None else usage(),
    }


def stream_events(
    texts: list[str] | None = None,
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 25,
    output_tokens: int = 12,
    cache_read: int = 0,
    cache_creation: int = 0,
    extra_blocks: list[list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """The events of a streamed message: start, a text block of ``texts`` deltas, delta, stop.

    ``extra_blocks`` are further blocks, each given as its own list of events without ``index``.
    """
    start_usage = usage(input_tokens, 1, cache_read=cache_read, cache_creation=cache_creation)
    start_message = message_payload([], stop_reason=None, usage_=start_usage)  # type: ignore[arg-type]
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start_message}]
    index = 0
    if texts is not None:
        events.append({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        events.append({"type": "ping"})
        for text in texts:
            events.append({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}})
        events.append({"type": "content_block_stop", "index": 0})
        index = 1
    for block in extra_blocks or ():
        events.extend({**e, "index": index} for e in block)
        index += 1
    final_usage = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "server_tool_use": None,
    }
    events.append(
        {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None}, "usage": final_usage}
    )
    events.append({"type": "message_stop"})
    return events


def tool_use_block_events(tool_id: str, name: str, json_parts: list[str]) -> list[dict[str, Any]]:
    """Events of one streamed ``tool_use`` block (pass to ``stream_events(extra_blocks=...)``)."""
    start = {
        "type": "content_block_start",
        "content_block": {"type": "tool_use", "id": tool_id, "name": name, "input": {}},
    }
    deltas = [
        {"type": "content_block_delta", "delta": {"type": "input_json_delta", "partial_json": p}} for p in json_parts
    ]
    return [start, *deltas, {"type": "content_block_stop"}]


def thinking_block_events(parts: list[str], signature: str = "EqQBCgIYAhIM1gbcDa9GJwZA2b3h") -> list[dict[str, Any]]:
    """Events of one streamed ``thinking`` block."""
    start = {"type": "content_block_start", "content_block": {"type": "thinking", "thinking": "", "signature": ""}}
    deltas = [{"type": "content_block_delta", "delta": {"type": "thinking_delta", "thinking": p}} for p in parts]
    sig = {"type": "content_block_delta", "delta": {"type": "signature_delta", "signature": signature}}
    return [start, *deltas, sig, {"type": "content_block_stop"}]
