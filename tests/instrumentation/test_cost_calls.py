"""Cost of real openai and anthropic SDK calls (mock transports): span attributes and the cost counter.

Expected costs are computed here in exact decimal arithmetic from the providers' prices per million
tokens as genai-prices has them (tests/genai/test_cost.py checks those numbers against its data),
and compared with the span's doubles to 12 significant digits.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from otel_llm.genai import Invocation
from otel_llm.genai import attributes as A
from otel_llm.genai.cost import PRICES_ENV, Pricer
from otel_llm.instrumentation._stainless import hook_clients, make_hook, unhook_clients
from tests.anthropic_support import (
    instrument_anthropic,
    make_anthropic_client,
    message_payload,
    sse_response,
    stream_events,
)
from tests.anthropic_support import json_response as anthropic_json
from tests.anthropic_support import usage as anthropic_usage
from tests.support import Telemetry, chat_completion_payload, chat_message, instrument, json_response, make_client, sse
from tests.support import sse_response as openai_sse

pytest.importorskip("genai_prices")


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """Instrumented openai with pricing on (the shared fixture turns it off)."""
    t = Telemetry()
    instrumentor = instrument(t, cost=True)
    yield t
    instrumentor.uninstrument()


@pytest.fixture
def atelemetry() -> Iterator[Telemetry]:
    """Instrumented anthropic with pricing on."""
    t = Telemetry()
    instrumentor = instrument_anthropic(t, cost=True)
    yield t
    instrumentor.uninstrument()


GPT_4O_MINI = ("0.15", "0.6", "0.075")  # input, output, cache read; USD per million tokens
O3_FLEX = ("1", "4", "0.25")
SONNET_4_6 = ("3", "15", "0.3", "3.75", "6")  # input, output, cache read, 5m write, 1h write
MESSAGES = [{"role": "user", "content": "Hi"}]
COST_KEYS = (A.COST_USD, A.COST_INPUT_USD, A.COST_OUTPUT_USD, A.COST_CACHE_READ_USD, A.COST_CACHE_WRITE_USD)


def usd(tokens: int, per_mtok: str) -> Decimal:
    return Decimal(tokens) * Decimal(per_mtok) / Decimal(1_000_000)


def cost_attributes(span: Any) -> dict[str, float]:
    return {k: v for k, v in span.attributes.items() if k.startswith("otel_llm.cost.")}


def check_cost(span: Any, **expected: Decimal) -> None:
    """The span's cost attributes are exactly ``expected`` (by short name), and the total their sum."""
    names = {"input": A.COST_INPUT_USD, "output": A.COST_OUTPUT_USD}
    names |= {"cache_read": A.COST_CACHE_READ_USD, "cache_write": A.COST_CACHE_WRITE_USD}
    got = cost_attributes(span)
    assert set(got) == {A.COST_USD, *(names[k] for k in expected)}
    for short, value in expected.items():
        assert got[names[short]] == pytest.approx(float(value), rel=1e-12, abs=0), short
    assert got[A.COST_USD] == pytest.approx(float(sum(expected.values())), rel=1e-12, abs=0)


def cost_points(telemetry: Telemetry) -> list[tuple[dict[str, Any], float]]:
    return [(dict(p.attributes), p.value) for p in telemetry.all_metrics().get(A.METRIC_COST, [])]


@contextmanager
def instrumented(sdk: str, pricer: Pricer) -> Iterator[Telemetry]:
    """``sdk`` instrumented by hand with ``pricer`` (what ``instrument(prices=...)`` will do)."""
    t = Telemetry()
    if sdk == "openai":
        from openai._base_client import AsyncAPIClient, SyncAPIClient

        from otel_llm.instrumentation.openai import INSTRUMENTATION_NAME, mapping
    else:
        from anthropic._base_client import AsyncAPIClient, SyncAPIClient

        from otel_llm.instrumentation.anthropic import INSTRUMENTATION_NAME, mapping
    providers = {
        "tracer_provider": t.tracer_provider,
        "meter_provider": t.meter_provider,
        "logger_provider": t.logger_provider,
    }
    hook = make_hook(INSTRUMENTATION_NAME, mapping(), providers)
    hook.telemetry.pricer = pricer
    assert hook_clients(SyncAPIClient, AsyncAPIClient, hook), "already instrumented"
    try:
        yield t
    finally:
        unhook_clients(SyncAPIClient, AsyncAPIClient)


