"""Failed Anthropic calls: HTTP errors, retries, timeouts and connection errors.

Every failure ends the call's one span as ERROR with ``error.type`` the exception class, records
the exception, and puts ``error.type`` on the duration point. Retries inside the SDK belong to
the one call the user made: one span however many attempts. What the user receives is the SDK's
own exception, unchanged.

The error bodies are what api.anthropic.com sends: ``{"type": "error", "error": {"type": ...,
"message": ...}, "request_id": ...}`` with a ``request-id`` header. The exception class of a 529
differs between SDK lines (``OverloadedError`` derives from ``APIStatusError`` in 0.x and 1.x, from
``InternalServerError`` in 2.x), so tests check ``APIStatusError`` and the status code, and expect
``error.type`` to be whatever class the SDK raised.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from tests.anthropic_support import (
    MESSAGE_ID,
    MODEL,
    REQUEST_ID,
    RESPONSE_MODEL,
    ahttp,
    make_anthropic_client,
    message_payload,
    sse_response,
    stream_events,
)
from tests.support import Telemetry, assert_call_metrics

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
METRIC_ATTRS = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": MODEL,
    "server.address": "api.anthropic.com",
    "server.port": 443,
}
REQUEST = {**METRIC_ATTRS, "gen_ai.request.max_tokens": 1024}
MESSAGE_RESPONSE = {
    "gen_ai.response.id": MESSAGE_ID,
    "gen_ai.response.model": RESPONSE_MODEL,
    "gen_ai.response.finish_reasons": ("end_turn",),
    "gen_ai.usage.input_tokens": 25,
    "gen_ai.usage.output_tokens": 12,
    "gen_ai.usage.cache_read.input_tokens": 0,
    "gen_ai.usage.cache_creation.input_tokens": 0,
    "anthropic.usage.cache_creation.ephemeral_5m_input_tokens": 0,
    "anthropic.usage.cache_creation.ephemeral_1h_input_tokens": 0,
    "anthropic.response.service_tier": "standard",
    "anthropic.request.id": REQUEST_ID,
}

OVERLOADED = ("overloaded_error", "Overloaded")
INVALID_REQUEST = ("invalid_request_error", "stop_sequences: each stop sequence must contain non-whitespace")
AUTHENTICATION = ("authentication_error", "invalid x-api-key")
RATE_LIMITED = (
    "rate_limit_error",
    "This request would exceed the rate limit for your organization of 50,000 input tokens per minute.",
)
API_ERROR = ("api_error", "Internal server error")


def error_body(kind: tuple[str, str]) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind[0], "message": kind[1]}, "request_id": REQUEST_ID}


class Server:
    """Answers each attempt with the next answer (the last one repeats) and keeps the requests."""

    def __init__(self, *answers: Callable[[Any], Any]) -> None:
        self.answers = list(answers)
        self.requests: list[Any] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request)

    def retry_counts(self) -> list[str | None]:
        return [r.headers.get("x-stainless-retry-count") for r in self.requests]


def status(code: int, kind: tuple[str, str], **headers: str) -> Callable[[Any], Any]:
    """An error response; ``retry-after-ms: 1`` keeps a retry short (the SDK obeys the header)."""

    def answer(request: Any) -> Any:
        return ahttp.Response(code, json=error_body(kind), headers={"request-id": REQUEST_ID, **headers})

    return answer


def ok(request: Any) -> Any:
    return ahttp.Response(200, json=message_payload(), headers={"request-id": REQUEST_ID})


def ok_stream(request: Any) -> Any:
    return sse_response(stream_events(["Paris."]))


def raises(exc_type: type[Exception], message: str) -> Callable[[Any], Any]:
    def answer(request: Any) -> Any:
        raise exc_type(message, request=request)

    return answer


def chat(client: Any, **extra: Any) -> Any:
    return client.messages.create(model=MODEL, max_tokens=1024, messages=MESSAGES, **extra)


async def achat(client: Any, **extra: Any) -> Any:
    return await client.messages.create(model=MODEL, max_tokens=1024, messages=MESSAGES, **extra)


def check_failed_span(
    telemetry: Telemetry, exc: BaseException, *, request: dict[str, Any] = REQUEST, error_type: str | None = None
) -> Any:
    """One span: ERROR, ``error.type`` the class of ``exc``, one exception event, duration with error.type."""
    error_type = error_type or type(exc).__qualname__
    assert error_type == type(exc).__qualname__
    span = telemetry.span()
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == str(exc)
    assert dict(span.attributes) == {**request, "error.type": error_type}
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == f"{type(exc).__module__}.{type(exc).__qualname__}"
    assert event.attributes["exception.message"] == str(exc)
    assert_call_metrics(telemetry, {**METRIC_ATTRS, "error.type": error_type})
    return span


def check_status_error(exc: Any, code: int, kind: tuple[str, str]) -> None:
    """The SDK's status error, as it builds it from the response."""
    assert isinstance(exc, anthropic.APIStatusError)
    assert exc.status_code == code
    assert exc.body == error_body(kind)
    assert exc.request_id == REQUEST_ID
    assert str(exc) == f"Error code: {code} - {error_body(kind)}"
    assert kind[1] in str(exc)


