"""Non-streaming Chat Completions through the real openai SDK: span, attributes and metrics.

Content capture is off here (see test_openai_chat_content.py for content). Every test compares
the whole attribute dict, so a missing, extra or mistyped attribute fails.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from otel_llm.instrumentation.openai import OpenAIInstrumentor
from tests.support import (
    Telemetry,
    chat_completion_payload,
    chat_message,
    instrument,
    json_response,
    make_client,
)

USER = [{"role": "user", "content": "What is the capital of France?"}]
ANSWER = "The capital of France is Paris."
PAYLOAD = chat_completion_payload((chat_message(ANSWER), "stop"))
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip


class Server:
    """A mock endpoint answering every request with ``payload`` and keeping the bodies sent."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.bodies: list[dict[str, Any]] = []
        self.active_spans: list[Any] = []  # the current span while the HTTP request is sent

    def __call__(self, request: Any) -> Any:
        assert request.url.path == "/v1/chat/completions"
        self.bodies.append(json.loads(request.content))
        self.active_spans.append(trace.get_current_span().get_span_context())
        return json_response(self.payload)


def request_attrs(model: str = "gpt-4o", **extra: Any) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "server.address": "api.openai.com",
        "server.port": 443,
        "openai.api.type": "chat_completions",
        **extra,
    }


def response_attrs(
    *,
    response_model: str = "gpt-4o-2024-08-06",
    finish_reasons: tuple[str, ...] = ("stop",),
    input_tokens: int = 19,
    output_tokens: int = 10,
    cached: int = 0,
    reasoning: int = 0,
    service_tier: str = "default",
) -> dict[str, Any]:
    return {
        "gen_ai.response.id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "gen_ai.response.model": response_model,
        "gen_ai.response.finish_reasons": finish_reasons,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "gen_ai.usage.cache_read.input_tokens": cached,
        "gen_ai.usage.reasoning.output_tokens": reasoning,
        "openai.response.service_tier": service_tier,
        "openai.response.system_fingerprint": "fp_50cad350e4",
    }


def assert_span(telemetry: Telemetry, expected: dict[str, Any], name: str = "chat gpt-4o") -> None:
    span = telemetry.span()
    assert span.name == name
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.parent is None
    assert span.instrumentation_scope.name == "otel_llm.instrumentation.openai"
    assert dict(span.attributes) == expected
    assert not span.events  # no exception recorded


def assert_metrics(
    telemetry: Telemetry,
    *,
    input_tokens: int | None = 19,
    output_tokens: int | None = 10,
    model: str = "gpt-4o",
    response_model: str | None = "gpt-4o-2024-08-06",
) -> None:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "server.address": "api.openai.com",
        "server.port": 443,
    }
    if response_model is not None:
        attrs["gen_ai.response.model"] = response_model
    metrics = telemetry.metrics()
    (duration,) = metrics.pop("gen_ai.client.operation.duration")
    assert dict(duration.attributes) == attrs
    assert duration.count == 1
    assert 0 < duration.sum < 10
    assert tuple(duration.explicit_bounds) == DURATION_BUCKETS
    usage = {p.attributes["gen_ai.token.type"]: p for p in metrics.pop("gen_ai.client.token.usage", [])}
    expected = {k: v for k, v in (("input", input_tokens), ("output", output_tokens)) if v is not None}
    assert {k: (p.count, p.sum) for k, p in usage.items()} == {k: (1, v) for k, v in expected.items()}
    for kind, point in usage.items():
        assert dict(point.attributes) == {**attrs, "gen_ai.token.type": kind}
        assert tuple(point.explicit_bounds) == TOKEN_BUCKETS
    assert metrics == {}  # no streaming metrics for a plain call


# -- request parameters --------------------------------------------------------------------------