def openai_chat(model: str = "gpt-4o-mini-2024-07-18", **usage: Any) -> Any:
    payload = chat_completion_payload((chat_message("Hello!"), "stop"), model=model, **usage)
    return make_client(lambda request: json_response(payload))


# -- OpenAI ---------------------------------------------------------------------------------------


def test_openai_chat_cost_and_counter(telemetry):
    client = openai_chat(prompt_tokens=2000, completion_tokens=100, cached_tokens=1024)
    for _ in range(2):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    input_, output, read = GPT_4O_MINI
    one_call = {"input": usd(976, input_), "output": usd(100, output), "cache_read": usd(1024, read)}
    for span in telemetry.spans():
        check_cost(span, **one_call)
    ((attributes, value),) = cost_points(telemetry)
    assert attributes == {A.PROVIDER_NAME: "openai", A.REQUEST_MODEL: "gpt-4o-mini-2024-07-18"}
    assert value == pytest.approx(float(2 * sum(one_call.values())), rel=1e-12, abs=0)


async def test_openai_async_chat_cost(telemetry):
    payload = chat_completion_payload((chat_message("Hello!"), "stop"), model="gpt-4o-mini-2024-07-18")
    client = make_client(lambda request: json_response(payload), is_async=True)
    await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    input_, output, read = GPT_4O_MINI
    check_cost(telemetry.span(), input=usd(19, input_), output=usd(10, output), cache_read=usd(0, read))


def test_openai_flex_tier_reasoning_model(telemetry):
    payload = chat_completion_payload(
        (chat_message("42"), "stop"),
        model="o3-2025-04-16",
        prompt_tokens=1500,
        completion_tokens=3000,
        reasoning_tokens=2600,
        cached_tokens=1024,
        service_tier="flex",
    )
    client = make_client(lambda request: json_response(payload))
    client.chat.completions.create(model="o3", messages=MESSAGES, service_tier="flex")
    input_, output, read = O3_FLEX
    # Reasoning tokens are output tokens, billed at the output price.
    check_cost(telemetry.span(), input=usd(476, input_), output=usd(3000, output), cache_read=usd(1024, read))


def _chunk(choices: list[dict[str, Any]], usage: Any = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1731012345,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_1",
        "choices": choices,
        "usage": usage,
    }


STREAM_USAGE = {
    "prompt_tokens": 3000,
    "completion_tokens": 250,
    "total_tokens": 3250,
    "prompt_tokens_details": {"cached_tokens": 2048, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}
STREAM_CHUNKS = [
    _chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}]),
    _chunk([{"index": 0, "delta": {"content": "Hello"}, "logprobs": None, "finish_reason": None}]),
    _chunk([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]),
    _chunk([], usage=STREAM_USAGE),
]


@pytest.mark.parametrize("is_async", [False, True])
async def test_openai_stream_priced_from_final_usage(telemetry, is_async):
    client = make_client(lambda request: openai_sse(sse(STREAM_CHUNKS)), is_async=is_async)
    kwargs = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    if is_async:
        stream = await client.chat.completions.create(**kwargs)
        async for _ in stream:
            pass
    else:
        for _ in client.chat.completions.create(**kwargs):
            pass
    input_, output, read = GPT_4O_MINI
    check_cost(telemetry.span(), input=usd(952, input_), output=usd(250, output), cache_read=usd(2048, read))
    ((_, value),) = cost_points(telemetry)
    assert value == pytest.approx(float(usd(952, input_) + usd(250, output) + usd(2048, read)), rel=1e-12)


def test_openai_stream_without_usage_has_no_cost(telemetry):
    client = make_client(lambda request: openai_sse(sse(STREAM_CHUNKS[:-1])))
    for _ in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True):
        pass
    assert cost_attributes(telemetry.span()) == {}
    assert cost_points(telemetry) == []


def test_openai_unknown_model_has_no_cost(telemetry):
    client = openai_chat(model="my-private-model")
    client.chat.completions.create(model="my-private-model", messages=MESSAGES)
    span = telemetry.span()
    assert span.attributes[A.USAGE_INPUT_TOKENS] == 19
    assert cost_attributes(span) == {}
    assert cost_points(telemetry) == []


def test_openai_failed_call_has_no_cost(telemetry):
    client = make_client(lambda request: json_response({"error": {"message": "boom", "type": "server_error"}}, 500))
    with pytest.raises(Exception):  # noqa: B017 - the SDK's InternalServerError
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert cost_attributes(telemetry.span()) == {}


