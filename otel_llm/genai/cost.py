"""The USD cost of a finished call, from its usage attributes (docs/cost.md).

Prices come from the ``genai-prices`` package (its bundled data; nothing is fetched over the
network). Custom prices, in USD per million tokens, take precedence: ``instrument(prices=...)`` or
the ``OTEL_LLM_PRICES`` variable (a JSON file's path, or inline JSON).

``Pricer.price()`` runs on the request path of every call, and genai-prices' own ``calc_price``
costs about 160 µs. So the package is asked once per (provider, model, service tier) for the
model's prices, which are kept as plain floats (a "rate card"), and each call is priced with a few
float operations using the package's rules: input tokens include cache reads and writes; cached
tokens are charged at their own rate when the model has one, else at the input rate; tiered
prices apply to all tokens once the call's input tokens pass a tier's threshold. A model not
found is remembered too, so asking again costs one dict lookup.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from time import time
from typing import Any

from otel_llm._safety import report
from otel_llm.genai import attributes as A

_log = logging.getLogger(__name__)

COST_ENV = "OTEL_LLM_COST"
PRICES_ENV = "OTEL_LLM_PRICES"
PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")
MAX_CACHED = 4096  # (provider, model, tier) entries kept; the cache starts afresh past this
PER_MTOK = 1_000_000.0

# gen_ai.provider.name → genai-prices provider id. A name not listed is used as is when it is a
# genai-prices provider id exactly (e.g. a provider override naming "novita"); otherwise the call
# is not priced from the package: self-hosted servers (ollama, vllm, openai_compatible, ...) have
# no list price, and guessing a provider from the model name could give a wrong cost.
PROVIDER_IDS: Mapping[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "groq": "groq",
    "deepseek": "deepseek",
    "mistral_ai": "mistral",
    "x_ai": "x-ai",
    "perplexity": "perplexity",
    "openrouter": "openrouter",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "cohere": "cohere",
    "cerebras": "cerebras",
    "moonshot": "moonshotai",
}
# Providers whose request model says more about the price than the response model: on Bedrock the
# inference profile (``global.anthropic...`` vs ``us.anthropic...``) selects global or regional rates.
REQUEST_MODEL_FIRST = frozenset({"aws"})

_MISSING: Any = object()
_INF = math.inf


def _tier_context(attributes: Mapping[str, Any]) -> tuple[tuple[str, str], ...] | None:
    """genai-prices' ``price_context`` for the tier the response says it was served on."""
    tier = attributes.get(A.OPENAI_RESPONSE_SERVICE_TIER)
    if isinstance(tier, str):  # flex, priority, fast, scale, ... "default" is the standard rate
        return None if tier in ("default", "auto") else (("service_tier", tier),)
    tier = attributes.get(A.ANTHROPIC_RESPONSE_SERVICE_TIER)
    if tier == "batch":
        return (("processing", "batch"),)
    # Anthropic "standard", and "priority" (billed by commitment: no list price, standard rates).
    return None