def test_chat_with_sampling_params(telemetry):
    server = Server(PAYLOAD)
    client = make_client(server)
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        temperature=0.7,
        top_p=0.9,
        max_completion_tokens=256,
        frequency_penalty=0.5,
        presence_penalty=-0.25,
        seed=42,
        stop=["\n\n", "END"],
    )
    assert completion.choices[0].message.content == ANSWER
    assert len(server.bodies) == 1
    assert server.active_spans == [telemetry.span().context]  # HTTP spans would nest under ours
    assert not trace.get_current_span().get_span_context().is_valid  # and it is detached after
    assert_span(
        telemetry,
        {
            **request_attrs(
                **{
                    "gen_ai.request.temperature": 0.7,
                    "gen_ai.request.top_p": 0.9,
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.frequency_penalty": 0.5,
                    "gen_ai.request.presence_penalty": -0.25,
                    "gen_ai.request.seed": 42,
                    "gen_ai.request.stop_sequences": ("\n\n", "END"),
                }
            ),
            **response_attrs(),
        },
    )
    assert_metrics(telemetry)
    assert telemetry.events() == []


def test_chat_without_params_has_only_required_request_attributes(telemetry):
    client = make_client(Server(PAYLOAD))
    client.chat.completions.create(model="gpt-4o", messages=USER, n=1, service_tier="auto")
    assert_span(telemetry, {**request_attrs(), **response_attrs()})


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"max_tokens": 100}, 100),
        ({"max_completion_tokens": 200}, 200),
        ({"max_tokens": 100, "max_completion_tokens": 200}, 200),
    ],
)
def test_max_tokens(telemetry, params, expected):
    server = Server(PAYLOAD)
    make_client(server).chat.completions.create(model="gpt-4o", messages=USER, **params)
    assert {k: server.bodies[0][k] for k in params} == params
    assert_span(telemetry, {**request_attrs(**{"gen_ai.request.max_tokens": expected}), **response_attrs()})


@pytest.mark.parametrize(("stop", "expected"), [("END", ("END",)), (["###", "\nUser:"], ("###", "\nUser:"))])
def test_stop_sequences(telemetry, stop, expected):
    make_client(Server(PAYLOAD)).chat.completions.create(model="gpt-4o", messages=USER, stop=stop)
    assert_span(telemetry, {**request_attrs(**{"gen_ai.request.stop_sequences": expected}), **response_attrs()})


def test_n_choices_record_count_and_every_finish_reason(telemetry):
    payload = chat_completion_payload(
        (chat_message("Paris."), "stop"),
        (chat_message("The capital is"), "length"),
        (chat_message("Paris, of course."), "stop"),
        completion_tokens=14,
    )
    completion = make_client(Server(payload)).chat.completions.create(model="gpt-4o", messages=USER, n=3, max_tokens=5)
    assert len(completion.choices) == 3
    expected = {
        **request_attrs(**{"gen_ai.request.max_tokens": 5, "gen_ai.request.choice.count": 3}),
        **response_attrs(finish_reasons=("stop", "length", "stop"), output_tokens=14),
    }
    assert_span(telemetry, expected)
    assert_metrics(telemetry, output_tokens=14)


@pytest.mark.parametrize(
    ("requested", "served", "extra"),
    [
        ("flex", "flex", {"openai.request.service_tier": "flex"}),
        ("priority", "priority", {"openai.request.service_tier": "priority"}),
        ("auto", "default", {}),
    ],
)
def test_service_tier(telemetry, requested, served, extra):
    payload = chat_completion_payload((chat_message(ANSWER), "stop"), service_tier=served)
    server = Server(payload)
    make_client(server).chat.completions.create(model="gpt-4o", messages=USER, service_tier=requested)
    assert server.bodies[0]["service_tier"] == requested
    assert_span(telemetry, {**request_attrs(**extra), **response_attrs(service_tier=served)})


CITY_SCHEMA = {
    "name": "city",
    "strict": True,
    "schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
        "required": ["city", "country"],
        "additionalProperties": False,
    },
}


@pytest.mark.parametrize(
    ("response_format", "output_type"),
    [
        ({"type": "json_schema", "json_schema": CITY_SCHEMA}, "json"),
        ({"type": "json_object"}, "json"),
        ({"type": "text"}, "text"),
    ],
)
def test_response_format_sets_output_type(telemetry, response_format, output_type):
    payload = chat_completion_payload((chat_message('{"city":"Paris","country":"France"}'), "stop"))
    make_client(Server(payload)).chat.completions.create(model="gpt-4o", messages=USER, response_format=response_format)
    assert_span(telemetry, {**request_attrs(**{"gen_ai.output.type": output_type}), **response_attrs()})


