"""Failed calls: HTTP errors, retries, timeouts, connection errors and unparseable bodies.

Every failure ends the call's one span as ERROR with ``error.type`` the exception class, records
the exception, and puts ``error.type`` on the duration point. Retries inside the SDK belong to
the one call the user made: one span however many attempts.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from tests.support import Telemetry, assert_call_metrics, http, instrument, json_response, make_client

MODEL = "gpt-4o"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]
REQUEST = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": MODEL,
    "server.address": "api.openai.com",
    "server.port": 443,
    "openai.api.type": "chat_completions",
}
METRIC_ATTRS = {k: v for k, v in REQUEST.items() if k != "openai.api.type"}

CHAT = {
    "id": "chatcmpl-BqW3nZ8kT1yX5vR2pL9mQ4sD7fG0h",
    "object": "chat.completion",
    "created": 1751980000,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "The capital of France is Paris.",
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 24,
        "completion_tokens": 8,
        "total_tokens": 32,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_a288987b44",
}
CHAT_RESPONSE = {
    "gen_ai.response.id": "chatcmpl-BqW3nZ8kT1yX5vR2pL9mQ4sD7fG0h",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.usage.input_tokens": 24,
    "gen_ai.usage.output_tokens": 8,
    "gen_ai.usage.cache_read.input_tokens": 0,
    "gen_ai.usage.reasoning.output_tokens": 0,
    "openai.response.service_tier": "default",
    "openai.response.system_fingerprint": "fp_a288987b44",
}

INVALID_KEY = {
    "error": {
        "message": "Incorrect API key provided: sk-test. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
RATE_LIMITED = {
    "error": {
        "message": "Rate limit reached for gpt-4o in organization org-7QkR2sT9uV1wX3yZ on tokens per min "
        "(TPM): Limit 30000, Used 29990, Requested 45. Please try again in 70ms. Visit "
        "https://platform.openai.com/account/rate-limits to learn more.",
        "type": "tokens",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}
SERVER_ERROR = {
    "error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}


class Server:
    """Answers each attempt with the next response (the last one repeats) and counts attempts."""

    def __init__(self, *answers: Callable[[Any], Any]) -> None:
        self.answers = list(answers)
        self.requests: list[Any] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request)


def status(code: int, body: dict[str, Any], **headers: str) -> Callable[[Any], Any]:
    return lambda request: json_response(body, status=code, headers={"x-request-id": "req_err", **headers})


def ok(request: Any) -> Any:
    return json_response(CHAT)


def raises(exc_type: type[Exception], message: str) -> Callable[[Any], Any]:
    def answer(request: Any) -> Any:
        raise exc_type(message, request=request)

    return answer


def check_failed_span(telemetry: Telemetry, exc: BaseException, error_type: str) -> Any:
    span = telemetry.span()
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == str(exc)
    assert dict(span.attributes) == {**REQUEST, "error.type": error_type}
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == f"{type(exc).__module__}.{type(exc).__qualname__}"
    assert event.attributes["exception.message"] == str(exc)
    assert_call_metrics(telemetry, {**METRIC_ATTRS, "error.type": error_type})
    return span


def chat(client: Any) -> Any:
    return client.chat.completions.create(model=MODEL, messages=MESSAGES)


async def achat(client: Any) -> Any:
    return await client.chat.completions.create(model=MODEL, messages=MESSAGES)


# -- HTTP errors -------------------------------------------------------------------------------


def test_authentication_error(telemetry):
    server = Server(status(401, INVALID_KEY))
    client = make_client(server)

    with pytest.raises(openai.AuthenticationError) as caught:
        chat(client)

    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert len(server.requests) == 1
    check_failed_span(telemetry, caught.value, "AuthenticationError")


async def test_authentication_error_async(telemetry):
    client = make_client(Server(status(401, INVALID_KEY)), is_async=True)

    with pytest.raises(openai.AuthenticationError) as caught:
        await achat(client)

    check_failed_span(telemetry, caught.value, "AuthenticationError")


def test_rate_limit_retried_then_succeeds(telemetry):
    server = Server(
        status(429, RATE_LIMITED, **{"retry-after-ms": "1"}), status(429, RATE_LIMITED, **{"retry-after-ms": "1"}), ok
    )
    client = make_client(server, max_retries=2)

    result = chat(client)

    assert result.choices[0].message.content == "The capital of France is Paris."
    assert [r.headers.get("x-stainless-retry-count") for r in server.requests] == ["0", "1", "2"]
    span = telemetry.span()  # one span for the user's one call, whatever the attempts
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()
    assert dict(span.attributes) == {**REQUEST, **CHAT_RESPONSE}
    assert_call_metrics(
        telemetry, {**METRIC_ATTRS, "gen_ai.response.model": "gpt-4o-2024-08-06"}, input_tokens=24, output_tokens=8
    )


async def test_rate_limit_retried_then_succeeds_async(telemetry):
    server = Server(status(429, RATE_LIMITED, **{"retry-after-ms": "1"}), ok)
    client = make_client(server, is_async=True, max_retries=2)

    await achat(client)

    assert len(server.requests) == 2
    span = telemetry.span()
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {**REQUEST, **CHAT_RESPONSE}


def test_rate_limit_retries_exhausted(telemetry):
    server = Server(status(429, RATE_LIMITED, **{"retry-after-ms": "1"}))
    client = make_client(server, max_retries=2)

    with pytest.raises(openai.RateLimitError) as caught:
        chat(client)

    assert len(server.requests) == 3
    check_failed_span(telemetry, caught.value, "RateLimitError")


def test_internal_server_error(telemetry):
    server = Server(status(500, SERVER_ERROR))
    client = make_client(server)

    with pytest.raises(openai.InternalServerError) as caught:
        chat(client)

    assert caught.value.status_code == 500
    check_failed_span(telemetry, caught.value, "InternalServerError")


def test_bad_request(telemetry):
    body = {
        "error": {
            "message": "Invalid value for 'temperature': expected a number between 0 and 2, got 3.",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "invalid_value",
        }
    }
    client = make_client(Server(status(400, body)))

    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=3)

    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes) == {**REQUEST, "gen_ai.request.temperature": 3, "error.type": "BadRequestError"}
    assert span.status.description == str(caught.value)


# -- transport errors ----------------------------------------------------------------------------


def test_timeout(telemetry):
    server = Server(raises(http.ReadTimeout, "The read operation timed out"))
    client = make_client(server)

    with pytest.raises(openai.APITimeoutError) as caught:
        chat(client)

    assert len(server.requests) == 1
    check_failed_span(telemetry, caught.value, "APITimeoutError")


async def test_timeout_async(telemetry):
    client = make_client(Server(raises(http.ReadTimeout, "The read operation timed out")), is_async=True)

    with pytest.raises(openai.APITimeoutError) as caught:
        await achat(client)

    check_failed_span(telemetry, caught.value, "APITimeoutError")


def test_connection_error(telemetry):
    server = Server(raises(http.ConnectError, "[Errno 111] Connection refused"))
    client = make_client(server)

    with pytest.raises(openai.APIConnectionError) as caught:
        chat(client)

    assert type(caught.value) is openai.APIConnectionError
    check_failed_span(telemetry, caught.value, "APIConnectionError")


async def test_connection_error_async(telemetry):
    client = make_client(Server(raises(http.ConnectError, "[Errno 111] Connection refused")), is_async=True)

    with pytest.raises(openai.APIConnectionError) as caught:
        await achat(client)

    assert type(caught.value) is openai.APIConnectionError
    check_failed_span(telemetry, caught.value, "APIConnectionError")


def test_connection_error_retried_then_succeeds(telemetry):
    server = Server(raises(http.ConnectError, "[Errno 111] Connection refused"), ok)
    client = make_client(server, max_retries=1)

    chat(client)

    assert len(server.requests) == 2
    span = telemetry.span()
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {**REQUEST, **CHAT_RESPONSE}


# -- a body that is not JSON -----------------------------------------------------------------------

TRUNCATED = b'{"id": "chatcmpl-BqW3nZ8kT1yX5vR2pL9mQ4sD7fG0h", "object": "chat.completion", "choices": [{"ind'


def invalid_json(request: Any) -> Any:
    return http.Response(200, headers={"content-type": "application/json"}, content=TRUNCATED)


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """What the user observes: the result (as data) or the exception (type and message)."""
    try:
        result = call()
    except Exception as exc:
        return ("raised", type(exc), str(exc))
    return ("returned", type(result), result.model_dump() if hasattr(result, "model_dump") else result)


def _plain(client: Any) -> Any:
    return chat(client)


def _raw(client: Any) -> Any:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    assert raw.status_code == 200
    return raw.parse()


def _streaming_response(client: Any) -> Any:
    with client.chat.completions.with_streaming_response.create(model=MODEL, messages=MESSAGES) as raw:
        return raw.parse()


@pytest.mark.parametrize("call", [_plain, _raw, _streaming_response], ids=["create", "raw", "streaming_response"])
def test_invalid_json_body_behaves_as_uninstrumented(call, caplog):
    uninstrumented = outcome(lambda: call(make_client(invalid_json)))

    telemetry = Telemetry()
    instrumentor = instrument(telemetry)
    try:
        with caplog.at_level(logging.WARNING):
            instrumented = outcome(lambda: call(make_client(invalid_json)))
            gc.collect()  # proxies that end spans when dropped must not end them again
    finally:
        instrumentor.uninstrument()

    assert instrumented == uninstrumented
    assert "ended span" not in caplog.text  # the SDK warns when end() is called twice
    spans = telemetry.spans()
    assert len(spans) == 1
    span = spans[0]
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    if uninstrumented[0] == "raised":
        error_type = uninstrumented[1].__qualname__
        assert span.status.status_code is StatusCode.ERROR
        assert dict(span.attributes) == {**REQUEST, "error.type": error_type}
        assert [e.name for e in span.events] == ["exception"]
        assert_call_metrics(telemetry, {**METRIC_ATTRS, "error.type": error_type})
    else:
        assert span.status.status_code is StatusCode.UNSET


async def _aplain(client: Any) -> Any:
    return await achat(client)


async def _astreaming_response(client: Any) -> Any:
    async with client.chat.completions.with_streaming_response.create(model=MODEL, messages=MESSAGES) as raw:
        return await raw.parse()


@pytest.mark.parametrize("call", [_aplain, _astreaming_response], ids=["create", "streaming_response"])
async def test_invalid_json_body_async_behaves_as_uninstrumented(call):
    async def run() -> tuple[Any, ...]:
        try:
            result = await call(make_client(invalid_json, is_async=True))
        except Exception as exc:
            return ("raised", type(exc), str(exc))
        return ("returned", result.model_dump())

    uninstrumented = await run()
    telemetry = Telemetry()
    instrumentor = instrument(telemetry)
    try:
        instrumented = await run()
        gc.collect()
    finally:
        instrumentor.uninstrument()

    assert instrumented == uninstrumented
    assert uninstrumented[0] == "raised"
    error_type = uninstrumented[1].__qualname__
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes) == {**REQUEST, "error.type": error_type}
    assert [e.name for e in span.events] == ["exception"]


def test_error_bodies_are_not_captured_as_content(telemetry_content):
    """A failed call still reports its input when capture is on, and no invented output."""
    client = make_client(Server(status(401, INVALID_KEY)))

    with pytest.raises(openai.AuthenticationError):
        chat(client)

    attrs = dict(telemetry_content.span().attributes)
    assert json.loads(attrs.pop("gen_ai.input.messages")) == [
        {"role": "system", "parts": [{"type": "text", "content": "You are a helpful assistant."}]},
        {"role": "user", "parts": [{"type": "text", "content": "What is the capital of France?"}]},
    ]
    assert attrs == {**REQUEST, "error.type": "AuthenticationError"}


# -- a stream cut off mid-way ------------------------------------------------------------------------


def test_stream_interrupted_by_timeout(telemetry):
    """The SDK raises while iterating (3.x wraps it in APITimeoutError, 2.x lets ReadTimeout out)."""
    resp_id = "resp_68af3c9d6f2c8193b0a6d6a0c7e1f2a40f1c1b9c8e7d6a5b"
    msg_id = "msg_68af3c9e1e588193a9f1c1d4b3e2a7f60f1c1b9c8e7d6a5b"
    started = {
        "id": resp_id,
        "object": "response",
        "created_at": 1756314781,
        "status": "in_progress",
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "model": "gpt-4.1-2025-04-14",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": None,
        "metadata": {},
    }
    loc = {"item_id": msg_id, "output_index": 0, "content_index": 0}
    events = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"id": msg_id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"},
        },
        {
            "type": "response.content_part.added",
            **loc,
            "part": {"type": "output_text", "annotations": [], "logprobs": [], "text": ""},
        },
        {"type": "response.output_text.delta", **loc, "delta": "Under a silver moon, ", "logprobs": []},
    ]
    body = b"".join(
        f"event: {e['type']}\ndata: {json.dumps({**e, 'sequence_number': i})}\n\n".encode()
        for i, e in enumerate(events)
    )

    def cut_off(request: Any) -> Any:
        def chunks() -> Any:
            yield body
            raise http.ReadTimeout("The read operation timed out", request=request)

        return http.Response(200, headers={"content-type": "text/event-stream"}, content=chunks())

    client = make_client(cut_off)
    received = []
    with pytest.raises((openai.APITimeoutError, http.ReadTimeout)) as caught:
        for event in client.responses.create(model="gpt-4.1", input="Tell me a story.", stream=True):
            received.append(event.type)

    assert received[-1] == "response.output_text.delta"
    error_type = type(caught.value).__qualname__
    span = telemetry.span()
    assert span.name == "chat gpt-4.1"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.ERROR
    attrs = dict(span.attributes)
    assert attrs.pop("gen_ai.response.time_to_first_chunk") >= 0
    assert attrs == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4.1",
        "server.address": "api.openai.com",
        "server.port": 443,
        "openai.api.type": "responses",
        "gen_ai.request.stream": True,
        "gen_ai.response.id": resp_id,
        "gen_ai.response.model": "gpt-4.1-2025-04-14",
        "error.type": error_type,
    }
    assert [e.name for e in span.events] == ["exception"]
    metric_attrs = {
        **METRIC_ATTRS,
        "gen_ai.request.model": "gpt-4.1",
        "gen_ai.response.model": "gpt-4.1-2025-04-14",
        "error.type": error_type,
    }
    assert_call_metrics(telemetry, metric_attrs, chunks=5)