class _Card:
    """One model's prices in USD per million tokens, as floats; tiered ones as (threshold, price) pairs.

    ``cache_read`` and ``cache_write`` default to the input price and ``cache_write_1h`` to
    ``cache_write``, as genai-prices charges a token kind the model has no price for.
    """

    __slots__ = (
        "cache_read",
        "cache_write",
        "cache_write_1h",
        "expires_at",
        "input",
        "output",
        "per_call",
        "reasoning",
        "tiered",
    )

    def __init__(
        self,
        *,
        input: Any,
        output: Any,
        cache_read: Any = None,
        cache_write: Any = None,
        cache_write_1h: Any = None,
        reasoning: Any = None,
        per_call: float = 0.0,
        expires_at: float = _INF,
    ) -> None:
        self.input = input if input is not None else 0.0
        self.output = output if output is not None else 0.0
        self.cache_read = cache_read if cache_read is not None else self.input
        self.cache_write = cache_write if cache_write is not None else self.input
        self.cache_write_1h = cache_write_1h if cache_write_1h is not None else self.cache_write
        self.reasoning = reasoning  # None: reasoning tokens are output tokens at the output price
        self.per_call = per_call
        self.expires_at = expires_at
        rates = (self.input, self.output, self.cache_read, self.cache_write, self.cache_write_1h, reasoning)
        self.tiered = any(isinstance(r, tuple) for r in rates)

    def cost(self, attributes: Mapping[str, Any]) -> dict[str, float] | None:
        get = attributes.get
        input_tokens = get(A.USAGE_INPUT_TOKENS)
        output_tokens = get(A.USAGE_OUTPUT_TOKENS)
        if input_tokens is None and output_tokens is None:
            return None  # no usage reported (a failed call, a stream without usage): no cost
        input_tokens = input_tokens or 0
        output_tokens = output_tokens or 0
        cache_read_tokens = get(A.USAGE_CACHE_READ_INPUT_TOKENS)
        cache_write_tokens = get(A.USAGE_CACHE_CREATION_INPUT_TOKENS)
        read = cache_read_tokens or 0
        write = cache_write_tokens or 0
        write_1h = get(A.ANTHROPIC_CACHE_CREATION_1H) or 0
        reasoning = get(A.USAGE_REASONING_OUTPUT_TOKENS) or 0
        uncached = input_tokens - read - write
        if uncached < 0 or write_1h > write or reasoning > output_tokens:
            return None  # inconsistent counts: no cost rather than a wrong one

        r_input, r_output, r_read = self.input, self.output, self.cache_read
        r_write, r_write_1h, r_reasoning = self.cache_write, self.cache_write_1h, self.reasoning
        if self.tiered:
            r_input, r_output, r_read, r_write, r_write_1h, r_reasoning = (
                _tier(r, input_tokens) for r in (r_input, r_output, r_read, r_write, r_write_1h, r_reasoning)
            )

        input_usd = uncached * r_input / PER_MTOK
        if r_reasoning is None or reasoning == 0:
            output_usd = output_tokens * r_output / PER_MTOK
        else:
            output_usd = ((output_tokens - reasoning) * r_output + reasoning * r_reasoning) / PER_MTOK
        read_usd = read * r_read / PER_MTOK
        if write_1h == 0 or r_write_1h == r_write:
            write_usd = write * r_write / PER_MTOK
        else:
            write_usd = ((write - write_1h) * r_write + write_1h * r_write_1h) / PER_MTOK
        result = {
            A.COST_USD: input_usd + output_usd + read_usd + write_usd + self.per_call,
            A.COST_INPUT_USD: input_usd,
            A.COST_OUTPUT_USD: output_usd,
        }
        if cache_read_tokens is not None:
            result[A.COST_CACHE_READ_USD] = read_usd
        if cache_write_tokens is not None:
            result[A.COST_CACHE_WRITE_USD] = write_usd
        return result


def _tier(rate: Any, input_tokens: int) -> Any:
    """The price of a tiered rate for a call of ``input_tokens``: the highest tier it passes applies."""
    if not isinstance(rate, tuple):
        return rate
    for start, price in rate:  # highest threshold first; the base price has threshold -1
        if input_tokens > start:
            return price
    return rate[-1][1]


# -- genai-prices -------------------------------------------------------------------------------


def _as_rate(value: Any) -> Any:
    """A genai-prices price (Decimal or TieredPrices) as a float or (threshold, float) pairs, highest first."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    base, tiers = value.base, value.tiers  # TieredPrices
    pairs = [(-1, float(base))] + [(int(t.start), float(t.price)) for t in tiers]
    return tuple(sorted(pairs, key=lambda p: p[0], reverse=True))


def _card_from_package(model_price: Any, expires_at: float) -> _Card | None:
    get = model_price.__dict__.get
    input_rate, output_rate = get("input_mtok"), get("output_mtok")
    if input_rate is None and output_rate is None:
        if any(v is not None for k, v in model_price.__dict__.items() if not k.startswith("_")):
            return None  # priced by something else (characters, seconds, pages): not by tokens
        return _Card(input=0.0, output=0.0, expires_at=expires_at)  # no price at all: a free model
    write = get("cache_write_mtok")
    per_call = _as_rate(get("requests_kcount"))  # USD per thousand requests
    if isinstance(per_call, tuple):
        per_call = per_call[-1][1]
    return _Card(
        input=_as_rate(input_rate),
        output=_as_rate(output_rate),
        cache_read=_as_rate(get("cache_read_mtok")),
        cache_write=_as_rate(write if write is not None else get("cache_write_5m_mtok")),
        cache_write_1h=_as_rate(get("cache_write_1h_mtok")),
        reasoning=_as_rate(get("output_reasoning_mtok")),
        per_call=per_call / 1000 if per_call is not None else 0.0,
        expires_at=expires_at,
    )


def _next_change(model: Any, now: datetime) -> float:
    """When the model's prices may next change (a dated price starting, an off-peak window), as a timestamp."""
    from genai_prices.types import StartDateConstraint, TimeOfDateConstraint

    constraints = [c.constraint for c in model.prices] if isinstance(model.prices, list) else []
    constraints += [v.constraint for v in model.price_variants or ()]
    soonest = _INF
    for c in constraints:
        if c is None:
            continue
        if isinstance(c, StartDateConstraint):
            candidates = [datetime.combine(c.start_date, datetime.min.time(), tzinfo=timezone.utc)]
        elif isinstance(c, TimeOfDateConstraint):
            candidates = [_next_time_of_day(t, now) for t in (c.start_time, c.end_time)]
        else:  # a kind of constraint this code does not know: look again in a minute
            candidates = [now + timedelta(minutes=1)]
        for when in candidates:
            ts = when.timestamp()
            if ts > now.timestamp():
                soonest = min(soonest, ts)
    return soonest