def test_openai_self_hosted_server_has_no_cost(telemetry):
    payload = chat_completion_payload((chat_message("Hello!"), "stop"), model="gpt-4o-mini")
    client = make_client(lambda request: json_response(payload), base_url="http://localhost:8000/v1")
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    span = telemetry.span()
    assert span.attributes[A.PROVIDER_NAME] == "openai_compatible"
    assert cost_attributes(span) == {}


# -- Anthropic ------------------------------------------------------------------------------------


def test_anthropic_message_cost_with_cache_writes_by_lifetime(atelemetry):
    usage = anthropic_usage(1200, 700, cache_read=30_000, cache_creation=8_000)
    usage["cache_creation"] = {"ephemeral_5m_input_tokens": 3_000, "ephemeral_1h_input_tokens": 5_000}
    payload = message_payload(model="claude-sonnet-4-6", usage_=usage)
    client = make_anthropic_client(lambda request: anthropic_json(payload), telemetry=atelemetry)
    client.messages.create(model="claude-sonnet-4-6", max_tokens=1024, messages=MESSAGES)
    input_, output, read, write_5m, write_1h = SONNET_4_6
    (span,) = [s for s in atelemetry.spans() if s.name.startswith("chat")]
    check_cost(
        span,
        input=usd(1200, input_),
        output=usd(700, output),
        cache_read=usd(30_000, read),
        cache_write=usd(3_000, write_5m) + usd(5_000, write_1h),
    )
    ((attributes, _),) = cost_points(atelemetry)
    assert attributes == {A.PROVIDER_NAME: "anthropic", A.REQUEST_MODEL: "claude-sonnet-4-6"}


@pytest.mark.parametrize("is_async", [False, True])
async def test_anthropic_stream_priced_from_final_usage(atelemetry, is_async):
    events = stream_events(["Hel", "lo"], input_tokens=400, output_tokens=321, cache_read=1000, cache_creation=600)
    client = make_anthropic_client(lambda request: sse_response(events), telemetry=atelemetry, is_async=is_async)
    kwargs = {"model": "claude-sonnet-4-6", "max_tokens": 1024, "messages": MESSAGES, "stream": True}
    if is_async:
        async for _ in await client.messages.create(**kwargs):
            pass
    else:
        for _ in client.messages.create(**kwargs):
            pass
    input_, output, read, write_5m, _ = SONNET_4_6
    (span,) = [s for s in atelemetry.spans() if s.name.startswith("chat")]
    assert span.attributes[A.USAGE_OUTPUT_TOKENS] == 321  # message_start said 1
    check_cost(
        span,
        input=usd(400, input_),
        output=usd(321, output),
        cache_read=usd(1000, read),
        cache_write=usd(600, write_5m),
    )


def test_anthropic_unknown_model_has_no_cost(atelemetry):
    payload = message_payload(model="claude-private-tuned")
    client = make_anthropic_client(lambda request: anthropic_json(payload), telemetry=atelemetry)
    client.messages.create(model="claude-private-tuned", max_tokens=1024, messages=MESSAGES)
    (span,) = [s for s in atelemetry.spans() if s.name.startswith("chat")]
    assert cost_attributes(span) == {}
    assert cost_points(atelemetry) == []


# -- custom prices --------------------------------------------------------------------------------

CUSTOM = {
    "gpt-4o-mini-2024-07-18": {"input": 0.1, "output": 0.5, "cache_read": 0.01},
    "anthropic/claude-private-tuned": {"input": 2, "output": 10, "cache_read": 0.2, "cache_write": 2.5},
}


def test_custom_prices_win_and_price_private_models():
    pricer = Pricer(CUSTOM)
    with instrumented("openai", pricer) as t:
        openai_chat(prompt_tokens=2000, completion_tokens=100, cached_tokens=1024).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
        check_cost(t.span(), input=usd(976, "0.1"), output=usd(100, "0.5"), cache_read=usd(1024, "0.01"))
    with instrumented("anthropic", pricer) as t:
        usage = anthropic_usage(100, 50, cache_read=1000, cache_creation=400)
        payload = message_payload(model="claude-private-tuned", usage_=usage)
        client = make_anthropic_client(lambda request: anthropic_json(payload), telemetry=t)
        client.messages.create(model="claude-private-tuned", max_tokens=1024, messages=MESSAGES)
        (span,) = [s for s in t.spans() if s.name.startswith("chat")]
        check_cost(
            span,
            input=usd(100, "2"),
            output=usd(50, "10"),
            cache_read=usd(1000, "0.2"),
            cache_write=usd(400, "2.5"),
        )
        ((attributes, value),) = cost_points(t)
        assert attributes == {A.PROVIDER_NAME: "anthropic", A.REQUEST_MODEL: "claude-private-tuned"}
        assert value == pytest.approx(float(usd(100, "2") + usd(50, "10") + usd(1000, "0.2") + usd(400, "2.5")))