def check_success(telemetry: Telemetry) -> None:
    span = telemetry.span()  # one span for the user's one call, whatever the attempts
    assert span.name == f"chat {MODEL}"
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()
    assert dict(span.attributes) == {**REQUEST, **MESSAGE_RESPONSE}
    assert_call_metrics(
        telemetry, {**METRIC_ATTRS, "gen_ai.response.model": RESPONSE_MODEL}, input_tokens=25, output_tokens=12
    )


# -- 529 overloaded ------------------------------------------------------------------------------


def test_overloaded(atelemetry):
    server = Server(status(529, OVERLOADED))
    client = make_anthropic_client(server, telemetry=atelemetry)

    with pytest.raises(anthropic.APIStatusError) as caught:
        chat(client)

    check_status_error(caught.value, 529, OVERLOADED)
    assert type(caught.value) is anthropic.OverloadedError
    assert len(server.requests) == 1
    check_failed_span(atelemetry, caught.value, error_type="OverloadedError")


async def test_overloaded_async(atelemetry):
    server = Server(status(529, OVERLOADED))
    client = make_anthropic_client(server, is_async=True, telemetry=atelemetry)

    with pytest.raises(anthropic.APIStatusError) as caught:
        await achat(client)

    check_status_error(caught.value, 529, OVERLOADED)
    assert len(server.requests) == 1
    check_failed_span(atelemetry, caught.value)


def test_overloaded_retried_then_succeeds(atelemetry):
    server = Server(status(529, OVERLOADED, **{"retry-after-ms": "1"}), ok)
    client = make_anthropic_client(server, telemetry=atelemetry, max_retries=1)

    result = chat(client)

    assert result.content[0].text == "Paris."
    assert server.retry_counts() == ["0", "1"]
    check_success(atelemetry)


async def test_overloaded_retried_then_succeeds_async(atelemetry):
    server = Server(status(529, OVERLOADED, **{"retry-after-ms": "1"}), ok)
    client = make_anthropic_client(server, is_async=True, telemetry=atelemetry, max_retries=1)

    result = await achat(client)

    assert result.content[0].text == "Paris."
    assert server.retry_counts() == ["0", "1"]
    check_success(atelemetry)


def test_overloaded_retries_exhausted(atelemetry):
    server = Server(status(529, OVERLOADED, **{"retry-after-ms": "1"}))
    client = make_anthropic_client(server, telemetry=atelemetry, max_retries=2)

    with pytest.raises(anthropic.APIStatusError) as caught:
        chat(client)

    assert server.retry_counts() == ["0", "1", "2"]
    check_status_error(caught.value, 529, OVERLOADED)
    check_failed_span(atelemetry, caught.value)


