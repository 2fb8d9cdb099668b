"""normalise(): which spans it touches, and the rules every source follows.

Spans are made by the real OpenTelemetry SDK (the kind of ReadableSpan the collector decodes), with
attributes as the foreign libraries write them; the per-source files check each mapping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_llm import _safety
from otel_llm.collector.normalise import NORMALISED_FROM, normalise, source_of
from otel_llm.genai import attributes as A
from otel_llm.processing._content import is_content_attribute
from otel_llm.processing._settings import RedactionSettings
from otel_llm.processing.redaction import Redactor
from tests.support import validate_content

RESOURCE = Resource.create({"service.name": "shop"})


def foreign_span(
    name: str,
    attributes: Mapping[str, Any],
    *,
    scope: str = "opentelemetry.instrumentation.openai.v1",
    kind: SpanKind = SpanKind.CLIENT,
    status: Status | None = None,
) -> ReadableSpan:
    """A finished SDK span with ``attributes``, from a tracer named ``scope``."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer(scope).start_span(name, kind=kind, attributes=dict(attributes))
    span.add_event("gen_ai.choice", {"index": 0})
    if status is not None:
        span.set_status(status)
    span.end()
    (finished,) = exporter.get_finished_spans()
    return finished


def added(before: ReadableSpan, after: ReadableSpan) -> dict[str, Any]:
    """The attributes normalise added."""
    old = before.attributes or {}
    return {k: v for k, v in (after.attributes or {}).items() if k not in old}


def check_normalised(before: ReadableSpan, after: ReadableSpan, source: str) -> dict[str, Any]:
    """What every normalised span satisfies; returns the added attributes (content parsed)."""
    assert after is not before
    assert after.attributes[NORMALISED_FROM] == source
    for key, value in (before.attributes or {}).items():  # foreign attributes kept, none overwritten
        assert after.attributes[key] == value, key
    assert (after.name, after.context, after.parent, after.kind) == (
        before.name,
        before.context,
        before.parent,
        before.kind,
    )
    assert (after.start_time, after.end_time, after.status, after.resource) == (
        before.start_time,
        before.end_time,
        before.status,
        before.resource,
    )
    assert after.events == before.events and after.instrumentation_scope == before.instrumentation_scope
    new = added(before, after)
    # Every value is one an attribute may hold: the SDK's own attribute container keeps them all.
    assert len(BoundedAttributes(attributes=new, immutable=False)) == len(new)
    parsed = validate_content(new)  # content in the GenAI JSON schemas' shape
    return {**new, **parsed}


# An OpenLLMetry 0.47 chat span (captured from opentelemetry-instrumentation-openai 0.47.5).
OPENLLMETRY_CHAT = {
    "llm.request.type": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.request.temperature": 0.2,
    "llm.is_streaming": False,
    "gen_ai.openai.api_base": "https://api.openai.com/v1/",
    "gen_ai.prompt.0.role": "user",
    "gen_ai.prompt.0.content": "What is the capital of France?",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.response.id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "llm.usage.total_tokens": 21,
    "gen_ai.usage.completion_tokens": 7,
    "gen_ai.usage.prompt_tokens": 14,
    "gen_ai.completion.0.finish_reason": "stop",
    "gen_ai.completion.0.role": "assistant",
    "gen_ai.completion.0.content": "Paris.",
}


def test_a_genai_span_and_a_plain_span_are_returned_as_they_are() -> None:
    genai = foreign_span(
        "chat gpt-4o-mini",
        {
            A.OPERATION_NAME: "chat",
            A.PROVIDER_NAME: "openai",
            A.REQUEST_MODEL: "gpt-4o-mini",
            A.USAGE_INPUT_TOKENS: 14,
            A.USAGE_CACHE_CREATION_INPUT_TOKENS: 0,
        },
        scope="otel_llm.instrumentation.openai",
    )
    http = foreign_span("GET /orders", {"http.request.method": "GET", "url.path": "/orders"}, scope="x")
    for span in (genai, http):
        assert source_of(span, span.attributes) is None
        assert normalise(span) is span


def test_a_foreign_span_gains_genai_attributes_beside_its_own() -> None:
    before = foreign_span("openai.chat", OPENLLMETRY_CHAT, status=Status(StatusCode.OK))
    after = normalise(before)
    new = check_normalised(before, after, "openllmetry")
    assert new[A.OPERATION_NAME] == "chat"
    assert new[A.PROVIDER_NAME] == "openai"
    assert (new[A.USAGE_INPUT_TOKENS], new[A.USAGE_OUTPUT_TOKENS]) == (14, 7)
    assert new[A.INPUT_MESSAGES] == [
        {"role": "user", "parts": [{"type": "text", "content": "What is the capital of France?"}]}
    ]
    assert new[A.OUTPUT_MESSAGES] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"}
    ]


def test_nothing_the_span_has_is_overwritten() -> None:
    attrs = {
        **OPENLLMETRY_CHAT,
        A.PROVIDER_NAME: "azure.ai.openai",  # the sender knew better than gen_ai.system
        A.USAGE_INPUT_TOKENS: 15,
        A.INPUT_MESSAGES: '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
        NORMALISED_FROM: "upstream-collector",
    }
    before = foreign_span("openai.chat", attrs)
    after = normalise(before)
    for key in (A.PROVIDER_NAME, A.USAGE_INPUT_TOKENS, A.INPUT_MESSAGES, NORMALISED_FROM):
        assert after.attributes[key] == attrs[key]
    assert after.attributes[A.OUTPUT_MESSAGES]  # what the span lacked is still derived
    assert after.attributes[A.USAGE_OUTPUT_TOKENS] == 7


