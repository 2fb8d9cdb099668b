"""The anthropic SDK's own tracing (anthropic >= 1.14) and ours: one GenAI span per call, whatever the SDK is told.

anthropic 1.14 and later start a span of their own per API call (``anthropic.messages.create``, scope
``com.anthropic.sdk.python``) and send its ``traceparent`` to every host. With otel-llm instrumenting,
a traced call (messages, count_tokens) has exactly one span, ours, under every value of the client's
``open_telemetry`` option and of the ``ANTHROPIC_OPEN_TELEMETRY*`` variables; its trace context goes
only where our policy allows, never where the client's ``propagation: False`` forbids. Other API calls
(``models.list()``) keep the SDK's spans.

Everything runs the real SDK over a mock transport that records what was sent. Clients are given the
test's tracer provider for the SDK's spans too, so a native span that was not replaced is counted.
Settings read from the environment use the global tracer provider, so they run in subprocesses.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.trace import SpanKind

from tests.anthropic_support import (
    MODEL,
    NATIVE_TRACING,
    REQUEST_ID,
    ahttp,
    error_response,
    instrument_anthropic,
    json_response,
    make_anthropic_client,
    message_payload,
    sse_response,
    stream_events,
)
from tests.support import Telemetry

REPO = Path(__file__).resolve().parents[2]
OURS = "otel_llm.instrumentation.anthropic"
NATIVE = "com.anthropic.sdk.python"
TRACE_HEADERS = {"traceparent", "tracestate", "baggage"}
CONTENT_ATTRIBUTES = {
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
}
PROMPT = "What is the capital of France?"
SYSTEM = "Answer in one sentence."
MESSAGES = [{"role": "user", "content": PROMPT}]
LOOPBACK = "http://127.0.0.1:8000"
BETA = "context-1m-2025-08-07"
STREAM_TEXTS = ["The capital", " is Paris."]
COUNT = 14
MODEL_INFO = {
    "type": "model",
    "id": MODEL,
    "display_name": "Claude Sonnet 4.6",
    "created_at": "2026-02-17T00:00:00Z",
}
MODELS_PAGE = {"data": [MODEL_INFO], "has_more": False, "first_id": MODEL, "last_id": MODEL}

needs_native = pytest.mark.skipif(not NATIVE_TRACING, reason="anthropic < 1.14 has no tracing of its own")
needs_option = pytest.mark.skipif(not NATIVE_TRACING, reason="anthropic < 1.14 has no open_telemetry option")


class Recorder:
    """A mock Anthropic API that answers like the real one and keeps every request's path and headers."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append((request.method, request.url.path, {k.lower(): v for k, v in request.headers.items()}))
        path = request.url.path
        if path == "/v1/messages/count_tokens" or path.endswith("/count-tokens:rawPredict"):  # Vertex's URL
            return json_response({"input_tokens": COUNT})
        if path == "/v1/models":
            return json_response(MODELS_PAGE)
        if path == f"/v1/models/{MODEL}":
            return json_response(MODEL_INFO)
        if request.method == "POST":  # /v1/messages, or Bedrock's and Vertex's URLs for it
            if json.loads(request.content).get("stream"):
                return sse_response(stream_events(STREAM_TEXTS))
            return json_response(message_payload())
        return error_response(404, "not_found_error", f"Not found: {path}")

    @property
    def headers(self) -> list[dict[str, str]]:
        return [h for _, _, h in self.requests]

    def trace_headers(self) -> list[set[str]]:
        """The trace headers of each request sent."""
        return [TRACE_HEADERS & set(h) for h in self.headers]

    def traceparents(self) -> list[tuple[int, int]]:
        """``(trace id, parent span id)`` of each request; fails if one has no ``traceparent``."""
        return [traceparent_ids(h["traceparent"]) for h in self.headers]


def traceparent_ids(value: str) -> tuple[int, int]:
    _version, trace_id, span_id, _flags = value.split("-")
    return int(trace_id, 16), int(span_id, 16)