def _next_time_of_day(t: Any, now: datetime) -> datetime:
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    at = datetime.combine(now.date(), t).astimezone(timezone.utc)
    while at <= now:
        at += timedelta(days=1)
    return at


def _load_package() -> Callable[[], Any] | None:
    """genai-prices' snapshot getter, or None when the package is not installed (Python 3.10)."""
    try:
        from genai_prices.data_snapshot import get_snapshot

        get_snapshot()  # loads the bundled data now, at instrumentation time, not on a call's path
        return get_snapshot
    except Exception as err:
        _log.debug("genai-prices is unavailable (%r): only custom prices are used", err)
        return None


# -- custom prices --------------------------------------------------------------------------------


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"{where}: expected a number (USD per million tokens), got {value!r}")
    result = float(value)
    if not math.isfinite(result) or result < 0:
        raise ValueError(f"{where}: expected a finite number >= 0 (USD per million tokens), got {value!r}")
    return result


def _custom_cards(prices: Any, source: str) -> dict[str, _Card]:
    if prices is None:
        return {}
    if not isinstance(prices, Mapping):
        raise ValueError(
            f"{source}: expected a mapping of 'model' or 'provider/model' to prices, got {type(prices).__name__}"
        )
    cards: dict[str, _Card] = {}
    for key, value in prices.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"{source}: key {key!r}: expected a model name or 'provider/model'")
        where = f"{source}[{key!r}]"
        if not isinstance(value, Mapping):
            raise ValueError(
                f"{where}: expected a mapping with 'input' and 'output' (and optionally 'cache_read', "
                f"'cache_write'), in USD per million tokens, got {value!r}"
            )
        unknown = [k for k in value if k not in PRICE_FIELDS]
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r}: expected only {', '.join(PRICE_FIELDS)}")
        for required in ("input", "output"):
            if required not in value:
                raise ValueError(f"{where}: {required!r} is required (USD per million tokens)")
        rates = {k: _number(v, f"{where}[{k!r}]") for k, v in value.items()}
        name = key.strip().lower()
        if name in cards:
            raise ValueError(f"{where}: the same model as another key (names are compared case-insensitively)")
        cards[name] = _Card(**rates)
    return cards


