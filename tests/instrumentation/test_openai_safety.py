"""A bug in any hook of ours is logged once and the user's call returns the SDK's own result.

Each test injects a fault into one of our hooks (the only place tests replace our code: to
simulate our own bugs) and compares what the user gets with an uninstrumented call.
"""

from __future__ import annotations

import gc
import json
import logging
from typing import Any

import openai
import pytest

from otel_llm.genai.invocation import Invocation
from otel_llm.genai.metrics import GenAIMetrics
from otel_llm.instrumentation import _stainless
from otel_llm.instrumentation.openai import messages, response
from otel_llm.instrumentation.openai.stream import ChatStreamAccumulator
from tests.support import json_response, make_client, sse, sse_response

CHAT = {
    "id": "chatcmpl-AbC123",
    "object": "chat.completion",
    "created": 1732000000,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 14, "completion_tokens": 2, "total_tokens": 16},
    "system_fingerprint": "fp_831e067d82",
}


def _chunks() -> list[dict[str, Any]]:
    base = {"id": "chatcmpl-S1", "object": "chat.completion.chunk", "created": 1732000001, "model": "gpt-4o-2024-08-06"}
    words = ["The", " capital", " is", " Paris", "."]
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    chunks += [{**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in words]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return chunks


def _handler(request: Any) -> Any:
    body = json.loads(request.content)
    if body.get("stream"):
        return sse_response(sse(_chunks()))
    return json_response(CHAT)


MESSAGES = [{"role": "user", "content": "Capital of France?"}]


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected otel-llm bug")


def _chat(client: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=MESSAGES)


def _stream_texts(client: Any) -> list[str]:
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    return [c.choices[0].delta.content or "" for c in stream]


@pytest.fixture
def expected_chat() -> Any:
    return openai.types.chat.ChatCompletion.model_validate(CHAT).model_dump()


@pytest.mark.parametrize(
    ("target", "name"),
    [
        (_stainless, "request_attributes"),
        (_stainless.RequestHook, "begin"),
        (Invocation, "__init__"),
    ],
)
def test_start_hook_failure_leaves_call_untraced_and_unchanged(
    telemetry: Any, monkeypatch: pytest.MonkeyPatch, expected_chat: Any, target: Any, name: str
) -> None:
    monkeypatch.setattr(target, name, _boom)
    result = _chat(make_client(_handler))
    assert result.model_dump() == expected_chat
    assert telemetry.spans() == []


@pytest.mark.parametrize(
    ("target", "name"),
    [
        (response, "chat_completion"),
        (_stainless.RequestHook, "_finish"),
        (GenAIMetrics, "record"),
        (Invocation, "_record_content"),
    ],
)
def test_finish_hook_failure_returns_sdk_result_and_ends_span(
    telemetry_content: Any, monkeypatch: pytest.MonkeyPatch, expected_chat: Any, target: Any, name: str
) -> None:
    if target is response:
        monkeypatch.setitem(response.BY_KIND, "chat", _boom)
    else:
        monkeypatch.setattr(target, name, _boom)
    result = _chat(make_client(_handler))
    assert isinstance(result, openai.types.chat.ChatCompletion)
    assert result.model_dump() == expected_chat
    span = telemetry_content.span()  # ended exactly once despite the fault
    assert span.name == "chat gpt-4o"
    assert span.end_time is not None


def test_input_content_failure_keeps_span(telemetry_content: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(messages, "chat_input_messages", _boom)
    result = _chat(make_client(_handler))
    assert result.choices[0].message.content == "Paris."
    span = telemetry_content.span()
    assert "gen_ai.input.messages" not in span.attributes
    assert span.attributes["gen_ai.usage.input_tokens"] == 14


@pytest.mark.parametrize(
    ("target", "name"),
    [
        (ChatStreamAccumulator, "add"),
        (ChatStreamAccumulator, "apply"),
        (ChatStreamAccumulator, "_extras"),
        (_stainless.RequestHook, "_wrap_stream"),
    ],
)
def test_stream_hook_failure_yields_every_chunk(
    telemetry: Any, monkeypatch: pytest.MonkeyPatch, target: Any, name: str
) -> None:
    monkeypatch.setattr(target, name, _boom)
    texts = _stream_texts(make_client(_handler))
    assert texts == ["", "The", " capital", " is", " Paris", ".", ""]
    gc.collect()
    spans = telemetry.spans()
    assert len(spans) == 1
    assert spans[0].name == "chat gpt-4o"


def test_fail_hook_failure_lets_the_sdk_error_through(telemetry: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Invocation, "fail", _boom)

    def unauthorized(request: Any) -> Any:
        return json_response(
            {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
            status=401,
        )

    with pytest.raises(openai.AuthenticationError) as info:
        _chat(make_client(unauthorized))
    assert info.value.status_code == 401


async def test_async_finish_hook_failure(telemetry: Any, monkeypatch: pytest.MonkeyPatch, expected_chat: Any) -> None:
    monkeypatch.setitem(response.BY_KIND, "chat", _boom)
    client = make_client(_handler, is_async=True)
    result = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert result.model_dump() == expected_chat
    assert telemetry.span().name == "chat gpt-4o"


def test_failure_is_logged_once(
    telemetry: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from otel_llm import _safety

    monkeypatch.setattr(_safety, "_reported", set())
    monkeypatch.setitem(response.BY_KIND, "chat", _boom)
    client = make_client(_handler)
    with caplog.at_level(logging.DEBUG, logger="otel_llm"):
        for _ in range(3):
            _chat(client)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "otel_llm"]
    assert len(warnings) == 1
    assert "openai.response" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None


def test_failure_after_the_span_started_ends_it_and_lets_the_call_through(
    telemetry: Any, monkeypatch: pytest.MonkeyPatch, expected_chat: Any
) -> None:
    monkeypatch.setattr(_stainless, "set_span_in_context", _boom)
    result = _chat(make_client(_handler))
    assert result.model_dump() == expected_chat
    (span,) = telemetry.spans()  # ended, not left open
    assert span.name == "chat gpt-4o"


def test_propagation_failure_keeps_the_call_and_its_span(
    telemetry: Any, monkeypatch: pytest.MonkeyPatch, expected_chat: Any
) -> None:
    monkeypatch.setattr(_stainless, "add_trace_headers", _boom)
    result = _chat(make_client(_handler, base_url="http://127.0.0.1:8000/v1"))
    assert result.model_dump() == expected_chat
    assert telemetry.span().attributes["gen_ai.usage.input_tokens"] == 14