def test_server_says_do_not_retry(atelemetry):
    server = Server(status(529, OVERLOADED, **{"x-should-retry": "false"}), ok)
    client = make_anthropic_client(server, telemetry=atelemetry, max_retries=2)

    with pytest.raises(anthropic.APIStatusError) as caught:
        chat(client)

    assert len(server.requests) == 1
    check_failed_span(atelemetry, caught.value)


def test_streamed_call_overloaded(atelemetry):
    """A stream refused before its first event: no stream to wrap, no time to first chunk."""
    client = make_anthropic_client(Server(status(529, OVERLOADED)), telemetry=atelemetry)

    with pytest.raises(anthropic.APIStatusError) as caught:
        chat(client, stream=True)

    check_status_error(caught.value, 529, OVERLOADED)
    check_failed_span(atelemetry, caught.value, request={**REQUEST, "gen_ai.request.stream": True})


def test_streamed_call_retried_then_streams(atelemetry):
    server = Server(status(529, OVERLOADED, **{"retry-after-ms": "1"}), ok_stream)
    client = make_anthropic_client(server, telemetry=atelemetry, max_retries=1)

    events = list(chat(client, stream=True))

    assert len(server.requests) == 2
    assert [e.type for e in events][-1] == "message_stop"
    span = atelemetry.span()
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert span.attributes["gen_ai.request.stream"] is True


def test_stream_helper_overloaded(atelemetry):
    client = make_anthropic_client(Server(status(529, OVERLOADED)), telemetry=atelemetry)

    with (
        pytest.raises(anthropic.APIStatusError) as caught,
        client.messages.stream(model=MODEL, max_tokens=1024, messages=MESSAGES),
    ):
        pytest.fail("the helper raises on entering")

    check_status_error(caught.value, 529, OVERLOADED)
    check_failed_span(atelemetry, caught.value, request={**REQUEST, "gen_ai.request.stream": True})


async def test_stream_helper_overloaded_async(atelemetry):
    client = make_anthropic_client(Server(status(529, OVERLOADED)), is_async=True, telemetry=atelemetry)

    with pytest.raises(anthropic.APIStatusError) as caught:
        async with client.messages.stream(model=MODEL, max_tokens=1024, messages=MESSAGES):
            pytest.fail("the helper raises on entering")

    check_failed_span(atelemetry, caught.value, request={**REQUEST, "gen_ai.request.stream": True})


def test_raw_response_overloaded(atelemetry):
    """``with_raw_response`` raises the status error too: no raw response to hand out."""
    client = make_anthropic_client(Server(status(529, OVERLOADED)), telemetry=atelemetry)

    with pytest.raises(anthropic.APIStatusError) as caught:
        client.messages.with_raw_response.create(model=MODEL, max_tokens=1024, messages=MESSAGES)

    check_status_error(caught.value, 529, OVERLOADED)
    check_failed_span(atelemetry, caught.value)


def test_streaming_response_overloaded(atelemetry):
    client = make_anthropic_client(Server(status(529, OVERLOADED)), telemetry=atelemetry)

    with (
        pytest.raises(anthropic.APIStatusError) as caught,
        client.messages.with_streaming_response.create(model=MODEL, max_tokens=1024, messages=MESSAGES),
    ):
        pytest.fail("raises on entering")

    check_failed_span(atelemetry, caught.value)


# -- other HTTP errors -----------------------------------------------------------------------------


def test_bad_request(atelemetry):
    client = make_anthropic_client(Server(status(400, INVALID_REQUEST)), telemetry=atelemetry)

    with pytest.raises(anthropic.BadRequestError) as caught:
        chat(client, stop_sequences=[" "])

    check_status_error(caught.value, 400, INVALID_REQUEST)
    check_failed_span(
        atelemetry,
        caught.value,
        request={**REQUEST, "gen_ai.request.stop_sequences": (" ",)},
        error_type="BadRequestError",
    )