# -- the calls, each as a user makes it --------------------------------------------------------------

ARGS: dict[str, Any] = {"model": MODEL, "max_tokens": 256, "messages": MESSAGES, "system": SYSTEM}


def _create(client: Any) -> Any:
    return client.messages.create(**ARGS).content[0].text


def _create_stream(client: Any) -> Any:
    events = client.messages.create(**ARGS, stream=True)
    return "".join(e.delta.text for e in events if e.type == "content_block_delta")


def _stream_helper(client: Any) -> Any:
    with client.messages.stream(**ARGS) as stream:
        return stream.get_final_text()


def _count_tokens(client: Any) -> Any:
    return client.messages.count_tokens(model=MODEL, messages=MESSAGES, system=SYSTEM).input_tokens


def _beta_create(client: Any) -> Any:
    return client.beta.messages.create(**ARGS, betas=[BETA]).content[0].text


def _raw_create(client: Any) -> Any:
    return client.messages.with_raw_response.create(**ARGS).parse().content[0].text


async def _async_create(client: Any) -> Any:
    return (await client.messages.create(**ARGS)).content[0].text


async def _async_stream_helper(client: Any) -> Any:
    async with client.messages.stream(**ARGS) as stream:
        return await stream.get_final_text()


@dataclass(frozen=True)
class Call:
    run: Callable[[Any], Any]
    is_async: bool
    operation: str  # ours: the span is "{operation} {model}"
    native: str  # the SDK's own span name
    expected: Any  # what the user gets

    @property
    def span_name(self) -> str:
        return f"{self.operation} {MODEL}"


_CHAT, _COUNT = "anthropic.messages.create", "anthropic.messages.count_tokens"
CALLS: dict[str, Call] = {
    "create": Call(_create, False, "chat", _CHAT, "Paris."),
    "create_stream": Call(_create_stream, False, "chat", _CHAT, "".join(STREAM_TEXTS)),
    "stream_helper": Call(_stream_helper, False, "chat", _CHAT, "".join(STREAM_TEXTS)),
    "count_tokens": Call(_count_tokens, False, "count_tokens", _COUNT, COUNT),
    "beta_create": Call(_beta_create, False, "chat", _CHAT, "Paris."),
    "raw_create": Call(_raw_create, False, "chat", _CHAT, "Paris."),
    "async_create": Call(_async_create, True, "chat", _CHAT, "Paris."),
    "async_stream_helper": Call(_async_stream_helper, True, "chat", _CHAT, "".join(STREAM_TEXTS)),
}


def run_call(call: Call, client: Any) -> Any:
    result = call.run(client)
    return asyncio.run(result) if call.is_async else result


# The client's ``open_telemetry`` option, given the test's tracer provider (so native spans are counted).
SETTINGS: dict[str, Callable[[Any], Any]] = {
    "sdk-default": lambda tp: {"tracer_provider": tp},
    "open_telemetry=False": lambda tp: False,
    "traces.enabled=False": lambda tp: {"tracer_provider": tp, "traces": {"enabled": False}},
    "content_mode=content": lambda tp: {"tracer_provider": tp, "traces": {"content_mode": "content"}},
    "propagation=False": lambda tp: {"tracer_provider": tp, "propagation": False},
}
SETTING_PARAMS = [pytest.param(name, marks=() if name == "sdk-default" else needs_option, id=name) for name in SETTINGS]
PROPAGATES = {name: name != "propagation=False" for name in SETTINGS}


def client_for(
    handler: Any, t: Telemetry, setting: str = "sdk-default", *, is_async: bool = False, **kwargs: Any
) -> Any:
    return make_anthropic_client(
        handler, telemetry=t, is_async=is_async, open_telemetry=SETTINGS[setting](t.tracer_provider), **kwargs
    )


