"""What every source mapping needs: value converters, the foreign-key → GenAI-key copier, provider
names, and the grouping of flattened ``prefix.N.field`` attributes.

Foreign spans arrive over OTLP from code we do not control, so every value is checked for the type
the conventions give it: a value of another type is not copied (rather than copied wrong).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import ReadableSpan

from otel_llm._spans import replaced
from otel_llm.genai.invocation import to_json

Converter = Callable[[Any], Any]
# Foreign attribute → (GenAI attribute, converter). The first foreign key that converts wins.
FieldMap = Mapping[str, tuple[str, Converter]]


def as_int(value: Any) -> int | None:
    """A count: ints, integral floats and decimal strings (LiteLLM and OTLP/JSON send those); not bools."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def as_float(value: Any) -> float | None:
    """A double (temperature, top_p, ...): finite numbers and numeric strings; not bools."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def as_bool(value: Any) -> bool | None:
    """A flag; LiteLLM writes ``"True"`` / ``"False"`` strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def as_str(value: Any) -> str | None:
    """A non-empty string (LiteLLM writes ``""`` for a missing value)."""
    return value if isinstance(value, str) and value else None


def as_strs(value: Any) -> tuple[str, ...] | None:
    """A string array: a sequence of strings, a JSON array of strings, or one string."""
    if isinstance(value, str):
        if value.startswith("["):
            parsed = parse_json(value)
            if isinstance(parsed, list) and all(isinstance(v, str) for v in parsed):
                return tuple(parsed)
        return (value,) if value else None
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def parse_json(value: Any) -> Any:
    """Parsed JSON text; None when ``value`` is not a string of valid JSON."""
    if not isinstance(value, (str, bytes)):
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


def dumps(value: Any) -> str:
    """Compact JSON as the instrumentation writes content attributes (orjson writes the same text,
    twenty times faster; what it refuses, such as integers past 64 bits, goes the instrumentation's way)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return to_json(value)


def with_attributes(span: ReadableSpan, attributes: dict[str, Any]) -> ReadableSpan:
    """``span`` with ``attributes``, keeping its count of dropped attributes (as redaction does)."""
    raw = getattr(span, "_attributes", None)
    if isinstance(raw, BoundedAttributes) and raw.dropped:
        bounded = BoundedAttributes(maxlen=None, attributes=attributes, immutable=True)
        bounded.dropped = raw.dropped
        return replaced(span, attributes=bounded)
    return replaced(span, attributes=attributes)


def copy_fields(attrs: Mapping[str, Any], table: FieldMap, out: dict[str, Any]) -> None:
    """Copy each foreign attribute of ``table`` to its GenAI name, converted, unless the span or
    ``out`` already has that name."""
    get = attrs.get
    for source, (target, convert) in table.items():
        value = get(source)  # most of a table is absent from any one span: look that up first
        if value is None or target in out or target in attrs:
            continue
        converted = convert(value)
        if converted is not None:
            out[target] = converted


def indexed(attrs: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Flattened ``prefix.N.field`` attributes as one dict of ``field`` → value per N, in N order.

    Keys after ``prefix`` whose first segment is not a number (``gen_ai.prompt.prompt_error``) are
    not items and are skipped.
    """
    return grouped(attrs, (prefix,))[prefix]


# Per set of prefixes: attribute key → (prefix, index, field), or None for a key that is no item.
# The same keys recur in every span of an instrumentation, so each is split once; a sender making
# up new keys only empties the cache when it reaches its bound.
_SPLITS: dict[tuple[str, ...], dict[str, tuple[str, int, str] | None]] = {}
MAX_SPLITS = 8192


def _split(key: str, prefixes: tuple[str, ...]) -> tuple[str, int, str] | None:
    for prefix in prefixes:
        if key.startswith(prefix):
            index, _, field = key[len(prefix) :].partition(".")
            return (prefix, int(index), field) if index.isdigit() and field else None
    return None


def grouped(attrs: Mapping[str, Any], prefixes: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """``indexed`` for several prefixes in one pass over the attributes (a span has dozens)."""
    splits = _SPLITS.get(prefixes)
    if splits is None or len(splits) > MAX_SPLITS:
        splits = _SPLITS[prefixes] = {}
    groups: dict[str, dict[int, dict[str, Any]]] = {p: {} for p in prefixes}
    for key, value in attrs.items():
        split = splits.get(key, _MISS)
        if split is _MISS:
            split = splits[key] = _split(key, prefixes) if key.startswith(prefixes) else None
        if split is not None:
            prefix, index, field = split
            groups[prefix].setdefault(index, {})[field] = value
    return {p: [items[i] for i in sorted(items)] if items else [] for p, items in groups.items()}


_MISS: Any = object()


# Provider names as the three foreign conventions spell them (OpenLLMetry's ``gen_ai.system``,
# LiteLLM's ``custom_llm_provider``, OpenInference's ``llm.provider`` / ``llm.system``), lowercased
# and without spaces → ``gen_ai.provider.name``. A name not listed is kept, lowercased: the
# conventions allow custom values, and cost.PROVIDER_IDS prices only names it knows.
PROVIDERS: Mapping[str, str] = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "azure": "azure.ai.openai",
    "azure_text": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "anthropic": "anthropic",
    "aws": "aws.bedrock",
    "bedrock": "aws.bedrock",
    "google": "gcp.gen_ai",
    "gemini": "gcp.gemini",
    "vertex_ai": "gcp.vertex_ai",
    "vertex_ai_beta": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "mistral": "mistral_ai",
    "mistralai": "mistral_ai",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "groq": "groq",
    "deepseek": "deepseek",
    "perplexity": "perplexity",
    "xai": "x_ai",
    "watsonx": "ibm.watsonx.ai",
    "together": "together_ai",
    "togetherai": "together_ai",
    "together_ai": "together_ai",
    "fireworks": "fireworks_ai",
    "fireworks_ai": "fireworks_ai",
    "openrouter": "openrouter",
    "ollama": "ollama",
    "ollama_chat": "ollama",
    "hosted_vllm": "vllm",
    "vllm": "vllm",
    "moonshot": "moonshot",
    "cerebras": "cerebras",
}
_NO_PROVIDER = frozenset({"", "unknown", "none"})


def provider_name(value: Any) -> str | None:
    """``gen_ai.provider.name`` for a foreign provider or system name; None when it says nothing."""
    if not isinstance(value, str):
        return None
    key = value.strip().lower().replace(" ", "")
    if key in _NO_PROVIDER:
        return None
    return PROVIDERS.get(key, key)