async def test_bad_request_async(atelemetry):
    client = make_anthropic_client(Server(status(400, INVALID_REQUEST)), is_async=True, telemetry=atelemetry)

    with pytest.raises(anthropic.BadRequestError) as caught:
        await achat(client, stop_sequences=[" "])

    check_failed_span(
        atelemetry,
        caught.value,
        request={**REQUEST, "gen_ai.request.stop_sequences": (" ",)},
        error_type="BadRequestError",
    )


def test_authentication_error(atelemetry):
    server = Server(status(401, AUTHENTICATION))
    client = make_anthropic_client(server, telemetry=atelemetry, max_retries=2)

    with pytest.raises(anthropic.AuthenticationError) as caught:
        chat(client)

    assert len(server.requests) == 1  # never retried
    check_status_error(caught.value, 401, AUTHENTICATION)
    check_failed_span(atelemetry, caught.value, error_type="AuthenticationError")


async def test_authentication_error_async(atelemetry):
    client = make_anthropic_client(Server(status(401, AUTHENTICATION)), is_async=True, telemetry=atelemetry)

    with pytest.raises(anthropic.AuthenticationError) as caught:
        await achat(client)

    check_failed_span(atelemetry, caught.value, error_type="AuthenticationError")


def test_rate_limited(atelemetry):
    client = make_anthropic_client(Server(status(429, RATE_LIMITED)), telemetry=atelemetry)

    with pytest.raises(anthropic.RateLimitError) as caught:
        chat(client)

    check_status_error(caught.value, 429, RATE_LIMITED)
    check_failed_span(atelemetry, caught.value, error_type="RateLimitError")


def test_internal_server_error(atelemetry):
    client = make_anthropic_client(Server(status(500, API_ERROR)), telemetry=atelemetry)

    with pytest.raises(anthropic.InternalServerError) as caught:
        chat(client)

    check_status_error(caught.value, 500, API_ERROR)
    check_failed_span(atelemetry, caught.value, error_type="InternalServerError")


def test_count_tokens_error(atelemetry):
    client = make_anthropic_client(Server(status(400, INVALID_REQUEST)), telemetry=atelemetry)

    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.count_tokens(model=MODEL, messages=MESSAGES)

    span = atelemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "BadRequestError"
    assert span.status.description == str(caught.value)
    assert [e.name for e in span.events] == ["exception"]


# -- transport errors ----------------------------------------------------------------------------

READ_TIMEOUT = "The read operation timed out"
REFUSED = "[Errno 111] Connection refused"


def test_timeout(atelemetry):
    server = Server(raises(ahttp.ReadTimeout, READ_TIMEOUT))
    client = make_anthropic_client(server, telemetry=atelemetry)

    with pytest.raises(anthropic.APITimeoutError) as caught:
        chat(client)

    assert type(caught.value) is anthropic.APITimeoutError
    assert isinstance(caught.value.__cause__, ahttp.TimeoutException)
    assert len(server.requests) == 1
    check_failed_span(atelemetry, caught.value, error_type="APITimeoutError")


async def test_timeout_async(atelemetry):
    client = make_anthropic_client(Server(raises(ahttp.ReadTimeout, READ_TIMEOUT)), is_async=True, telemetry=atelemetry)

    with pytest.raises(anthropic.APITimeoutError) as caught:
        await achat(client)

    assert type(caught.value) is anthropic.APITimeoutError
    check_failed_span(atelemetry, caught.value, error_type="APITimeoutError")


def test_streamed_call_timeout(atelemetry):
    client = make_anthropic_client(Server(raises(ahttp.ConnectTimeout, "timed out")), telemetry=atelemetry)

    with pytest.raises(anthropic.APITimeoutError) as caught:
        chat(client, stream=True)

    check_failed_span(
        atelemetry, caught.value, request={**REQUEST, "gen_ai.request.stream": True}, error_type="APITimeoutError"
    )


