"""SpanCoster: the collector prices a GenAI span exactly as the in-process instrumentation would.

The reference is otel-llm's own instrumentation with pricing on, run on the real openai and
anthropic SDKs over mock transports: its span, stripped of its cost attributes, must get the same
cost back. Spans of the anthropic SDK's own tracing, normalised, must cost what ours cost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from otel_llm import _safety
from otel_llm._spans import replaced
from otel_llm.collector.costing import SpanCoster
from otel_llm.collector.normalise import normalise
from otel_llm.genai import attributes as A
from otel_llm.genai.cost import PRICES_ENV, Pricer
from tests.anthropic_support import (
    NATIVE_TRACING,
    instrument_anthropic,
    make_anthropic_client,
    message_payload,
)
from tests.anthropic_support import json_response as anthropic_json
from tests.collector.test_normalise import Hostile, foreign_span
from tests.support import Telemetry, chat_completion_payload, chat_message, instrument, json_response, make_client

pytest.importorskip("genai_prices")

MESSAGES = [{"role": "user", "content": "Hi"}]
COST_PREFIX = "otel_llm.cost."
ANTHROPIC_USAGE = {
    "input_tokens": 1200,
    "output_tokens": 300,
    "cache_creation_input_tokens": 3000,
    "cache_read_input_tokens": 5000,
    "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
    "server_tool_use": None,
    "service_tier": "standard",
}


def cost_of(span: ReadableSpan) -> dict[str, Any]:
    return {k: v for k, v in span.attributes.items() if k.startswith(COST_PREFIX)}


def without_cost(span: ReadableSpan) -> ReadableSpan:
    return replaced(span, attributes={k: v for k, v in span.attributes.items() if not k.startswith(COST_PREFIX)})


@pytest.fixture
def priced() -> Iterator[Telemetry]:
    """openai and anthropic instrumented by otel-llm with pricing on."""
    t = Telemetry()
    openai_instrumentor = instrument(t, cost=True)
    anthropic_instrumentor = instrument_anthropic(t, cost=True)
    yield t
    openai_instrumentor.uninstrument()
    anthropic_instrumentor.uninstrument()


@pytest.mark.parametrize(
    ("model", "usage"),
    [
        ("gpt-4o-mini-2024-07-18", {"prompt_tokens": 2000, "completion_tokens": 100, "cached_tokens": 1024}),
        (
            "o3-2025-04-16",
            {"prompt_tokens": 1500, "completion_tokens": 3000, "reasoning_tokens": 2600, "service_tier": "flex"},
        ),
    ],
)
def test_an_openai_span_gets_the_cost_the_instrumentation_gives_it(
    priced: Telemetry, model: str, usage: Mapping[str, Any]
) -> None:
    payload = chat_completion_payload((chat_message("Hello!"), "stop"), model=model, **usage)
    client = make_client(lambda request: json_response(payload))
    client.chat.completions.create(model=model.rsplit("-", 3)[0], messages=MESSAGES)
    reference = priced.span()
    expected = cost_of(reference)
    assert expected and expected[A.COST_USD] > 0
    bare = without_cost(reference)
    assert SpanCoster().add_cost(bare).attributes == reference.attributes
    assert cost_of(SpanCoster().add_cost(bare)) == expected


def test_an_anthropic_span_with_5m_and_1h_cache_writes(priced: Telemetry) -> None:
    body = message_payload(usage_=ANTHROPIC_USAGE)
    client = make_anthropic_client(lambda request: anthropic_json(body), telemetry=priced)
    client.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=MESSAGES)
    reference = priced.span()
    assert reference.attributes[A.COST_CACHE_WRITE_USD] > 0
    assert cost_of(SpanCoster().add_cost(without_cost(reference))) == cost_of(reference)


@pytest.mark.skipif(not NATIVE_TRACING, reason="anthropic < 1.14 has no tracing of its own")
def test_a_span_of_the_anthropic_sdks_own_tracing_costs_what_ours_costs(priced: Telemetry) -> None:
    body = message_payload(usage_=ANTHROPIC_USAGE)
    client = make_anthropic_client(lambda request: anthropic_json(body), telemetry=priced)
    client.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=MESSAGES)
    ours = priced.span()
    native = Telemetry()  # the SDK's own span: no otel-llm instrumentation on this client's calls
    plain = make_anthropic_client(lambda request: anthropic_json(body), telemetry=native)
    with _uninstrumented_anthropic(priced):
        plain.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=MESSAGES)
    sdk_span = native.span()
    assert sdk_span.instrumentation_scope.name == "com.anthropic.sdk.python"
    assert SpanCoster().add_cost(sdk_span) is sdk_span  # its cache writes are under another name
    costed = SpanCoster().add_cost(normalise(sdk_span))
    assert cost_of(costed) == pytest.approx(cost_of(ours), rel=1e-12)


class _uninstrumented_anthropic:
    """Turns otel-llm's anthropic instrumentation off for a block (the fixture turns it on)."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry

    def __enter__(self) -> None:
        from otel_llm.instrumentation.anthropic import AnthropicInstrumentor

        AnthropicInstrumentor().uninstrument()

    def __exit__(self, *exc: object) -> None:
        instrument_anthropic(self.telemetry, cost=True)