def test_a_foreign_span_whose_genai_attributes_are_all_there_is_returned_as_it_is() -> None:
    complete = {
        "gen_ai.system": "openai",
        A.PROVIDER_NAME: "openai",
        "llm.request.type": "chat",
        A.OPERATION_NAME: "chat",
    }
    span = foreign_span("openai.chat", complete)
    assert source_of(span, span.attributes) == "openllmetry"
    assert normalise(span) is span


@pytest.mark.parametrize(
    ("value", "expected"),
    [(14, 14), ("14", 14), (14.0, 14), (True, None), ("fourteen", None), (14.5, None), ((14,), None)],
)
def test_counts_of_the_wrong_type_are_not_copied(value: Any, expected: int | None) -> None:
    after = normalise(foreign_span("openai.chat", {**OPENLLMETRY_CHAT, "gen_ai.usage.prompt_tokens": value}))
    assert after.attributes.get(A.USAGE_INPUT_TOKENS) == expected


@pytest.mark.parametrize(
    "garbage",
    [
        {"gen_ai.prompt.0.content": "[not json", "gen_ai.prompt.0.role": ""},
        {"gen_ai.prompt.0.content": "[1, 2]"},
        {"gen_ai.prompt.0.content": '[{"type": "image_url"}]', "gen_ai.prompt.0.role": ("user",)},
        {"gen_ai.completion.0.tool_calls.0.arguments": "{oops", "gen_ai.completion.0.finish_reason": 3},
        {"gen_ai.completion.x.role": "assistant", "gen_ai.prompt.": "x", "gen_ai.prompt.0.": "y"},
        {"gen_ai.system": 42, "llm.request.type": ["chat"], "gen_ai.openai.api_base": "not a url"},
        {"llm.request.functions.0.name": "f", "llm.request.functions.0.parameters": "{broken"},
        {"gen_ai.openai.api_base": "http://[::1"},
    ],
)
def test_malformed_foreign_values_never_raise(garbage: dict[str, Any]) -> None:
    before = foreign_span("openai.chat", {**OPENLLMETRY_CHAT, **garbage})
    after = normalise(before)
    assert after.attributes[A.USAGE_INPUT_TOKENS] == 14  # what is well-formed is still mapped
    for key, value in (before.attributes or {}).items():
        assert after.attributes[key] == value


class Hostile(Mapping[str, Any]):
    """Attributes that fail when read, as a broken decoder's might."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("unreadable")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("unreadable")

    def __len__(self) -> int:
        return 1


def test_an_internal_failure_returns_the_span_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    span = ReadableSpan(name="openai.chat", attributes=Hostile())
    _safety._reported.discard("collector.normalise")  # this test needs the first report's warning
    with caplog.at_level(logging.DEBUG, logger="otel_llm"):
        assert normalise(span) is span
        assert normalise(span) is span
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "collector.normalise" in r.getMessage()]
    assert len(warnings) == 1


def test_every_derived_content_attribute_is_redacted_as_content() -> None:
    """The redactor knows the derived keys as content: dropping content leaves no message text."""
    after = normalise(foreign_span("openai.chat", OPENLLMETRY_CHAT))
    derived = [k for k in added(foreign_span("openai.chat", OPENLLMETRY_CHAT), after) if "messages" in k]
    assert derived and all(is_content_attribute(k) for k in derived)
    redacted = Redactor(RedactionSettings(content="drop")).redact(after)
    text = json.dumps(dict(redacted.attributes))
    assert "capital of France" not in text and "Paris." not in text
    assert json.loads(redacted.attributes[A.OUTPUT_MESSAGES])[0]["finish_reason"] == "stop"


def test_cache_write_of_the_unreleased_conventions_is_mapped_on_any_span() -> None:
    """opentelemetry-util-genai >= 1.2b0 writes the unreleased name; cost reads the published one."""
    attrs = {
        A.OPERATION_NAME: "chat",
        A.PROVIDER_NAME: "anthropic",
        A.REQUEST_MODEL: "claude-sonnet-4-6",
        A.USAGE_INPUT_TOKENS: 145,
        "gen_ai.usage.cache_write.input_tokens": 20,
    }
    before = foreign_span("chat claude-sonnet-4-6", attrs, scope="opentelemetry.instrumentation.genai.anthropic")
    after = normalise(before)
    new = check_normalised(before, after, "genai_main")
    assert new == {A.USAGE_CACHE_CREATION_INPUT_TOKENS: 20, NORMALISED_FROM: "genai_main"}


def test_the_count_of_attributes_the_sender_dropped_is_kept() -> None:
    bounded = BoundedAttributes(maxlen=len(OPENLLMETRY_CHAT), attributes={"extra": 1, "more": 2, **OPENLLMETRY_CHAT})
    before = ReadableSpan(name="openai.chat", attributes=bounded)
    after = normalise(before)
    assert before.dropped_attributes == 2
    assert after.dropped_attributes == 2 and after.attributes[A.OPERATION_NAME] == "chat"