def test_connection_error(atelemetry):
    server = Server(raises(ahttp.ConnectError, REFUSED))
    client = make_anthropic_client(server, telemetry=atelemetry)

    with pytest.raises(anthropic.APIConnectionError) as caught:
        chat(client)

    assert type(caught.value) is anthropic.APIConnectionError
    assert str(caught.value) == "Connection error."
    check_failed_span(atelemetry, caught.value, error_type="APIConnectionError")


async def test_connection_error_async(atelemetry):
    client = make_anthropic_client(Server(raises(ahttp.ConnectError, REFUSED)), is_async=True, telemetry=atelemetry)

    with pytest.raises(anthropic.APIConnectionError) as caught:
        await achat(client)

    assert type(caught.value) is anthropic.APIConnectionError
    check_failed_span(atelemetry, caught.value, error_type="APIConnectionError")


def test_connection_error_retried_then_succeeds(atelemetry):
    """The SDK backs off about half a second before the retry (no response, so no retry-after)."""
    server = Server(raises(ahttp.ConnectError, REFUSED), ok)
    client = make_anthropic_client(server, telemetry=atelemetry, max_retries=1)

    chat(client)

    assert server.retry_counts() == ["0", "1"]
    check_success(atelemetry)


# -- the user gets what an uninstrumented call gives -------------------------------------------------


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """What the user observes of a failed call: exception type, message, and the error's data."""
    try:
        call()
    except Exception as exc:
        return (
            type(exc),
            str(exc),
            getattr(exc, "status_code", None),
            getattr(exc, "body", None),
            getattr(exc, "request_id", None),
            type(exc.__cause__),
        )
    raise AssertionError("the call did not fail")


FAILURES = {
    "overloaded": lambda: Server(status(529, OVERLOADED)),
    "bad_request": lambda: Server(status(400, INVALID_REQUEST)),
    "authentication": lambda: Server(status(401, AUTHENTICATION)),
    "timeout": lambda: Server(raises(ahttp.ReadTimeout, READ_TIMEOUT)),
    "connection": lambda: Server(raises(ahttp.ConnectError, REFUSED)),
}


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("failure", list(FAILURES))
def test_exception_is_the_uninstrumented_one(atelemetry, failure, stream):
    """Compared with the same call made while instrumentation is suppressed (the hook steps aside).

    The reference client's own SDK spans (anthropic >= 1.14) go to a separate provider.
    """
    reference = Telemetry()
    with suppress_instrumentation():
        expected = outcome(lambda: chat(make_anthropic_client(FAILURES[failure](), telemetry=reference), stream=stream))
    assert atelemetry.spans() == []

    actual = outcome(lambda: chat(make_anthropic_client(FAILURES[failure](), telemetry=atelemetry), stream=stream))

    assert actual == expected
    span = atelemetry.span()
    assert span.attributes["error.type"] == expected[0].__qualname__
    assert span.status.description == expected[1]


def test_error_bodies_are_not_captured_as_content(atelemetry_content):
    """A failed call still reports its input when capture is on, and no invented output."""
    client = make_anthropic_client(Server(status(529, OVERLOADED)), telemetry=atelemetry_content)

    with pytest.raises(anthropic.APIStatusError) as caught:
        chat(client, system="Answer in one word.")

    attrs = dict(atelemetry_content.span().attributes)
    assert json.loads(attrs.pop("gen_ai.input.messages")) == [
        {"role": "user", "parts": [{"type": "text", "content": "What is the capital of France?"}]}
    ]
    assert json.loads(attrs.pop("gen_ai.system_instructions")) == [{"type": "text", "content": "Answer in one word."}]
    assert attrs == {**REQUEST, "error.type": type(caught.value).__qualname__}