def test_cached_and_reasoning_tokens(telemetry):
    payload = chat_completion_payload(
        (chat_message(ANSWER), "stop"),
        model="o4-mini-2025-04-16",
        prompt_tokens=2048,
        cached_tokens=1920,
        completion_tokens=612,
        reasoning_tokens=448,
        system_fingerprint=None,
    )
    make_client(Server(payload)).chat.completions.create(
        model="o4-mini", messages=USER, reasoning_effort="high", max_completion_tokens=4096
    )
    expected = {
        **request_attrs("o4-mini", **{"gen_ai.request.max_tokens": 4096}),
        **response_attrs(
            response_model="o4-mini-2025-04-16",
            input_tokens=2048,
            output_tokens=612,
            cached=1920,
            reasoning=448,
        ),
    }
    del expected["openai.response.system_fingerprint"]  # the API sent null
    assert_span(telemetry, expected, name="chat o4-mini")
    assert_metrics(
        telemetry, input_tokens=2048, output_tokens=612, model="o4-mini", response_model="o4-mini-2025-04-16"
    )


class City(BaseModel):
    city: str
    country: str


def test_parse_with_pydantic_response_format(telemetry):
    payload = chat_completion_payload((chat_message('{"city":"Paris","country":"France"}'), "stop"))
    server = Server(payload)
    completion = make_client(server).chat.completions.parse(
        model="gpt-4o", messages=USER, response_format=City, temperature=0
    )
    assert completion.choices[0].message.parsed == City(city="Paris", country="France")
    assert server.bodies[0]["response_format"]["type"] == "json_schema"
    expected = {
        **request_attrs(**{"gen_ai.request.temperature": 0, "gen_ai.output.type": "json"}),
        **response_attrs(),
    }
    assert_span(telemetry, expected)
    assert_metrics(telemetry)


async def test_async_chat(telemetry):
    server = Server(PAYLOAD)
    client = make_client(server, is_async=True)
    completion = await client.chat.completions.create(model="gpt-4o", messages=USER, temperature=1.2, seed=7)
    assert completion.choices[0].message.content == ANSWER
    assert server.active_spans == [telemetry.span().context]
    assert not trace.get_current_span().get_span_context().is_valid
    expected = {
        **request_attrs(**{"gen_ai.request.temperature": 1.2, "gen_ai.request.seed": 7}),
        **response_attrs(),
    }
    assert_span(telemetry, expected)
    assert_metrics(telemetry)


# -- raw and streamed-body responses -------------------------------------------------------------

FULL = {**request_attrs(**{"gen_ai.request.temperature": 0.2}), **response_attrs()}


def test_with_raw_response_ends_span_before_user_parses(telemetry):
    client = make_client(Server(PAYLOAD))
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=USER, temperature=0.2)
    assert_span(telemetry, FULL)  # already ended with everything, before parse()
    assert raw.headers["x-request-id"] == "req_123"
    completion = raw.parse()
    assert completion.choices[0].message.content == ANSWER
    assert raw.parse() is completion
    assert_span(telemetry, FULL)  # parsing did not add or change a span
    assert_metrics(telemetry)


async def test_async_with_raw_response_ends_span_before_user_parses(telemetry):
    client = make_client(Server(PAYLOAD), is_async=True)
    raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=USER, temperature=0.2)
    assert_span(telemetry, FULL)
    completion = raw.parse()
    assert completion.id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert raw.parse() is completion
    assert_span(telemetry, FULL)
    assert_metrics(telemetry)


def test_with_raw_response_of_parse_helper(telemetry):
    payload = chat_completion_payload((chat_message('{"city":"Paris","country":"France"}'), "stop"))
    client = make_client(Server(payload))
    raw = client.chat.completions.with_raw_response.parse(model="gpt-4o", messages=USER, response_format=City)
    expected = {**request_attrs(**{"gen_ai.output.type": "json"}), **response_attrs()}
    assert_span(telemetry, expected)
    completion = raw.parse()
    assert completion.choices[0].message.parsed == City(city="Paris", country="France")
    assert raw.parse() is completion
    assert_span(telemetry, expected)