def test_instrument_prices_argument_and_env(monkeypatch):
    t = Telemetry()
    instrumentor = instrument(t, cost=True, prices={"gpt-4o-mini-2024-07-18": {"input": 0.1, "output": 0.5}})
    try:
        openai_chat().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        check_cost(t.span(), input=usd(19, "0.1"), output=usd(10, "0.5"), cache_read=usd(0, "0.1"))
    finally:
        instrumentor.uninstrument()
    monkeypatch.setenv(PRICES_ENV, json.dumps({"gpt-4o-mini-2024-07-18": {"input": 0.2, "output": 0.4}}))
    t = Telemetry()
    instrumentor = instrument(t, cost=True)
    try:
        openai_chat().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        check_cost(t.span(), input=usd(19, "0.2"), output=usd(10, "0.4"), cache_read=usd(0, "0.2"))
    finally:
        instrumentor.uninstrument()


# -- the tenant dimension ---------------------------------------------------------------------------


def test_cost_counter_by_tenant(telemetry):
    from otel_llm import request_context

    if not hasattr(request_context, "context"):
        pytest.skip("otel_llm.request_context.context is not there yet")
    client = openai_chat(prompt_tokens=1000, completion_tokens=100, cached_tokens=0)
    for tenant in ("acme", "acme", "globex"):
        with request_context.context(tenant_id=tenant):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    input_, output, _ = GPT_4O_MINI
    one_call = float(usd(1000, input_) + usd(100, output))
    points = {a[A.TENANT_ID]: v for a, v in cost_points(telemetry)}
    assert points == {"acme": pytest.approx(2 * one_call, rel=1e-12), "globex": pytest.approx(one_call, rel=1e-12)}
    for attributes, _ in cost_points(telemetry):
        assert set(attributes) == {A.PROVIDER_NAME, A.REQUEST_MODEL, A.TENANT_ID}


# -- Bedrock: the inference profile asked for selects global or regional prices ---------------------

BEDROCK_SONNET_4_5 = {"global": ("3", "15"), "regional": ("3.3", "16.5")}  # input, output
REQUEST_MODEL_PASSED = "request_model" in inspect.getsource(Invocation._finish)


@pytest.mark.skipif(not REQUEST_MODEL_PASSED, reason="Invocation does not pass the request model to the Pricer yet")
@pytest.mark.parametrize(
    ("request_model", "rates"),
    [
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "global"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "regional"),
    ],
)
def test_bedrock_prices_by_inference_profile(atelemetry, request_model, rates):
    payload = message_payload(model="claude-sonnet-4-5-20250929", usage_=anthropic_usage(1000, 100))
    client = make_anthropic_client(lambda request: anthropic_json(payload), telemetry=atelemetry, platform="bedrock")
    client.messages.create(model=request_model, max_tokens=1024, messages=MESSAGES)
    (span,) = [s for s in atelemetry.spans() if s.name.startswith("chat")]
    assert span.attributes[A.PROVIDER_NAME] == "aws.bedrock"
    input_, output = BEDROCK_SONNET_4_5[rates]
    check_cost(span, input=usd(1000, input_), output=usd(100, output), cache_read=usd(0, "0"), cache_write=usd(0, "0"))


def test_cost_can_be_turned_off_by_argument_and_env(monkeypatch):
    t = Telemetry()
    instrumentor = instrument(t, cost=False)
    try:
        openai_chat().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert cost_attributes(t.span()) == {}
    finally:
        instrumentor.uninstrument()
    monkeypatch.setenv("OTEL_LLM_COST", "false")
    t = Telemetry()
    instrumentor = instrument(t, cost=None)  # None: the environment decides
    try:
        openai_chat().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert cost_attributes(t.span()) == {}
        assert A.METRIC_COST not in t.all_metrics()
    finally:
        instrumentor.uninstrument()
