"""Trace headers reach self-hosted model servers only; public APIs see none unless allowed."""

from __future__ import annotations

import ipaddress
import json
import logging
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind

from otel_llm.config import ConfigError, load_config
from otel_llm.demo.server import DemoServer
from otel_llm.propagation import Entry, PropagationPolicy, parse_entry
from tests.servers import Uvicorn
from tests.support import OPENAI_MAJOR, Telemetry, instrument, json_response, make_client

CHAT = {
    "id": "chatcmpl-P1",
    "object": "chat.completion",
    "created": 1732000000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi."}, "logprobs": None, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}
TRACE_HEADERS = {"traceparent", "tracestate", "baggage"}
MESSAGES = [{"role": "user", "content": "Hello"}]


# -- the policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "::1",
        "[::1]",
        "localhost",
        "10.1.2.3",
        "172.20.0.5",
        "192.168.1.40",
        "169.254.1.1",
        "fd12:3456::1",
        "vllm",
        "gpu-box.local",
        "vllm.models.svc.cluster.local",
    ],
)
def test_default_allows_loopback_private_and_local_names(host: str) -> None:
    assert PropagationPolicy("default").allows(host, 8000)


@pytest.mark.parametrize("host", ["api.openai.com", "8.8.8.8", "myres.openai.azure.com", "2606:4700::1111"])
def test_default_refuses_public_hosts(host: str) -> None:
    assert not PropagationPolicy("default").allows(host, 443)


def test_unset_means_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_LLM_PROPAGATE_TO", raising=False)
    policy = PropagationPolicy()
    assert policy.allows("127.0.0.1", 8000) and not policy.allows("api.openai.com", 443)


def test_env_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "OTEL_LLM_PROPAGATE_TO", "gpu.example.com, *.inference.example.org,llm.example.net:8443,203.0.113.0/24"
    )
    policy = PropagationPolicy()
    assert policy.allows("GPU.example.com", 443)
    assert policy.allows("a.inference.example.org", 443)
    assert not policy.allows("inference.example.org.evil.com", 443)
    assert policy.allows("llm.example.net", 8443) and not policy.allows("llm.example.net", 443)
    assert policy.allows("203.0.113.9", 80) and not policy.allows("203.0.114.9", 80)
    assert not policy.allows("127.0.0.1", 8000)  # an explicit list replaces the default...
    assert PropagationPolicy("default,gpu.example.com").allows("127.0.0.1", 8000)  # ...unless it names it


def test_everything_and_nothing() -> None:
    assert PropagationPolicy("*").allows("api.openai.com", 443)
    assert not PropagationPolicy("none").allows("127.0.0.1", 8000)
    assert not PropagationPolicy([]).allows("127.0.0.1", 8000)


def test_malformed_entry_is_reported_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        policy = PropagationPolicy("http://gpu-box:8000/v1,gpu-box")
    assert "'http://gpu-box:8000/v1' is not a host" in caplog.text
    assert policy.allows("gpu-box", 8000)


@pytest.mark.parametrize(
    ("entry", "parsed"),
    [
        ("none", Entry("none")),
        ("", Entry("none")),
        ("*", Entry("all")),
        (" Default ", Entry("default")),
        ("*.Internal.example.com", Entry("suffix", ".internal.example.com")),
        ("10.20.0.0/16", Entry("network", ipaddress.ip_network("10.20.0.0/16"))),
        ("10.20.1.7", Entry("network", ipaddress.ip_network("10.20.1.7/32"))),
        ("fd00::/8", Entry("network", ipaddress.ip_network("fd00::/8"))),
        ("[fd00::1]", Entry("network", ipaddress.ip_network("fd00::1/128"))),
        ("GPU-box:08000", Entry("host_port", "gpu-box:8000")),
        ("vllm", Entry("host", "vllm")),
        ("gpu_box.example.com", Entry("host", "gpu_box.example.com")),
    ],
)
def test_parse_entry(entry: str, parsed: Entry) -> None:
    assert parse_entry(entry) == parsed


