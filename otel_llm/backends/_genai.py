"""Reading a GenAI span's attributes the way every view needs them: the model, the content
messages (parsed from their JSON strings), the request parameters, the caller's labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from otel_llm.genai import attributes as A

# gen_ai.request.* parameters, by the short name the backends show them under.
REQUEST_PARAMETERS: Mapping[str, str] = {
    A.REQUEST_MAX_TOKENS: "max_tokens",
    A.REQUEST_TEMPERATURE: "temperature",
    A.REQUEST_TOP_P: "top_p",
    A.REQUEST_TOP_K: "top_k",
    A.REQUEST_FREQUENCY_PENALTY: "frequency_penalty",
    A.REQUEST_PRESENCE_PENALTY: "presence_penalty",
    A.REQUEST_SEED: "seed",
    A.REQUEST_STOP_SEQUENCES: "stop",
    A.REQUEST_CHOICE_COUNT: "n",
    A.REQUEST_STREAM: "stream",
    A.REQUEST_REASONING_LEVEL: "reasoning_effort",
}


def plain(value: Any) -> Any:
    """An attribute value as a JSON value (the SDK keeps sequences as tuples)."""
    return list(value) if isinstance(value, tuple) else value


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def count(attrs: Mapping[str, Any], key: str) -> int | None:
    """An integer attribute (a token count); None when absent or of another type (bool included)."""
    value = attrs.get(key)
    return value if type(value) is int else None


def amount(attrs: Mapping[str, Any], key: str) -> float | None:
    """A numeric attribute (a cost); None when absent or not a number."""
    value = attrs.get(key)
    return value if type(value) in (int, float) else None


def model(attrs: Mapping[str, Any]) -> str | None:
    """The model that answered, else the one asked for."""
    return attrs.get(A.RESPONSE_MODEL) or attrs.get(A.REQUEST_MODEL)


def parameters(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {short: plain(attrs[key]) for key, short in REQUEST_PARAMETERS.items() if key in attrs}


def prefixed_metadata(attrs: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The caller's metadata as one attribute per key under ``prefix``: scalars as they are,
    anything else (a list) as JSON text."""
    return {
        prefix + key: value if isinstance(value, (str, int, float, bool)) else dumps(value)
        for key, value in metadata(attrs).items()
    }


def metadata(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """``otel_llm.context(metadata=...)``: the ``otel_llm.metadata.<key>`` attributes by key."""
    n = len(A.METADATA_PREFIX)
    return {key[n:]: plain(value) for key, value in attrs.items() if key.startswith(A.METADATA_PREFIX)}


def parsed(value: Any) -> Any:
    """Content JSON (messages, instructions, tool definitions) as Python values; None when the
    attribute is absent or not valid JSON."""
    if isinstance(value, (str, bytes)):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return None


def messages(attrs: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The messages of a content attribute (``gen_ai.input.messages`` ...), only well-formed ones."""
    value = parsed(attrs.get(key))
    if not isinstance(value, list):
        return []
    return [m for m in value if isinstance(m, dict)]


def parts(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    value = message.get("parts")
    return [p for p in value if isinstance(p, dict)] if isinstance(value, list) else []


def text_of(message: Mapping[str, Any]) -> str | None:
    """The message's text parts joined; None when it has none."""
    texts = [p["content"] for p in parts(message) if p.get("type") == "text" and isinstance(p.get("content"), str)]
    return "\n".join(texts) if texts else None


def instructions(attrs: Mapping[str, Any]) -> str | None:
    """``gen_ai.system_instructions`` (a list of parts) as one text."""
    value = parsed(attrs.get(A.SYSTEM_INSTRUCTIONS))
    if not isinstance(value, list):
        return None
    return text_of({"parts": value})