GENAI = {
    A.OPERATION_NAME: "chat",
    A.PROVIDER_NAME: "openai",
    A.REQUEST_MODEL: "gpt-4o-mini",
    A.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
    A.USAGE_INPUT_TOKENS: 2000,
    A.USAGE_OUTPUT_TOKENS: 100,
}


@pytest.mark.parametrize(
    "attrs",
    [
        {**GENAI, A.COST_USD: 0.5},  # priced already (by the sender)
        {k: v for k, v in GENAI.items() if k not in (A.REQUEST_MODEL, A.RESPONSE_MODEL)},
        {k: v for k, v in GENAI.items() if k not in (A.USAGE_INPUT_TOKENS, A.USAGE_OUTPUT_TOKENS)},
        {**GENAI, A.OPERATION_NAME: "invoke_agent"},  # may sum its children's usage
        {**GENAI, A.OPERATION_NAME: "count_tokens"},
        {k: v for k, v in GENAI.items() if k != A.OPERATION_NAME},  # not a GenAI span
        {**GENAI, A.REQUEST_MODEL: "no-such-model", A.RESPONSE_MODEL: "no-such-model"},
        {**GENAI, A.USAGE_INPUT_TOKENS: "2000"},
        {**GENAI, A.USAGE_OUTPUT_TOKENS: True},
        {**GENAI, A.USAGE_CACHE_READ_INPUT_TOKENS: 4000},  # more cached than input: no cost, not a wrong one
        {**GENAI, A.OPERATION_NAME: ("chat",)},
        {**GENAI, A.PROVIDER_NAME: "vllm"},  # self-hosted: no list price
    ],
)
def test_spans_with_nothing_to_price_are_returned_as_they_are(attrs: dict[str, Any]) -> None:
    span = foreign_span("chat gpt-4o-mini", attrs)
    assert SpanCoster().add_cost(span) is span


def test_custom_prices_and_the_price_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    attrs = {**GENAI, A.PROVIDER_NAME: "vllm", A.REQUEST_MODEL: "llama-3.1-8b", A.RESPONSE_MODEL: "llama-3.1-8b"}
    span = foreign_span("chat llama-3.1-8b", attrs, scope="any")
    costed = SpanCoster(Pricer({"vllm/llama-3.1-8b": {"input": 1.0, "output": 2.0}})).add_cost(span)
    assert cost_of(costed) == {
        A.COST_USD: pytest.approx(2000 * 1e-6 + 100 * 2e-6, rel=1e-12),
        A.COST_INPUT_USD: pytest.approx(2000 * 1e-6, rel=1e-12),
        A.COST_OUTPUT_USD: pytest.approx(100 * 2e-6, rel=1e-12),
    }
    monkeypatch.setenv(PRICES_ENV, '{"llama-3.1-8b": {"input": 4, "output": 8}}')
    assert SpanCoster().add_cost(span).attributes[A.COST_USD] == pytest.approx(2000 * 4e-6 + 100 * 8e-6)


def test_a_normalised_openllmetry_span_is_priced() -> None:
    attrs = {
        "llm.request.type": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.prompt_tokens": 2000,
        "gen_ai.usage.completion_tokens": 100,
    }
    span = foreign_span("openai.chat", attrs)
    assert SpanCoster().add_cost(span) is span  # not GenAI until normalised
    costed = SpanCoster().add_cost(normalise(span))
    reference = SpanCoster().add_cost(foreign_span("chat", GENAI))
    assert cost_of(costed) == cost_of(reference) != {}


def test_an_internal_failure_returns_the_span_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    span = ReadableSpan(name="chat", attributes=Hostile())
    _safety._reported.discard("collector.cost")  # this test needs the first report's warning
    coster = SpanCoster()
    with caplog.at_level(logging.DEBUG, logger="otel_llm"):
        assert coster.add_cost(span) is span
        assert coster.add_cost(span) is span
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "collector.cost" in r.getMessage()]
    assert len(warnings) == 1