def the_span(t: Telemetry, call: Call) -> Any:
    """Our one span of ``call``: fails on a native span beside it, or on none."""
    spans = t.spans()
    assert [(s.name, s.instrumentation_scope.name) for s in spans] == [(call.span_name, OURS)]
    return spans[0]


def assert_no_content(span: Any) -> None:
    assert CONTENT_ATTRIBUTES.isdisjoint(span.attributes), sorted(span.attributes)
    for key, value in span.attributes.items():  # under no other name either
        assert PROMPT not in str(value) and "Paris" not in str(value), key


# -- without our instrumentation: what the SDK does on its own ---------------------------------------


@needs_native
@pytest.mark.parametrize("name", CALLS)
def test_without_instrumentation_the_sdk_traces_and_propagates_itself(name: str) -> None:
    """The premise of everything below: an uninstrumented call has the SDK's span and sends its traceparent."""
    call, t, recorder = CALLS[name], Telemetry(), Recorder()
    assert run_call(call, client_for(recorder, t, is_async=call.is_async)) == call.expected
    spans = t.spans()
    assert [(s.name, s.instrumentation_scope.name) for s in spans] == [(call.native, NATIVE)]
    assert recorder.traceparents() == [(spans[0].context.trace_id, spans[0].context.span_id)]


@needs_native
def test_uninstrument_gives_the_sdk_its_own_spans_back() -> None:
    call, t, recorder = CALLS["create"], Telemetry(), Recorder()
    client = client_for(recorder, t)
    instrumentor = instrument_anthropic(t)
    try:
        run_call(call, client)
    finally:
        instrumentor.uninstrument()
    run_call(call, client)
    assert [(s.name, s.instrumentation_scope.name) for s in t.spans()] == [(call.span_name, OURS), (_CHAT, NATIVE)]
    assert recorder.trace_headers() == [set(), {"traceparent"}]


# -- with our instrumentation: one span, ours, under every setting of the SDK ------------------------


@pytest.mark.parametrize("setting", SETTING_PARAMS)
@pytest.mark.parametrize("name", CALLS)
def test_one_span_ours_and_no_headers_to_the_public_api(atelemetry: Telemetry, name: str, setting: str) -> None:
    call, recorder = CALLS[name], Recorder()
    assert run_call(call, client_for(recorder, atelemetry, setting, is_async=call.is_async)) == call.expected
    span = the_span(atelemetry, call)
    assert span.kind is SpanKind.CLIENT
    assert span.parent is None
    attrs = span.attributes
    assert attrs["gen_ai.operation.name"] == call.operation
    assert attrs["gen_ai.provider.name"] == "anthropic"
    assert attrs["gen_ai.request.model"] == MODEL
    assert attrs["server.address"] == "api.anthropic.com"
    assert_no_content(span)  # our capture is off, whatever the SDK's content mode
    if name == "beta_create":
        assert list(attrs["anthropic.beta"]) == [BETA]
    # api.anthropic.com is outside the default policy: nothing, although the SDK itself would send a traceparent.
    assert recorder.trace_headers() == [set()] * len(recorder.requests)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("setting", SETTING_PARAMS)
@pytest.mark.parametrize("name", CALLS)
def test_self_hosted_server_gets_our_span_unless_the_client_forbids(
    atelemetry: Telemetry, name: str, setting: str
) -> None:
    call, recorder = CALLS[name], Recorder()
    client = client_for(recorder, atelemetry, setting, is_async=call.is_async, base_url=LOOPBACK)
    assert run_call(call, client) == call.expected
    span = the_span(atelemetry, call)
    assert span.attributes["server.address"] == "127.0.0.1"
    if PROPAGATES[setting]:
        assert recorder.traceparents() == [(span.context.trace_id, span.context.span_id)]
    else:  # the client's `propagation: False` holds for our span too
        assert recorder.trace_headers() == [set()]


