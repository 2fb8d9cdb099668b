"""Pricer: the USD cost of a call from its usage attributes, checked against independent arithmetic.

Prices per million tokens are hard-coded below as the genai-prices data has them (its numbers are
the providers' public price lists); ``test_hard_coded_prices_are_the_package_data`` fails first,
and says which, if a release of genai-prices changes one. Expected costs are computed here in exact
decimal arithmetic, from token counts as each provider bills them, and compared with the Pricer's
doubles to 12 significant digits.
"""

from __future__ import annotations

import json
import logging
import warnings
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from otel_llm.genai import GenAITelemetry
from otel_llm.genai import attributes as A
from otel_llm.genai import cost as cost_module
from otel_llm.genai.cost import PRICES_ENV, PROVIDER_IDS, Pricer, make_pricer, prices_from_env
from tests.support import Telemetry

genai_prices = pytest.importorskip("genai_prices")

# USD per million tokens, as genai-prices has them today: (input, output, cache read, cache write, 1h write)
GPT_4O_MINI = ("0.15", "0.6", "0.075")
O3 = ("2", "8", "0.5")
O3_FLEX = ("1", "4", "0.25")
GPT_5 = ("1.25", "10", "0.125")
GPT_5_PRIORITY = ("2.5", "20", "0.25")
SONNET_4_6 = ("3", "15", "0.3", "3.75", "6")
SONNET_4_6_BATCH = ("1.5", "7.5", "0.15", "1.875", "3")
SONNET_4_5_BASE = ("3", "15", "0.3", "3.75", "6")
SONNET_4_5_OVER_200K = ("6", "22.5", "0.6", "7.5", "12")
BEDROCK_SONNET_4_5_GLOBAL = ("3", "15", "0.3", "3.75", "6")
BEDROCK_SONNET_4_5_REGIONAL = ("3.3", "16.5", "0.33", "4.125", "6.6")
DEEP_RESEARCH = ("2", "8")  # perplexity sonar-deep-research; reasoning tokens at 3
DEEP_RESEARCH_REASONING = "3"
SONAR = ("1", "1")  # perplexity sonar, plus 12 USD per thousand requests
SONAR_PER_THOUSAND_REQUESTS = "12"


def usd(tokens: int, per_mtok: str) -> Decimal:
    return Decimal(tokens) * Decimal(per_mtok) / Decimal(1_000_000)


def close(value: float, expected: Decimal) -> bool:
    return value == pytest.approx(float(expected), rel=1e-12, abs=0)