def test_with_streaming_response_parse(telemetry):
    client = make_client(Server(PAYLOAD))
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=USER, temperature=0.2
    ) as response:
        assert telemetry.spans() == []  # body not read yet
        completion = response.parse()
        assert completion.choices[0].message.content == ANSWER
        assert response.parse() is completion
        assert_span(telemetry, FULL)  # ended at parse(), inside the block
    assert_span(telemetry, FULL)
    assert_metrics(telemetry)


async def test_async_with_streaming_response_parse(telemetry):
    client = make_client(Server(PAYLOAD), is_async=True)
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=USER, temperature=0.2
    ) as response:
        assert telemetry.spans() == []
        completion = await response.parse()
        assert await response.parse() is completion
        assert_span(telemetry, FULL)
    assert_span(telemetry, FULL)
    assert_metrics(telemetry)


def _read_text(response: Any) -> str:
    return response.text()


def _read_lines(response: Any) -> str:
    return "".join(response.iter_lines())


@pytest.mark.parametrize("read", [_read_text, _read_lines])
def test_with_streaming_response_unparsed_ends_on_exit(telemetry, read):
    client = make_client(Server(PAYLOAD))
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=USER, temperature=0.2
    ) as response:
        assert json.loads(read(response))["id"] == PAYLOAD["id"]
        assert telemetry.spans() == []
    assert_span(telemetry, request_attrs(**{"gen_ai.request.temperature": 0.2}))
    assert_metrics(telemetry, input_tokens=None, output_tokens=None, response_model=None)


@pytest.mark.parametrize("mode", ["text", "iter_lines"])
async def test_async_with_streaming_response_unparsed_ends_on_exit(telemetry, mode):
    client = make_client(Server(PAYLOAD), is_async=True)
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=USER, temperature=0.2
    ) as response:
        if mode == "text":
            body = await response.text()
        else:
            body = "".join([line async for line in response.iter_lines()])
        assert json.loads(body)["model"] == "gpt-4o-2024-08-06"
        assert telemetry.spans() == []
    assert_span(telemetry, request_attrs(**{"gen_ai.request.temperature": 0.2}))
    assert_metrics(telemetry, input_tokens=None, output_tokens=None, response_model=None)


# -- instrumenting and uninstrumenting -----------------------------------------------------------


def test_instrumenting_twice_never_doubles_spans(telemetry):
    other = Telemetry()
    again = OpenAIInstrumentor()
    again.instrument(tracer_provider=other.tracer_provider, meter_provider=other.meter_provider)
    # A second, distinct instance (as after a module reload) must not hook the SDK again either.
    second = object.__new__(OpenAIInstrumentor)
    second.instrument(tracer_provider=other.tracer_provider, meter_provider=other.meter_provider)
    client = make_client(Server(PAYLOAD))
    client.chat.completions.create(model="gpt-4o", messages=USER)
    assert_span(telemetry, {**request_attrs(), **response_attrs()})
    assert other.spans() == []
    assert_metrics(telemetry)
    assert other.metrics() == {}


def test_uninstrument_stops_spans_and_instrument_resumes():
    t = Telemetry()
    instrumentor = instrument(t)
    client = make_client(Server(PAYLOAD))
    client.chat.completions.create(model="gpt-4o", messages=USER)
    assert len(t.spans()) == 1
    instrumentor.uninstrument()
    completion = client.chat.completions.create(model="gpt-4o", messages=USER)
    assert completion.choices[0].message.content == ANSWER
    assert len(t.spans()) == 1
    again = Telemetry()
    instrumentor = instrument(again)
    try:
        client.chat.completions.create(model="gpt-4o", messages=USER)
        assert_span(again, {**request_attrs(), **response_attrs()})
        assert len(t.spans()) == 1
    finally:
        instrumentor.uninstrument()


def test_extra_body_params_are_recorded_as_sent(telemetry):
    server = Server(PAYLOAD)
    client = make_client(server)
    client.chat.completions.create(model="gpt-4o", messages=USER, extra_body={"top_k": 40, "seed": 7})
    assert server.bodies[0]["top_k"] == 40  # the SDK really sent them
    assert_span(
        telemetry,
        {**request_attrs(**{"gen_ai.request.top_k": 40, "gen_ai.request.seed": 7}), **response_attrs()},
    )