@needs_option
def test_the_clients_tracer_provider_is_not_used_for_our_span(atelemetry: Telemetry) -> None:
    """Our span goes to the provider given to instrument(); the client's goes on serving the SDK's own spans."""
    elsewhere = Telemetry()
    client = client_for(Recorder(), elsewhere)
    run_call(CALLS["create"], client)
    client.models.list()
    assert [(s.name, s.instrumentation_scope.name) for s in atelemetry.spans()] == [(f"chat {MODEL}", OURS)]
    assert [(s.name, s.instrumentation_scope.name) for s in elsewhere.spans()] == [("anthropic.models.list", NATIVE)]


PLATFORMS = {
    "bedrock": ("aws.bedrock", "bedrock-runtime.us-east-1.amazonaws.com"),
    "vertex": ("gcp.vertex_ai", "us-east5-aiplatform.googleapis.com"),
}


# Bedrock streams in AWS's binary event-stream format, which the mock does not speak; the
# SDK sends count_tokens to Vertex only.
@pytest.mark.parametrize(
    ("platform", "name"),
    [
        ("bedrock", "create"),
        ("bedrock", "async_create"),
        ("vertex", "create"),
        ("vertex", "create_stream"),
        ("vertex", "count_tokens"),
        ("vertex", "async_create"),
    ],
)
def test_platform_clients_have_one_span_ours(atelemetry: Telemetry, platform: str, name: str) -> None:
    call, recorder = CALLS[name], Recorder()
    provider, host = PLATFORMS[platform]
    client = make_anthropic_client(recorder, telemetry=atelemetry, platform=platform, is_async=call.is_async)
    assert run_call(call, client) == call.expected
    span = the_span(atelemetry, call)
    assert span.attributes["gen_ai.provider.name"] == provider
    assert span.attributes["server.address"] == host
    assert recorder.trace_headers() == [set()]


@needs_native
@pytest.mark.parametrize("platform", ["bedrock", "vertex"])
def test_platform_clients_trace_natively_without_instrumentation(platform: str) -> None:
    t, recorder = Telemetry(), Recorder()
    run_call(CALLS["create"], make_anthropic_client(recorder, telemetry=t, platform=platform))
    (span,) = t.spans()
    assert (span.name, span.instrumentation_scope.name) == (_CHAT, f"{NATIVE}.{platform}")
    assert recorder.traceparents() == [(span.context.trace_id, span.context.span_id)]


# -- content: our capture setting governs, the SDK's content mode cannot widen it --------------------


@needs_option
@pytest.mark.parametrize("name", ["create", "create_stream", "stream_helper", "async_create"])
def test_sdk_content_mode_does_not_capture_content_on_our_span(atelemetry: Telemetry, name: str) -> None:
    call = CALLS[name]
    run_call(call, client_for(Recorder(), atelemetry, "content_mode=content", is_async=call.is_async))
    assert_no_content(the_span(atelemetry, call))


@pytest.mark.parametrize("setting", ["sdk-default", pytest.param("open_telemetry=False", marks=needs_option)])
def test_our_capture_setting_records_content_whatever_the_sdk_says(atelemetry_content: Telemetry, setting: str) -> None:
    call = CALLS["create"]
    run_call(call, client_for(Recorder(), atelemetry_content, setting))
    attrs = the_span(atelemetry_content, call).attributes
    assert json.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}
    ]
    assert json.loads(attrs["gen_ai.system_instructions"]) == [{"type": "text", "content": SYSTEM}]
    output = json.loads(attrs["gen_ai.output.messages"])
    assert output[0]["role"] == "assistant"
    assert output[0]["parts"] == [{"type": "text", "content": "Paris."}]


# -- propagation ------------------------------------------------------------------------------------


@pytest.fixture
def user_span(atelemetry: Telemetry) -> Iterator[Any]:
    """An active span of the application's own, as a web framework's instrumentation would leave it."""
    tracer = atelemetry.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("handle request", kind=SpanKind.SERVER) as span:
        yield span