def usage(
    input_tokens: int,
    output_tokens: int,
    *,
    cache_read: int | None = None,
    cache_write: int | None = None,
    write_1h: int | None = None,
    reasoning: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Response attributes as the instrumentations set them (input includes cached, output reasoning)."""
    attrs: dict[str, Any] = {A.USAGE_INPUT_TOKENS: input_tokens, A.USAGE_OUTPUT_TOKENS: output_tokens}
    if cache_read is not None:
        attrs[A.USAGE_CACHE_READ_INPUT_TOKENS] = cache_read
    if cache_write is not None:
        attrs[A.USAGE_CACHE_CREATION_INPUT_TOKENS] = cache_write
    if write_1h is not None:
        attrs[A.ANTHROPIC_CACHE_CREATION_1H] = write_1h
        attrs[A.ANTHROPIC_CACHE_CREATION_5M] = (cache_write or 0) - write_1h
    if reasoning is not None:
        attrs[A.USAGE_REASONING_OUTPUT_TOKENS] = reasoning
    attrs.update(extra)
    return attrs


def check(result: dict[str, float] | None, *, input: Decimal, output: Decimal, **parts: Decimal) -> None:
    """The cost attributes: each part as expected, and the total their sum (plus any per-call fee)."""
    assert result is not None
    fee = parts.pop("fee", Decimal(0))
    expected = {A.COST_INPUT_USD: input, A.COST_OUTPUT_USD: output}
    if "cache_read" in parts:
        expected[A.COST_CACHE_READ_USD] = parts["cache_read"]
    if "cache_write" in parts:
        expected[A.COST_CACHE_WRITE_USD] = parts["cache_write"]
    assert set(result) == {A.COST_USD, *expected}
    for key, value in expected.items():
        assert close(result[key], value), (key, result[key], value)
    assert close(result[A.COST_USD], sum(expected.values()) + fee)
    assert result[A.COST_USD] == sum(v for k, v in result.items() if k != A.COST_USD) + float(fee)


@pytest.fixture(scope="module")
def pricer() -> Pricer:
    return Pricer()


# -- the numbers above are the package's --------------------------------------------------------


def _package_prices(provider_id: str, model: str, context: dict[str, str] | None = None) -> Any:
    from genai_prices.data_snapshot import get_snapshot

    _, info = get_snapshot().find_provider_model(model, None, provider_id, None)
    return info.get_prices(datetime.now(tz=timezone.utc), context)


def _flat(value: Any, tier: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)
    return str(value.base if tier == 0 else value.tiers[tier - 1].price)


@pytest.mark.parametrize(
    ("provider_id", "model", "context", "expected", "tier"),
    [
        ("openai", "gpt-4o-mini", None, GPT_4O_MINI, 0),
        ("openai", "o3", None, O3, 0),
        ("openai", "o3", {"service_tier": "flex"}, O3_FLEX, 0),
        ("openai", "gpt-5", None, GPT_5, 0),
        ("openai", "gpt-5", {"service_tier": "priority"}, GPT_5_PRIORITY, 0),
        ("anthropic", "claude-sonnet-4-6", None, SONNET_4_6, 0),
        ("anthropic", "claude-sonnet-4-6", {"processing": "batch"}, SONNET_4_6_BATCH, 0),
        ("anthropic", "claude-sonnet-4-5", None, SONNET_4_5_BASE, 0),
        ("anthropic", "claude-sonnet-4-5", None, SONNET_4_5_OVER_200K, 1),
        ("aws", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", None, BEDROCK_SONNET_4_5_GLOBAL, 0),
        ("aws", "anthropic.claude-sonnet-4-5-20250929-v1:0", None, BEDROCK_SONNET_4_5_REGIONAL, 0),
        ("perplexity", "sonar-deep-research", None, DEEP_RESEARCH, 0),
        ("perplexity", "sonar", None, SONAR, 0),
    ],
)
def test_hard_coded_prices_are_the_package_data(provider_id, model, context, expected, tier):
    prices = _package_prices(provider_id, model, context)
    keys = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")
    got = tuple(_flat(getattr(prices, k), tier) for k in keys[: len(expected)])
    assert tuple(Decimal(g) for g in got) == tuple(Decimal(e) for e in expected), f"{model}: prices changed"


def test_hard_coded_extras_are_the_package_data():
    deep = _package_prices("perplexity", "sonar-deep-research")
    assert deep.output_reasoning_mtok == Decimal(DEEP_RESEARCH_REASONING)
    assert _package_prices("perplexity", "sonar").requests_kcount == Decimal(SONAR_PER_THOUSAND_REQUESTS)
    tiers = _package_prices("anthropic", "claude-sonnet-4-5").input_mtok.tiers
    assert [t.start for t in tiers] == [200_000]


# -- OpenAI ------------------------------------------------------------------------------------


def test_plain_call_dated_snapshot(pricer):
    result = pricer.price("openai", "gpt-4o-mini-2024-07-18", usage(1234, 567))
    input_, output, _ = GPT_4O_MINI
    check(result, input=usd(1234, input_), output=usd(567, output))


def test_cached_input(pricer):
    result = pricer.price("openai", "gpt-4o-mini-2024-07-18", usage(5000, 300, cache_read=3072))
    input_, output, read = GPT_4O_MINI
    check(result, input=usd(5000 - 3072, input_), output=usd(300, output), cache_read=usd(3072, read))


def test_reasoning_tokens_are_output_tokens(pricer):
    result = pricer.price("openai", "o3-2025-04-16", usage(800, 2500, cache_read=0, reasoning=1900))
    input_, output, read = O3
    check(result, input=usd(800, input_), output=usd(2500, output), cache_read=usd(0, read))


def test_reasoning_priced_apart_when_the_model_does(pricer):
    result = pricer.price("perplexity", "sonar-deep-research", usage(1000, 4000, reasoning=3000))
    input_, output = DEEP_RESEARCH
    check(result, input=usd(1000, input_), output=usd(1000, output) + usd(3000, DEEP_RESEARCH_REASONING))


def test_per_request_fee_is_in_the_total_only(pricer):
    result = pricer.price("perplexity", "sonar", usage(100, 50))
    input_, output = SONAR
    fee = Decimal(SONAR_PER_THOUSAND_REQUESTS) / 1000
    check(result, input=usd(100, input_), output=usd(50, output), fee=fee)


@pytest.mark.parametrize(
    ("model", "tier", "prices"),
    [
        ("o3", "flex", O3_FLEX),
        ("o3", "default", O3),
        ("gpt-5-2025-08-07", "priority", GPT_5_PRIORITY),
        ("gpt-5-2025-08-07", "default", GPT_5),
        ("gpt-5-2025-08-07", "scale", GPT_5),  # a tier with no price of its own: standard rates
    ],
)
def test_service_tier_selects_the_price(pricer, model, tier, prices):
    attrs = usage(10_000, 2_000, cache_read=4_000, **{A.OPENAI_RESPONSE_SERVICE_TIER: tier})
    result = pricer.price("openai", model, attrs)
    input_, output, read = prices
    check(result, input=usd(6_000, input_), output=usd(2_000, output), cache_read=usd(4_000, read))


def test_azure_deployment_priced_by_the_model_that_answered(pricer):
    # Azure borrows OpenAI's prices; tier rates belong to OpenAI's own API and are not applied.
    attrs = usage(1000, 100, cache_read=0, **{A.OPENAI_RESPONSE_SERVICE_TIER: "priority"})
    result = pricer.price("azure.ai.openai", "gpt-4o-mini-2024-07-18", attrs, "my-deployment")
    input_, output, read = GPT_4O_MINI
    check(result, input=usd(1000, input_), output=usd(100, output), cache_read=usd(0, read))


# -- Anthropic ---------------------------------------------------------------------------------


def test_anthropic_cache_writes_5m_and_1h(pricer):
    # Anthropic says input_tokens=1200 (uncached), cache_read=30000, cache_creation=8000 of which 1h 5000.
    attrs = usage(1200 + 30_000 + 8_000, 700, cache_read=30_000, cache_write=8_000, write_1h=5_000)
    result = pricer.price("anthropic", "claude-sonnet-4-6", attrs)
    input_, output, read, write_5m, write_1h = SONNET_4_6
    check(
        result,
        input=usd(1200, input_),
        output=usd(700, output),
        cache_read=usd(30_000, read),
        cache_write=usd(3_000, write_5m) + usd(5_000, write_1h),
    )


def test_anthropic_cache_writes_without_lifetime_breakdown_are_5m(pricer):
    attrs = usage(100 + 2_000, 50, cache_read=0, cache_write=2_000)
    result = pricer.price("anthropic", "claude-sonnet-4-6", attrs)
    input_, output, read, write_5m, _ = SONNET_4_6
    check(
        result,
        input=usd(100, input_),
        output=usd(50, output),
        cache_read=usd(0, read),
        cache_write=usd(2_000, write_5m),
    )


@pytest.mark.parametrize(("total_input", "prices"), [(200_000, SONNET_4_5_BASE), (200_001, SONNET_4_5_OVER_200K)])
def test_long_context_tier_applies_to_every_token(pricer, total_input, prices):
    attrs = usage(total_input, 1000, cache_read=50_000, cache_write=10_000, write_1h=4_000)
    result = pricer.price("anthropic", "claude-sonnet-4-5-20250929", attrs)
    input_, output, read, write_5m, write_1h = prices
    check(
        result,
        input=usd(total_input - 60_000, input_),
        output=usd(1000, output),
        cache_read=usd(50_000, read),
        cache_write=usd(6_000, write_5m) + usd(4_000, write_1h),
    )


def test_anthropic_batch_tier(pricer):
    attrs = usage(1000, 100, cache_read=0, cache_write=0, **{A.ANTHROPIC_RESPONSE_SERVICE_TIER: "batch"})
    result = pricer.price("anthropic", "claude-sonnet-4-6", attrs)
    input_, output, read, write, _ = SONNET_4_6_BATCH
    check(result, input=usd(1000, input_), output=usd(100, output), cache_read=usd(0, read), cache_write=usd(0, write))


@pytest.mark.parametrize("tier", ["standard", "priority"])
def test_anthropic_standard_and_priority_tiers_use_list_prices(pricer, tier):
    attrs = usage(1000, 100, **{A.ANTHROPIC_RESPONSE_SERVICE_TIER: tier})
    result = pricer.price("anthropic", "claude-sonnet-4-6", attrs)
    check(result, input=usd(1000, SONNET_4_6[0]), output=usd(100, SONNET_4_6[1]))


@pytest.mark.parametrize(
    ("request_model", "prices"),
    [
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", BEDROCK_SONNET_4_5_GLOBAL),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", BEDROCK_SONNET_4_5_REGIONAL),
        (None, BEDROCK_SONNET_4_5_REGIONAL),
    ],
)
def test_bedrock_inference_profile_selects_global_or_regional_prices(pricer, request_model, prices):
    result = pricer.price("aws.bedrock", "claude-sonnet-4-5-20250929", usage(1000, 100), request_model)
    check(result, input=usd(1000, prices[0]), output=usd(100, prices[1]))


def test_vertex_claude(pricer):
    result = pricer.price("gcp.vertex_ai", "claude-sonnet-4-6", usage(1000, 100))
    check(result, input=usd(1000, SONNET_4_6[0]), output=usd(100, SONNET_4_6[1]))


# -- custom prices ----------------------------------------------------------------------------------


def test_custom_price_for_a_private_model():
    pricer = Pricer({"acme-llm-7b": {"input": 0.5, "output": 1.5, "cache_read": 0.05, "cache_write": 0.6}})
    attrs = usage(10_000, 1_000, cache_read=4_000, cache_write=1_000)
    result = pricer.price("openai_compatible", "acme-llm-7b", attrs)
    check(
        result,
        input=usd(5_000, "0.5"),
        output=usd(1_000, "1.5"),
        cache_read=usd(4_000, "0.05"),
        cache_write=usd(1_000, "0.6"),
    )


def test_custom_price_wins_over_the_package():
    pricer = Pricer({"gpt-4o-mini-2024-07-18": {"input": 0.1, "output": 0.4}})
    result = pricer.price("openai", "gpt-4o-mini-2024-07-18", usage(1000, 100, cache_read=200))
    # No cache_read price given: cached tokens cost the input price.
    check(result, input=usd(800, "0.1"), output=usd(100, "0.4"), cache_read=usd(200, "0.1"))


def test_provider_qualified_key_wins_over_the_model_alone():
    pricer = Pricer(
        {
            "llama-3-70b": {"input": 1, "output": 2},
            "vllm/llama-3-70b": {"input": 0.2, "output": 0.3},
            "Azure.AI.OpenAI/My-Deployment": {"input": 4, "output": 8},
        }
    )
    check(pricer.price("vllm", "llama-3-70b", usage(1000, 10)), input=usd(1000, "0.2"), output=usd(10, "0.3"))
    check(pricer.price("ollama", "llama-3-70b", usage(1000, 10)), input=usd(1000, "1"), output=usd(10, "2"))
    # A fine-tuned Azure deployment: the deployment (request model) has the custom price.
    result = pricer.price("azure.ai.openai", "gpt-4o-mini-2024-07-18", usage(1000, 10), "my-deployment")
    check(result, input=usd(1000, "4"), output=usd(10, "8"))


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        ([("gpt-x", 1)], "custom_prices: expected a mapping of 'model' or 'provider/model' to prices, got list"),
        ({"": {"input": 1, "output": 1}}, "custom_prices: key '': expected a model name or 'provider/model'"),
        ({"gpt-x": 1.5}, "custom_prices['gpt-x']: expected a mapping with 'input' and 'output'"),
        ({"gpt-x": {"input": 1}}, "custom_prices['gpt-x']: 'output' is required (USD per million tokens)"),
        (
            {"gpt-x": {"input": 1, "output": 2, "cached": 0.5}},
            "custom_prices['gpt-x']: unknown key 'cached': expected only input, output, cache_read, cache_write",
        ),
        (
            {"gpt-x": {"input": "1.5", "output": 2}},
            "custom_prices['gpt-x']['input']: expected a number (USD per million tokens), got '1.5'",
        ),
        (
            {"gpt-x": {"input": 1, "output": -2}},
            "custom_prices['gpt-x']['output']: expected a finite number >= 0 (USD per million tokens), got -2",
        ),
        (
            {"gpt-x": {"input": 1, "output": 2, "cache_read": float("nan")}},
            "custom_prices['gpt-x']['cache_read']: expected a finite number >= 0",
        ),
        ({"gpt-x": {"input": True, "output": 2}}, "custom_prices['gpt-x']['input']: expected a number"),
        (
            {"GPT-X": {"input": 1, "output": 2}, "gpt-x": {"input": 1, "output": 2}},
            "custom_prices['gpt-x']: the same model as another key",
        ),
    ],
)
def test_invalid_custom_prices_are_refused_with_the_key_path(prices, message):
    with pytest.raises(ValueError) as err:
        Pricer(prices)
    assert message in str(err.value)


def test_prices_from_env_inline_and_file(tmp_path):
    inline = {"acme": {"input": 1, "output": 2}}
    assert prices_from_env({PRICES_ENV: json.dumps(inline)}) == inline
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(inline))
    assert prices_from_env({PRICES_ENV: str(path)}) == inline
    assert prices_from_env({}) is None
    assert prices_from_env({PRICES_ENV: "  "}) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/nonexistent/prices.json", "OTEL_LLM_PRICES: cannot read the price file '/nonexistent/prices.json'"),
        ("{not json", "OTEL_LLM_PRICES: inline JSON is not valid JSON"),
    ],
)
def test_prices_from_env_errors_name_the_variable(value, message):
    with pytest.raises(ValueError) as err:
        prices_from_env({PRICES_ENV: value})
    assert message in str(err.value)


def test_prices_from_env_file_must_hold_an_object(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="must be a JSON object of model to prices, got list"):
        prices_from_env({PRICES_ENV: str(path)})


def test_make_pricer(monkeypatch, caplog):
    with pytest.raises(ValueError, match=r"prices\['x'\]: 'output' is required"):
        make_pricer({"x": {"input": 1}})
    monkeypatch.setenv(PRICES_ENV, json.dumps({"acme": {"input": 1, "output": 2}}))
    check(make_pricer().price("vllm", "acme", usage(10, 10)), input=usd(10, "1"), output=usd(10, "2"))
    # Explicit prices replace the variable's.
    assert make_pricer({"other": {"input": 1, "output": 1}}).price("vllm", "acme", usage(10, 10)) is None
    # A bad variable is a warning, not a crash; package prices still apply.
    monkeypatch.setenv(PRICES_ENV, json.dumps({"acme": {"input": "cheap", "output": 2}}))
    with caplog.at_level(logging.WARNING, logger="otel_llm.genai.cost"):
        pricer = make_pricer()
    assert "OTEL_LLM_PRICES['acme']['input']: expected a number (USD per million tokens), got 'cheap'" in caplog.text
    assert pricer.price("vllm", "acme", usage(10, 10)) is None
    assert pricer.price("openai", "gpt-4o-mini", usage(10, 10)) is not None


# -- no cost ----------------------------------------------------------------------------------------


def _cost_logs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "otel_llm.genai.cost"]


def test_unknown_model_no_cost_and_one_debug_line(caplog):
    pricer = Pricer()
    with caplog.at_level(logging.DEBUG, logger="otel_llm.genai.cost"):
        for tier in (None, "flex", None, "priority"):
            extra = {A.OPENAI_RESPONSE_SERVICE_TIER: tier} if tier else {}
            assert pricer.price("openai", "my-private-model", usage(100, 10, **extra)) is None
        assert pricer.price("openai", "another-private-model", usage(100, 10)) is None
        assert pricer.price("openai", "another-private-model", usage(100, 10)) is None
    logs = _cost_logs(caplog)
    assert len(logs) == 2
    assert "no price for model 'my-private-model' of provider 'openai'" in logs[0]
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "otel_llm.genai.cost")


@pytest.mark.parametrize("provider", ["ollama", "vllm", "openai_compatible", "huggingface", None])
def test_self_hosted_and_unmapped_providers_get_no_cost(pricer, provider):
    # Never a guess: a local server running "gpt-oss-120b" is not billed at a cloud's price.
    assert pricer.price(provider, "gpt-4o-mini", usage(100, 10)) is None


def test_provider_named_by_its_genai_prices_id(pricer):
    # A provider override may name a genai-prices provider directly.
    assert pricer.price("novita", "no-such-model", usage(1, 1)) is None
    assert PROVIDER_IDS["x_ai"] == "x-ai"
    assert pricer.price("x_ai", "grok-4", usage(1000, 100)) is not None


def test_no_usage_no_cost(pricer, caplog):
    with caplog.at_level(logging.DEBUG, logger="otel_llm.genai.cost"):
        assert pricer.price("openai", "gpt-4o-mini", {}) is None
        assert pricer.price("openai", None, usage(10, 10)) is None
    assert len(_cost_logs(caplog)) == 1  # the call without a model, once


@pytest.mark.parametrize(
    "attrs",
    [
        usage(100, 10, cache_read=101),  # more cached than input in all
        usage(100, 10, cache_read=50, cache_write=60),
        usage(100, 10, cache_write=10, write_1h=11),
        usage(100, 10, reasoning=11),
    ],
)
def test_inconsistent_usage_no_cost(pricer, attrs):
    assert pricer.price("anthropic", "claude-sonnet-4-6", attrs) is None


def test_never_raises(pricer):
    assert pricer.price("openai", "gpt-4o-mini", {A.USAGE_INPUT_TOKENS: "many", A.USAGE_OUTPUT_TOKENS: 1}) is None
    assert pricer.price("openai", "gpt-4o-mini", None) is None  # type: ignore[arg-type]


def test_free_model_costs_zero(pricer):
    result = pricer.price("openrouter", "xingchen-agi/xing4.0-29b-a4b:free", usage(1000, 100))
    check(result, input=Decimal(0), output=Decimal(0))


def test_model_priced_by_something_other_than_tokens_gets_no_cost(pricer):
    assert pricer.price("openai", "tts-1", usage(100, 0)) is None


# -- caching ----------------------------------------------------------------------------------------


def test_prices_that_change_with_time_are_looked_up_again(monkeypatch):
    # DeepSeek's off-peak window: the rate card expires at the next window boundary.
    pricer = Pricer()
    pricer.price("deepseek", "deepseek-chat", usage(100, 10))
    (card,) = pricer._cache.values()
    assert card is not None and card.expires_at - datetime.now(tz=timezone.utc).timestamp() <= 24 * 3600
    lookups = []
    original = pricer._resolve
    monkeypatch.setattr(pricer, "_resolve", lambda key: lookups.append(key) or original(key))
    pricer.price("deepseek", "deepseek-chat", usage(100, 10))
    assert lookups == []
    monkeypatch.setattr(cost_module, "time", lambda: card.expires_at)
    pricer.price("deepseek", "deepseek-chat", usage(100, 10))
    assert len(lookups) == 1


def test_static_prices_are_looked_up_once(monkeypatch):
    pricer = Pricer()
    lookups = []
    original = pricer._resolve
    monkeypatch.setattr(pricer, "_resolve", lambda key: lookups.append(key) or original(key))
    for _ in range(3):
        pricer.price("openai", "gpt-4o-mini", usage(100, 10))
        pricer.price("openai", "unknown-model", usage(100, 10))
    assert len(lookups) == 2


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(cost_module, "MAX_CACHED", 3)
    pricer = Pricer()
    for i in range(10):
        pricer.price("openai", f"private-{i}", usage(1, 1))
    assert len(pricer._cache) <= 3


# -- agreement with genai-prices' own calculation ------------------------------------------------------


def test_every_token_priced_model_agrees_with_genai_prices():
    """For every model of the providers we map, the Pricer's figures are genai-prices' calc_price's."""
    from genai_prices import Usage, calc_price
    from genai_prices.data_snapshot import get_snapshot

    pricer = Pricer()
    our_name = {package_id: name for name, package_id in reversed(PROVIDER_IDS.items())}
    cases = [
        dict(i=1000, o=200, cr=300, cw=100, w1h=40, r=50),
        dict(i=300_000, o=5000, cr=100_000, cw=20_000, w1h=5_000, r=1000),
    ]
    checked = 0
    for provider in get_snapshot().providers:
        if provider.id not in our_name:
            continue
        for model in provider.models:
            for tier in (None, "flex", "priority") if provider.id == "openai" else (None,):
                for c in cases:
                    attrs = usage(
                        c["i"],
                        c["o"],
                        cache_read=c["cr"],
                        cache_write=c["cw"],
                        write_1h=c["w1h"],
                        reasoning=c["r"],
                        **({A.OPENAI_RESPONSE_SERVICE_TIER: tier} if tier else {}),
                    )
                    ours = pricer.price(our_name[provider.id], model.id, attrs)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        try:
                            ref = calc_price(
                                Usage(
                                    input_tokens=c["i"],
                                    output_tokens=c["o"],
                                    cache_read_tokens=c["cr"],
                                    cache_write_tokens=c["cw"],
                                    cache_write_1h_tokens=c["w1h"],
                                    output_reasoning_tokens=c["r"],
                                ),
                                model.id,
                                provider_id=provider.id,
                                price_context={"service_tier": tier} if tier else None,
                            )
                        except (LookupError, ValueError):
                            continue
                    if ours is None:  # only models not priced by tokens (speech, transcription, OCR)
                        prices = ref.model_price
                        assert prices.input_mtok is None and prices.output_mtok is None, model.id
                        continue
                    checked += 1
                    total = float(ref.total_price)
                    assert ours[A.COST_USD] == pytest.approx(total, rel=1e-12, abs=1e-15), (provider.id, model.id)
                    inputs = ours[A.COST_INPUT_USD] + ours[A.COST_CACHE_READ_USD] + ours[A.COST_CACHE_WRITE_USD]
                    assert inputs == pytest.approx(float(ref.input_price), rel=1e-12, abs=1e-15), model.id
                    assert ours[A.COST_OUTPUT_USD] == pytest.approx(float(ref.output_price), rel=1e-12, abs=1e-15)
    assert checked > 1000


# -- through an Invocation: span attributes and the cost counter --------------------------------------


def test_invocation_records_cost_and_counter_with_tenant():
    t = Telemetry()
    g = GenAITelemetry("test", tracer_provider=t.tracer_provider, meter_provider=t.meter_provider)
    request = {
        A.OPERATION_NAME: "chat",
        A.PROVIDER_NAME: "openai",
        A.REQUEST_MODEL: "gpt-4o-mini",
        A.TENANT_ID: "acme",
    }
    for _ in range(2):
        inv = g.start("chat", "gpt-4o-mini", dict(request))
        inv.set(A.RESPONSE_MODEL, "gpt-4o-mini-2024-07-18")
        inv.set_usage(2000, 100, cache_read=1024)
        inv.end()
    unknown = g.start("chat", "private", {**request, A.REQUEST_MODEL: "private"})
    unknown.set_usage(10, 10)
    unknown.end()
    input_, output, read = GPT_4O_MINI
    one_call = usd(976, input_) + usd(100, output) + usd(1024, read)
    spans = t.spans()
    assert [close(s.attributes[A.COST_USD], one_call) for s in spans[:2]] == [True, True]
    assert not any(k.startswith("otel_llm.cost") for k in spans[2].attributes)
    (point,) = t.all_metrics()[A.METRIC_COST]
    assert dict(point.attributes) == {
        A.PROVIDER_NAME: "openai",
        A.REQUEST_MODEL: "gpt-4o-mini-2024-07-18",
        A.TENANT_ID: "acme",
    }
    assert close(point.value, 2 * one_call)