@pytest.mark.parametrize(
    "entry",
    ["not a host!!", "http://gpu-box:8000/v1", "gpu-box:", "gpu-box:0", "gpu-box:65536", "gpu-box:\uff18\uff10", "*.",
     "**.example.com", "-bad.example.com", "a..b", "a,b", "*.a b"],
)
def test_invalid_entries_fail_to_load_and_warn_from_the_environment(
    entry: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ValueError) as caught:
        parse_entry(entry)
    expected = f"expected a host, host:port, *.suffix, IP network, 'default', '*' or 'none', got {entry!r}"
    assert str(caught.value) == expected
    # the same rule in the configuration file: an error naming the key path
    with pytest.raises(ConfigError) as config_error:
        load_config({"propagation": {"propagate_to": ["default", entry]}})
    assert [str(p) for p in config_error.value.problems] == [f"propagation.propagate_to[1]: {expected}"]
    # and in the policy (the environment variable, instrument(propagate_to=...)): a warning, the entry skipped
    with caplog.at_level(logging.WARNING):
        policy = PropagationPolicy(["default", entry])
    assert f"{entry.strip()!r} is not a host" in caplog.text
    assert policy.allows("vllm", 8000) and not policy.allows("api.openai.com", 443)


def test_entries_the_file_accepts_are_those_the_policy_applies(caplog: pytest.LogCaptureFixture) -> None:
    entries = ["default", "gpu.example.com", "llm.example.net:8443", "*.inference.example.org", "203.0.113.0/24", "none"]
    config = load_config({"propagation": {"propagate_to": entries}})
    assert config.propagation is not None and config.propagation.propagate_to == tuple(entries)
    with caplog.at_level(logging.WARNING):
        policy = PropagationPolicy(",".join(config.propagation.propagate_to))  # as _configure hands them on
    assert caplog.text == ""
    assert policy.allows("gpu.example.com", 443) and policy.allows("llm.example.net", 8443)
    assert policy.allows("a.inference.example.org", 443) and policy.allows("203.0.113.9", 80)
    assert not policy.allows("api.openai.com", 443)


# -- through the openai SDK ---------------------------------------------------------------------


class Recorder:
    """A mock endpoint that keeps the headers of every request."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    def __call__(self, request: Any) -> Any:
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        return json_response(CHAT)

    def trace_headers(self) -> set[str]:
        return TRACE_HEADERS & set(self.headers[-1])


@pytest.fixture
def incoming() -> Iterator[Any]:
    """An active parent span with baggage, as a web framework's instrumentation would leave it."""
    t = Telemetry()
    parent = t.tracer_provider.get_tracer("web").start_span("GET /ask", kind=SpanKind.SERVER)
    from opentelemetry.trace import set_span_in_context

    ctx = baggage.set_baggage("tenant", "team-1", set_span_in_context(parent))
    token = otel_context.attach(ctx)
    yield parent
    otel_context.detach(token)
    parent.end()


def _traceparent_ids(value: str) -> tuple[int, int]:
    _version, trace_id, span_id, _flags = value.split("-")
    return int(trace_id, 16), int(span_id, 16)


def test_public_api_gets_no_trace_headers_by_default(telemetry: Any, incoming: Any) -> None:
    recorder = Recorder()
    make_client(recorder).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert recorder.trace_headers() == set()
    assert telemetry.span().parent.span_id == incoming.get_span_context().span_id  # still one trace here


def test_self_hosted_server_gets_the_genai_span_as_parent(telemetry: Any, incoming: Any) -> None:
    recorder = Recorder()
    make_client(recorder, base_url="http://10.0.0.7:8000/v1").chat.completions.create(
        model="llama-3.1-8b", messages=MESSAGES
    )
    span = telemetry.span()
    trace_id, parent_id = _traceparent_ids(recorder.headers[-1]["traceparent"])
    assert trace_id == span.context.trace_id == incoming.get_span_context().trace_id
    assert parent_id == span.context.span_id
    assert recorder.headers[-1]["baggage"] == "tenant=team-1"


def test_callers_own_traceparent_is_kept(telemetry: Any) -> None:
    recorder = Recorder()
    mine = "00-11111111111111111111111111111111-2222222222222222-01"
    make_client(recorder, base_url="http://127.0.0.1:8000/v1").chat.completions.create(
        model="m", messages=MESSAGES, extra_headers={"Traceparent": mine}
    )
    assert recorder.headers[-1]["traceparent"] == mine