@pytest.mark.parametrize("name", ["create", "create_stream", "async_create"])
def test_public_api_gets_no_trace_headers_inside_a_user_span(atelemetry: Telemetry, user_span: Any, name: str) -> None:
    call, recorder = CALLS[name], Recorder()
    run_call(call, client_for(recorder, atelemetry, is_async=call.is_async))
    span = the_span(atelemetry, call)
    assert span.parent is not None and span.parent.span_id == user_span.get_span_context().span_id
    assert span.context.trace_id == user_span.get_span_context().trace_id
    assert recorder.trace_headers() == [set()]


@pytest.mark.parametrize("base_url", [LOOPBACK, "http://vllm:8000", "http://10.0.0.7:8000"])
@pytest.mark.parametrize("name", ["create", "create_stream", "count_tokens", "async_create"])
def test_self_hosted_server_joins_the_users_trace_under_our_span(
    atelemetry: Telemetry, user_span: Any, name: str, base_url: str
) -> None:
    call, recorder = CALLS[name], Recorder()
    run_call(call, client_for(recorder, atelemetry, is_async=call.is_async, base_url=base_url))
    span = the_span(atelemetry, call)
    assert span.parent.span_id == user_span.get_span_context().span_id
    assert recorder.traceparents() == [(user_span.get_span_context().trace_id, span.context.span_id)]


@needs_option
@pytest.mark.parametrize("name", ["create", "create_stream", "stream_helper", "count_tokens", "async_create"])
def test_propagation_false_sends_no_trace_headers_even_inside_a_user_span(
    atelemetry: Telemetry, user_span: Any, name: str
) -> None:
    call, recorder = CALLS[name], Recorder()
    run_call(call, client_for(recorder, atelemetry, "propagation=False", is_async=call.is_async, base_url=LOOPBACK))
    span = the_span(atelemetry, call)
    assert span.parent.span_id == user_span.get_span_context().span_id  # still one trace here
    assert recorder.trace_headers() == [set()]