def prices_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Custom prices from ``OTEL_LLM_PRICES``: a JSON file's path, or inline JSON (starting with ``{``).

    None when the variable is unset or empty. Raises ValueError, naming the variable, when the file
    cannot be read or is not a JSON object; the prices themselves are checked by ``Pricer``.
    """
    value = (os.environ if environ is None else environ).get(PRICES_ENV, "").strip()
    if not value:
        return None
    if value.startswith("{"):
        text, what = value, "inline JSON"
    else:
        path = Path(value).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ValueError(f"{PRICES_ENV}: cannot read the price file {str(path)!r}: {err}") from None
        what = f"the price file {str(path)!r}"
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ValueError(f"{PRICES_ENV}: {what} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{PRICES_ENV}: {what} must be a JSON object of model to prices, got {type(data).__name__}")
    return data


def cost_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """``OTEL_LLM_COST=false`` turns pricing off (no cost attributes, no cost metric); on by default."""
    value = (os.environ if environ is None else environ).get(COST_ENV, "").strip().lower()
    return value not in ("false", "0", "no", "off")


def make_pricer(prices: Mapping[str, Mapping[str, float]] | None = None) -> Pricer:
    """The Pricer for ``instrument(prices=...)``, else for ``OTEL_LLM_PRICES``.

    Explicit prices are checked strictly (ValueError). Prices from the environment that are not
    valid are logged as a warning and ignored, so that a bad variable cannot stop an application
    from starting; package prices still apply.
    """
    if prices is not None:
        return Pricer(prices, source="prices")
    try:
        return Pricer(prices_from_env(), source=PRICES_ENV)
    except ValueError as err:
        _log.warning("%s; custom prices ignored", err)
        return Pricer()


class Pricer:
    """Prices calls; unknown models get no cost (never a wrong one, never an error).

    ``custom_prices`` maps ``"model"`` or ``"provider/model"`` (``gen_ai.provider.name``, e.g.
    ``"azure.ai.openai/my-deployment"``) to ``{"input": ..., "output": ..., "cache_read": ...,
    "cache_write": ...}`` in USD per million tokens; they win over the package's prices.
    """

    def __init__(
        self, custom_prices: Mapping[str, Mapping[str, float]] | None = None, *, source: str = "custom_prices"
    ) -> None:
        self.custom_prices = dict(custom_prices or {})
        self._custom = _custom_cards(custom_prices, source)
        self._get_snapshot = _load_package()
        self._snapshot = self._get_snapshot() if self._get_snapshot is not None else None
        self._cache: dict[tuple[Any, ...], _Card | None] = {}
        self._logged: set[tuple[Any, Any]] = set()
        self._lock = threading.Lock()

    def price(
        self,
        provider: str | None,
        model: str | None,
        attributes: Mapping[str, Any],
        request_model: str | None = None,
    ) -> dict[str, float] | None:
        """Cost attributes (``otel_llm.cost.usd`` and its breakdown) for a call's response attributes.

        ``model`` is the model that answered (else the one asked for); ``request_model``, when
        given, is tried too (first on Bedrock, where the inference profile selects the rate).
        """
        try:
            if self._get_snapshot is not None and self._get_snapshot() is not self._snapshot:
                self._reload()  # the application turned on genai-prices' UpdatePrices
            key = (provider, model, request_model, _tier_context(attributes))
            card = self._cache.get(key, _MISSING)
            if card is _MISSING or (card is not None and card.expires_at <= time()):
                card = self._resolve(key)
            return None if card is None else card.cost(attributes)
        except Exception as err:
            report("genai.cost", err)
            return None

    def _reload(self) -> None:
        with self._lock:
            self._snapshot = self._get_snapshot() if self._get_snapshot is not None else None
            self._cache.clear()

    def _resolve(self, key: tuple[Any, ...]) -> _Card | None:
        provider, model, request_model, tier = key
        names = [m for m in (model, request_model) if isinstance(m, str) and m]
        names = list(dict.fromkeys(names))
        card = self._custom_card(provider, names) if self._custom else None
        if card is None and names:
            package_id = self._package_provider(provider)
            if package_id is not None:
                if package_id in REQUEST_MODEL_FIRST and request_model in names:
                    names.remove(request_model)
                    names.insert(0, request_model)
                card = self._package_card(package_id, names, tier)
        if card is None:
            self._log_unknown(provider, model or request_model)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[key] = card
        return card

    def _custom_card(self, provider: str | None, names: list[str]) -> _Card | None:
        custom = self._custom
        for name in names:
            name = name.lower()
            card = custom.get(f"{provider.lower()}/{name}") if provider else None
            if card is None:
                card = custom.get(name)
            if card is not None:
                return card
        return None

    def _package_provider(self, provider: str | None) -> str | None:
        if not provider or self._snapshot is None:
            return None
        mapped = PROVIDER_IDS.get(provider)
        if mapped is not None:
            return mapped
        if any(p.id == provider for p in self._snapshot.providers):
            return provider
        return None

    def _package_card(self, provider_id: str, names: list[str], tier: Any) -> _Card | None:
        snapshot = self._snapshot
        for name in names:
            try:
                found, model = snapshot.find_provider_model(name, None, provider_id, None)
            except LookupError:
                continue
            now = datetime.now(tz=timezone.utc)
            # Tier prices belong to the provider that lists them, not to one a model is borrowed from.
            context = dict(tier) if tier and any(m is model for m in found.models) else None
            return _card_from_package(model.get_prices(now, context), _next_change(model, now))
        return None

    def _log_unknown(self, provider: str | None, model: str | None) -> None:
        key = (provider, model)
        if key in self._logged:
            return
        with self._lock:
            if key in self._logged or len(self._logged) >= MAX_CACHED:
                return
            self._logged.add(key)
        _log.debug(
            "otel-llm: no price for model %r of provider %r; its calls get no cost attributes "
            "(custom prices: instrument(prices=...) or %s, see docs/cost.md)",
            model,
            provider,
            PRICES_ENV,
        )


__all__ = ["PRICES_ENV", "PROVIDER_IDS", "Pricer", "make_pricer", "prices_from_env"]


class NoPricer(Pricer):
    """Pricing turned off (``cost=False``): prices nothing and loads no price data."""

    def __init__(self) -> None:
        self.custom_prices = {}

    def price(
        self,
        provider: str | None,
        model: str | None,
        attributes: Mapping[str, Any],
        request_model: str | None = None,
    ) -> dict[str, float] | None:
        return None