def test_stream_and_retries_carry_the_header(telemetry: Any) -> None:
    attempts: list[dict[str, str]] = []

    def flaky(request: Any) -> Any:
        attempts.append({k.lower(): v for k, v in request.headers.items()})
        if len(attempts) == 1:
            return json_response(
                {"error": {"message": "busy", "type": "server_error"}}, status=503, headers={"retry-after-ms": "1"}
            )
        return json_response(CHAT)

    make_client(flaky, base_url="http://127.0.0.1:8000/v1", max_retries=1).chat.completions.create(
        model="m", messages=MESSAGES
    )
    span = telemetry.span()
    assert [_traceparent_ids(a["traceparent"])[1] for a in attempts] == [span.context.span_id] * 2


@pytest.mark.parametrize(("propagate_to", "expected"), [("api.openai.com", {"traceparent"}), ("none", set())])
def test_instrument_argument_overrides_the_default(propagate_to: str, expected: set[str]) -> None:
    t = Telemetry()
    instrumentor = instrument(t, propagate_to=propagate_to)
    try:
        public, local = Recorder(), Recorder()
        make_client(public).chat.completions.create(model="m", messages=MESSAGES)
        make_client(local, base_url="http://127.0.0.1:8000/v1").chat.completions.create(model="m", messages=MESSAGES)
        assert public.trace_headers() == expected
        assert local.trace_headers() == set()  # an explicit list replaces the default one
    finally:
        instrumentor.uninstrument()


@pytest.mark.skipif(OPENAI_MAJOR >= 3, reason="openai 3.x runs on httpx2, which the httpx instrumentation does not see")
@pytest.mark.parametrize("http_spans", [False, True])
def test_httpx_instrumentation_is_suppressed_unless_asked(http_spans: bool) -> None:
    """A real HTTP transport (the instrumentation does not wrap MockTransport), and a policy of none."""
    import openai
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    t = Telemetry()
    instrumentor = instrument(t, http_spans=http_spans, propagate_to="none")
    HTTPXClientInstrumentor().instrument(tracer_provider=t.tracer_provider)
    try:
        with DemoServer() as model:
            client = openai.OpenAI(base_url=model.url, api_key="sk-test", max_retries=0)
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            (received,) = [r.headers for r in model.received if r.path == "/v1/chat/completions"]
    finally:
        HTTPXClientInstrumentor().uninstrument()
        instrumentor.uninstrument()
    spans = t.spans()
    genai = next(s for s in spans if s.name == "chat gpt-4o-mini")
    http = [s for s in spans if s is not genai]
    if http_spans:  # kept on request: a child of the GenAI span, and httpx injects its own header
        assert [s.parent.span_id for s in http] == [genai.context.span_id]
        assert _traceparent_ids(received["traceparent"])[1] == http[0].context.span_id
    else:  # no second span, and the policy holds although the httpx instrumentation is active
        assert http == []
        assert TRACE_HEADERS & set(received) == set()


# -- one trace end to end: web request → ASGI service → openai SDK → model server ------------------




def test_one_trace_from_web_request_to_model_server() -> None:
    pytest.importorskip("uvicorn")
    pytest.importorskip("opentelemetry.instrumentation.asgi")
    from examples.traced_service import make_app

    t = Telemetry()
    instrumentor = instrument(t)
    incoming_trace, incoming_span = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    try:
        with DemoServer() as model, Uvicorn(make_app(model.url, tracer_provider=t.tracer_provider)) as service:
            request = urllib.request.Request(
                service + "/ask",
                data=json.dumps({"question": "What is a trace?"}).encode(),
                headers={"traceparent": f"00-{incoming_trace}-{incoming_span}-01", "content-type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
                assert json.loads(response.read())["answer"]
            received = [r for r in model.received if r.path == "/v1/chat/completions"]
    finally:
        instrumentor.uninstrument()

    spans = t.spans()
    by_id = {s.context.span_id: s for s in spans}
    genai = next(s for s in spans if s.name == "chat gpt-4o-mini")
    server = next(s for s in spans if s.kind is SpanKind.SERVER)
    assert {s.context.trace_id for s in spans} == {int(incoming_trace, 16)}
    assert server.parent.span_id == int(incoming_span, 16)
    ancestor = genai
    while ancestor.parent is not None and ancestor.parent.span_id in by_id:  # up through the ASGI spans
        ancestor = by_id[ancestor.parent.span_id]
    assert ancestor is server
    (model_request,) = received
    trace_id, parent_id = _traceparent_ids(model_request.headers["traceparent"])
    assert trace_id == int(incoming_trace, 16)
    assert parent_id == genai.context.span_id