@pytest.mark.parametrize("how", ["environment", "argument"])
def test_propagate_to_everything_reaches_the_public_api(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    t = Telemetry()
    if how == "environment":
        monkeypatch.setenv("OTEL_LLM_PROPAGATE_TO", "*")
        instrumentor = instrument_anthropic(t)
    else:
        monkeypatch.delenv("OTEL_LLM_PROPAGATE_TO", raising=False)
        instrumentor = instrument_anthropic(t, propagate_to="*")
    try:
        recorder, forbidding = Recorder(), Recorder()
        run_call(CALLS["create"], client_for(recorder, t))
        (span,) = t.spans()
        assert span.instrumentation_scope.name == OURS
        assert recorder.traceparents() == [(span.context.trace_id, span.context.span_id)]
        if NATIVE_TRACING:  # the client's own `propagation: False` still wins
            run_call(CALLS["create"], client_for(forbidding, t, "propagation=False"))
            assert forbidding.trace_headers() == [set()]
            assert [s.instrumentation_scope.name for s in t.spans()] == [OURS, OURS]
    finally:
        instrumentor.uninstrument()


def test_retries_to_a_self_hosted_server_all_carry_our_span(atelemetry: Telemetry) -> None:
    recorder = Recorder()

    def overloaded_once(request: Any) -> Any:
        response = recorder(request)
        if len(recorder.requests) == 1:
            body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
            return ahttp.Response(529, json=body, headers={"request-id": REQUEST_ID, "retry-after-ms": "1"})
        return response

    client = client_for(overloaded_once, atelemetry, base_url=LOOPBACK, max_retries=1)
    assert run_call(CALLS["create"], client) == "Paris."
    span = the_span(atelemetry, CALLS["create"])
    assert recorder.traceparents() == [(span.context.trace_id, span.context.span_id)] * 2


@pytest.mark.parametrize("base_url", [None, LOOPBACK])
def test_callers_own_traceparent_is_sent_as_given(atelemetry: Telemetry, base_url: str | None) -> None:
    mine = "00-11111111111111111111111111111111-2222222222222222-01"
    recorder = Recorder()
    client_for(recorder, atelemetry, base_url=base_url).messages.create(**ARGS, extra_headers={"traceparent": mine})
    the_span(atelemetry, CALLS["create"])
    assert recorder.headers[0]["traceparent"] == mine


# -- the client's conversation ID --------------------------------------------------------------------


@needs_option
@pytest.mark.parametrize("name", ["create", "create_stream", "stream_helper", "async_create"])
def test_conversation_id_option_becomes_the_conversation_attribute(atelemetry: Telemetry, name: str) -> None:
    call = CALLS[name]
    option = {"tracer_provider": atelemetry.tracer_provider, "conversation_id": "conv_01HZ3V"}
    client = make_anthropic_client(Recorder(), is_async=call.is_async, open_telemetry=option)
    run_call(call, client)
    assert the_span(atelemetry, call).attributes["gen_ai.conversation.id"] == "conv_01HZ3V"


@needs_option
def test_conversation_id_of_a_copied_client(atelemetry: Telemetry) -> None:
    """The SDK's documented way: ``client.with_options(open_telemetry={**client.open_telemetry, ...})``."""
    client = client_for(Recorder(), atelemetry)
    per_conversation = client.with_options(open_telemetry={**client.open_telemetry, "conversation_id": "conv_7"})
    run_call(CALLS["create"], per_conversation)
    run_call(CALLS["create"], client)
    first, second = atelemetry.spans()
    assert [first.instrumentation_scope.name, second.instrumentation_scope.name] == [OURS, OURS]
    assert first.attributes["gen_ai.conversation.id"] == "conv_7"
    assert "gen_ai.conversation.id" not in second.attributes


# -- other API calls keep the SDK's spans ------------------------------------------------------------


def test_other_api_calls_keep_the_sdks_own_spans(atelemetry: Telemetry) -> None:
    recorder = Recorder()
    client = client_for(recorder, atelemetry)
    assert [m.id for m in client.models.list()] == [MODEL]
    assert client.models.retrieve(MODEL).display_name == "Claude Sonnet 4.6"
    spans = [(s.name, s.instrumentation_scope.name) for s in atelemetry.spans()]
    if NATIVE_TRACING:
        assert spans == [("anthropic.models.list", NATIVE), ("anthropic.models.retrieve", NATIVE)]
    else:
        assert spans == []
    assert not any(name.startswith("gen_ai.") for name in atelemetry.metrics())
    assert [path for _, path, _ in recorder.requests] == ["/v1/models", f"/v1/models/{MODEL}"]


# -- settings from the environment, with the SDK's spans on the global tracer provider -----------------

ENV_SETTINGS: dict[str, dict[str, str]] = {
    "no-variables": {},
    "ANTHROPIC_OPEN_TELEMETRY=false": {"ANTHROPIC_OPEN_TELEMETRY": "false"},
    "TRACES_CONTENT_MODE=content": {"ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE": "content"},
    "PROPAGATION=false": {"ANTHROPIC_OPEN_TELEMETRY_PROPAGATION": "false"},
    "TRACES_MAX_CONTENT_BYTES=16": {"ANTHROPIC_OPEN_TELEMETRY_TRACES_MAX_CONTENT_BYTES": "16"},
}
ENV_PARAMS = [
    pytest.param(
        name,
        marks=()
        if name == "no-variables"
        else pytest.mark.skipif(not NATIVE_TRACING, reason="anthropic < 1.14 reads no ANTHROPIC_OPEN_TELEMETRY*"),
        id=name,
    )
    for name in ENV_SETTINGS
]
ENV_PROPAGATES = {name: name != "PROPAGATION=false" for name in ENV_SETTINGS}

# Runs the cases it is given in order, in a process whose global tracer provider exports to memory; the
# first instrumented case instruments with that provider. Prints one JSON line of results.
GLOBAL_PROVIDER_SCRIPT = """
import json, os, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

from otel_llm.instrumentation.anthropic import AnthropicInstrumentor
from tests.anthropic_support import make_anthropic_client
from tests.instrumentation.test_anthropic_native import CALLS, Recorder, run_call

results = {}
for case in json.loads(sys.stdin.read()):
    if case["instrument"] and not AnthropicInstrumentor().is_instrumented_by_opentelemetry:
        AnthropicInstrumentor().instrument()
    for key in [k for k in os.environ if k.startswith("ANTHROPIC_")]:
        del os.environ[key]
    os.environ.update(case["env"])
    call, recorder = CALLS[case["call"]], Recorder()
    client = make_anthropic_client(recorder, is_async=call.is_async, base_url=case["base_url"], open_telemetry=None)
    result = run_call(call, client)
    spans = [
        {
            "name": s.name,
            "scope": s.instrumentation_scope.name,
            "trace_id": s.context.trace_id,
            "span_id": s.context.span_id,
            "attributes": {k: v if isinstance(v, (str, int, float, bool)) else list(v) for k, v in s.attributes.items()},
        }
        for s in exporter.get_finished_spans()
    ]
    exporter.clear()
    results[case["id"]] = {"result": result, "spans": spans, "headers": recorder.headers}
print("RESULTS " + json.dumps(results))
"""


def clean_env(**settings: str) -> dict[str, str]:
    """This environment without any OTEL_* / ANTHROPIC_* variable, with the repository importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(settings)
    return env


def _case(kind: str, setting: str, name: str, base_url: str | None) -> dict[str, Any]:
    return {
        "id": f"{kind}/{setting}/{name}/{base_url}",
        "instrument": kind == "instrumented",
        "env": ENV_SETTINGS[setting],
        "call": name,
        "base_url": base_url,
    }


@pytest.fixture(scope="module")
def global_provider_runs() -> dict[str, Any]:
    """Every environment case, run once in one subprocess: the uninstrumented ones first."""
    cases = [_case("native", setting, name, None) for setting in ENV_SETTINGS for name in CALLS]
    cases += [
        _case("instrumented", setting, name, base_url)
        for setting in ENV_SETTINGS
        for name in CALLS
        for base_url in (None, LOOPBACK)
    ]
    result = subprocess.run(
        [sys.executable, "-c", GLOBAL_PROVIDER_SCRIPT],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(),
        cwd=REPO,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULTS ")]
    return json.loads(line.removeprefix("RESULTS "))  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", CALLS)
def test_global_provider_control_without_instrumentation(global_provider_runs: dict[str, Any], name: str) -> None:
    """The premise: with no option the SDK traces into the global provider, and the variables do reach it."""
    call = CALLS[name]
    plain = global_provider_runs[f"native/no-variables/{name}/None"]
    disabled = global_provider_runs[f"native/ANTHROPIC_OPEN_TELEMETRY=false/{name}/None"]
    assert plain["result"] == disabled["result"] == call.expected
    if NATIVE_TRACING:
        (span,) = plain["spans"]
        assert (span["name"], span["scope"]) == (call.native, NATIVE)
        assert [traceparent_ids(h["traceparent"]) for h in plain["headers"]] == [(span["trace_id"], span["span_id"])]
    else:
        assert plain["spans"] == []
        assert [TRACE_HEADERS & set(h) for h in plain["headers"]] == [set()]
    assert disabled["spans"] == []
    assert [TRACE_HEADERS & set(h) for h in disabled["headers"]] == [set()]


@pytest.mark.parametrize("setting", ENV_PARAMS)
@pytest.mark.parametrize("name", CALLS)
def test_environment_settings_leave_one_span_ours(
    global_provider_runs: dict[str, Any], name: str, setting: str
) -> None:
    call = CALLS[name]
    for base_url in (None, LOOPBACK):
        run = global_provider_runs[f"instrumented/{setting}/{name}/{base_url}"]
        assert run["result"] == call.expected
        assert [(s["name"], s["scope"]) for s in run["spans"]] == [(call.span_name, OURS)], base_url
        span = run["spans"][0]
        assert CONTENT_ATTRIBUTES.isdisjoint(span["attributes"])
        assert not any(PROMPT in str(v) for v in span["attributes"].values())
        if base_url is not None and ENV_PROPAGATES[setting]:
            traceparents = [traceparent_ids(h["traceparent"]) for h in run["headers"]]
            assert traceparents == [(span["trace_id"], span["span_id"])]
        else:
            assert [TRACE_HEADERS & set(h) for h in run["headers"]] == [set()], base_url


# -- zero code: `opentelemetry-instrument python app.py`, the SDK told nothing -------------------------

INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"
zero_code = pytest.mark.skipif(not INSTRUMENT.exists(), reason="opentelemetry-instrument is not installed")

ZERO_CODE_SCRIPT = """
import sys
import anthropic
from tests.anthropic_support import MODEL, ahttp
from tests.instrumentation.test_anthropic_native import MESSAGES, Recorder

recorder = Recorder()
client = anthropic.Anthropic(
    api_key="sk-ant-test", max_retries=0, http_client=ahttp.Client(transport=ahttp.MockTransport(recorder))
)
if sys.argv[1] == "create":
    message = client.messages.create(model=MODEL, max_tokens=256, messages=MESSAGES)
    print("REPLY", message.content[0].text)
else:
    print("MODELS", " ".join(m.id for m in client.models.list()))
print("TRACE-HEADERS", sorted(set().union(*recorder.trace_headers())))
"""


def run_zero_code(tmp_path: Path, what: str, **settings: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The console exporter's spans and the program's own output lines."""
    from tests.test_zero_code import json_objects, spans_of

    script = tmp_path / "app.py"
    script.write_text(ZERO_CODE_SCRIPT)
    env = clean_env(OTEL_TRACES_EXPORTER="console", OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none", **settings)
    result = subprocess.run(
        [str(INSTRUMENT), sys.executable, str(script), what],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    lines = [line for line in result.stdout.splitlines() if line.startswith(("REPLY", "MODELS", "TRACE-HEADERS"))]
    return spans_of(json_objects(result.stdout)), lines


@zero_code
@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({}, id="no-variables"),
        pytest.param(
            {"ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE": "content"},
            id="TRACES_CONTENT_MODE=content",
            marks=pytest.mark.skipif(not NATIVE_TRACING, reason="anthropic < 1.14 reads no ANTHROPIC_OPEN_TELEMETRY*"),
        ),
    ],
)
def test_zero_code_call_has_one_span_ours(tmp_path: Path, settings: dict[str, str]) -> None:
    spans, lines = run_zero_code(tmp_path, "create", **settings)
    assert lines == ["REPLY Paris.", "TRACE-HEADERS []"]
    assert [s["name"] for s in spans] == [f"chat {MODEL}"]
    attrs = spans[0]["attributes"]
    assert attrs["gen_ai.provider.name"] == "anthropic"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.usage.output_tokens"] == 12
    assert CONTENT_ATTRIBUTES.isdisjoint(attrs)


@zero_code
@needs_native
def test_zero_code_sdk_spans_do_reach_the_console(tmp_path: Path) -> None:
    """So that the absence of `anthropic.messages.create` above means something."""
    spans, lines = run_zero_code(tmp_path, "models")
    assert lines == [f"MODELS {MODEL}", "TRACE-HEADERS ['traceparent']"]
    assert [s["name"] for s in spans] == ["anthropic.models.list"]


@zero_code
@needs_native
def test_zero_code_without_our_entry_point_the_sdk_traces_itself(tmp_path: Path) -> None:
    spans, lines = run_zero_code(tmp_path, "create", OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="otel_llm_anthropic")
    assert lines == ["REPLY Paris.", "TRACE-HEADERS ['traceparent']"]
    assert [s["name"] for s in spans] == ["anthropic.messages.create"]
