"""The attribute views on spans of every shape: malformed content never stops a span, a failing
view sends the span as it is, spans that are not GenAI calls pass untouched."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import SpanContext, TraceFlags

from otel_llm.backends import BACKENDS, Backend, BackendSpanExporter, Target
from otel_llm.backends.langfuse import langfuse_view
from otel_llm.backends.langsmith import langsmith_view
from otel_llm.backends.openinference import openinference_view
from tests.backends.calls import by_operation
from tests.backends.otlp_contract import otlp_receiver

VIEWS = {"openinference": openinference_view, "langfuse": langfuse_view, "langsmith": langsmith_view}


def span(attributes: dict[str, Any], name: str = "chat m") -> ReadableSpan:
    context = SpanContext(0x1234, 0x5678, is_remote=False, trace_flags=TraceFlags(1))
    return ReadableSpan(name=name, context=context, attributes=attributes, start_time=1, end_time=2)


MALFORMED: list[dict[str, Any]] = [
    {"gen_ai.input.messages": "not json"},
    {"gen_ai.input.messages": json.dumps({"role": "user"})},
    {"gen_ai.input.messages": json.dumps([{"role": "user", "parts": "text"}, "stray", 3])},
    {"gen_ai.output.messages": json.dumps([{"parts": [{"type": "tool_call", "arguments": None}, {"type": 7}]}])},
    {"gen_ai.system_instructions": json.dumps({"type": "text"}), "gen_ai.tool.definitions": "[1, 2"},
    {"gen_ai.usage.input_tokens": "12", "gen_ai.usage.output_tokens": True, "otel_llm.cost.usd": "free"},
    {"otel_llm.tags": (), "gen_ai.response.model": ""},
]


@pytest.mark.parametrize("view", VIEWS.values(), ids=list(VIEWS))
@pytest.mark.parametrize("extra", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_content_gives_what_can_be_read_and_never_raises(view: Any, extra: dict[str, Any]) -> None:
    out = view({"gen_ai.operation.name": "chat", "gen_ai.request.model": "m", **extra})
    assert out  # the span kind and the model are still there
    json.dumps(out)  # and everything is a plain value


@pytest.mark.parametrize("view", VIEWS.values(), ids=list(VIEWS))
def test_spans_that_are_not_genai_calls_get_nothing(view: Any) -> None:
    assert view({"http.request.method": "POST", "user.id": "u"}) == {}


@pytest.mark.parametrize(
    ("provider", "model", "expected"),
    [
        ("aws.bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0", ("aws", "anthropic")),
        ("aws.bedrock", "arn:aws:bedrock:us-east-1:1:inference-profile/meta.llama3-70b-instruct-v1:0", ("aws", "meta")),
        ("aws.bedrock", "amazon.nova-pro-v1:0", ("aws", "amazon")),
        ("azure.ai.openai", "gpt-4o", ("azure", "openai")),
        ("gcp.vertex_ai", "gemini-2.5-pro", ("google", "vertexai")),
        ("groq", "llama-3.3-70b", ("groq", None)),
    ],
)
def test_provider_and_system_follow_openinference_values(provider: str, model: str, expected: tuple) -> None:
    out = openinference_view({"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider, "gen_ai.request.model": model})
    assert (out.get("llm.provider"), out.get("llm.system")) == expected


def test_a_single_text_answer_is_plain_text_output() -> None:
    messages = [{"role": "assistant", "parts": [{"type": "text", "content": "Hi"}], "finish_reason": "stop"}]
    out = openinference_view({"gen_ai.operation.name": "chat", "gen_ai.output.messages": json.dumps(messages)})
    assert (out["output.value"], out["output.mime_type"]) == ("Hi", "text/plain")


def test_a_failing_view_sends_the_span_as_it_is_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    def broken(attributes: Any) -> Any:
        raise RuntimeError("a bug in a view")

    with otlp_receiver("/v1/traces") as receiver:
        backend = Backend("broken", "Broken", (), lambda o: Target(receiver.base_url + "/v1/traces"), view=broken)
        exporter = BackendSpanExporter(backend)
        with caplog.at_level(logging.WARNING, logger="otel_llm.backends._backend"):
            for _ in range(3):
                assert exporter.export([span({"gen_ai.operation.name": "chat"})]) is SpanExportResult.SUCCESS
        exporter.shutdown()
    assert len(receiver.spans()) == 3
    assert by_operation(receiver.spans()[:1])["chat"].attributes == {"gen_ai.operation.name": "chat"}
    assert [r.message for r in caplog.records].count(
        "otel-llm: the broken attribute view failed on a span; it is sent as it is"
    ) == 1


def test_a_span_the_view_does_not_change_is_sent_as_the_same_object() -> None:
    exporter = BackendSpanExporter(BACKENDS["phoenix"], environ={})
    app = span({"http.request.method": "GET"}, name="GET /")
    seen = exporter.seen(app)
    assert seen is not app  # the project is a resource attribute: a new span with the merged resource
    assert seen.resource.attributes["openinference.project.name"] == "default"
    assert seen.attributes == app.attributes
    honeycomb = BackendSpanExporter(BACKENDS["honeycomb"], environ={"HONEYCOMB_API_KEY": "k"})
    assert honeycomb.seen(app) is app  # no view, no resource: nothing copied
    for e in (exporter, honeycomb):
        e.shutdown()
