"""OpenLLMetry (Traceloop) spans → GenAI attributes.

Two generations reach a collector. Up to about 0.47 (mid 2025) OpenLLMetry wrote the old GenAI
names plus its own: ``gen_ai.system``, ``llm.request.type``, ``gen_ai.usage.prompt_tokens``,
flattened ``gen_ai.prompt.N.*`` / ``gen_ai.completion.N.*`` and ``llm.request.functions.N.*``
(before that, ``llm.vendor``, ``llm.prompts.N.*``, ``llm.usage.*``). From 0.5x it writes the
current conventions with a few names of its own left (``gen_ai.is_streaming``, ``gen_ai.user``,
``gen_ai.usage.reasoning_tokens``, ``gen_ai.openai.*``). Both are mapped here; LiteLLM's spans use
the same legacy names and reuse ``legacy()`` with their own tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm.collector.normalise import _messages as M
from otel_llm.collector.normalise._common import (
    FieldMap,
    as_bool,
    as_float,
    as_int,
    as_str,
    as_strs,
    copy_fields,
    grouped,
    provider_name,
)
from otel_llm.genai import attributes as A

# Foreign attribute → (GenAI attribute, converter), for both generations.
FIELDS: FieldMap = {
    "llm.request.model": (A.REQUEST_MODEL, as_str),
    "llm.response.model": (A.RESPONSE_MODEL, as_str),
    "llm.request.max_tokens": (A.REQUEST_MAX_TOKENS, as_int),
    "llm.temperature": (A.REQUEST_TEMPERATURE, as_float),
    "llm.top_p": (A.REQUEST_TOP_P, as_float),
    "llm.top_k": (A.REQUEST_TOP_K, as_float),
    "llm.frequency_penalty": (A.REQUEST_FREQUENCY_PENALTY, as_float),
    "llm.presence_penalty": (A.REQUEST_PRESENCE_PENALTY, as_float),
    "llm.chat.stop_sequences": (A.REQUEST_STOP_SEQUENCES, as_strs),
    "llm.is_streaming": (A.REQUEST_STREAM, as_bool),
    "gen_ai.is_streaming": (A.REQUEST_STREAM, as_bool),
    "llm.request.reasoning_effort": (A.REQUEST_REASONING_LEVEL, as_str),
    "gen_ai.request.reasoning_effort": (A.REQUEST_REASONING_LEVEL, as_str),
    "llm.user": (A.USER_ID, as_str),
    "gen_ai.user": (A.USER_ID, as_str),
    "gen_ai.usage.prompt_tokens": (A.USAGE_INPUT_TOKENS, as_int),
    "llm.usage.prompt_tokens": (A.USAGE_INPUT_TOKENS, as_int),
    "gen_ai.usage.completion_tokens": (A.USAGE_OUTPUT_TOKENS, as_int),
    "llm.usage.completion_tokens": (A.USAGE_OUTPUT_TOKENS, as_int),
    "gen_ai.usage.cache_read_input_tokens": (A.USAGE_CACHE_READ_INPUT_TOKENS, as_int),
    "gen_ai.usage.cache_creation_input_tokens": (A.USAGE_CACHE_CREATION_INPUT_TOKENS, as_int),
    "llm.usage.reasoning_tokens": (A.USAGE_REASONING_OUTPUT_TOKENS, as_int),
    "gen_ai.usage.reasoning_tokens": (A.USAGE_REASONING_OUTPUT_TOKENS, as_int),
    "gen_ai.openai.system_fingerprint": (A.OPENAI_RESPONSE_SYSTEM_FINGERPRINT, as_str),
    "gen_ai.openai.response.system_fingerprint": (A.OPENAI_RESPONSE_SYSTEM_FINGERPRINT, as_str),
    "gen_ai.openai.request.service_tier": (A.OPENAI_REQUEST_SERVICE_TIER, as_str),
    "gen_ai.openai.response.service_tier": (A.OPENAI_RESPONSE_SERVICE_TIER, as_str),
    "gen_ai.response.finish_reason": (A.RESPONSE_FINISH_REASONS, as_strs),
    "llm.response.finish_reason": (A.RESPONSE_FINISH_REASONS, as_strs),
    "llm.response.stop_reason": (A.RESPONSE_FINISH_REASONS, as_strs),
}
PROVIDER_KEYS = ("gen_ai.system", "llm.vendor")
REQUEST_TYPE = "llm.request.type"
# llm.request.type → gen_ai.operation.name. OpenLLMetry's Anthropic instrumentation says
# "completion" for Messages calls too: see _operation.
OPERATIONS: Mapping[str, str] = {
    "chat": A.OP_CHAT,
    "completion": A.OP_TEXT_COMPLETION,
    "embedding": A.OP_EMBEDDINGS,
    "embeddings": A.OP_EMBEDDINGS,
}
# Where each generation put flattened messages and tool definitions.
PROMPT_PREFIXES = ("gen_ai.prompt.", "llm.prompts.")
COMPLETION_PREFIXES = ("gen_ai.completion.", "llm.completions.")
FUNCTIONS_PREFIX = "llm.request.functions."
ITEM_PREFIXES = (*PROMPT_PREFIXES, *COMPLETION_PREFIXES, FUNCTIONS_PREFIX)
API_BASE = "gen_ai.openai.api_base"
DEFAULT_PORTS: Mapping[str, int] = {"https": 443, "http": 80}
STRUCTURED_OUTPUT_SCHEMA = "gen_ai.request.structured_output_schema"
MARKERS = (*PROVIDER_KEYS, REQUEST_TYPE, "gen_ai.is_streaming", "gen_ai.usage.reasoning_tokens", API_BASE)


def _operation(attrs: Mapping[str, Any], span: ReadableSpan, table: Mapping[str, str]) -> str | None:
    kind = attrs.get(REQUEST_TYPE)
    operation = table.get(kind) if isinstance(kind, str) else None
    # A chat call traced as "completion" (Anthropic's): the span is named *.chat, or its prompts have roles.
    chat_like = span.name.endswith(".chat") or any(f"{p}0.role" in attrs for p in PROMPT_PREFIXES)
    if operation == A.OP_TEXT_COMPLETION and table is OPERATIONS and chat_like:
        return A.OP_CHAT
    return operation


def _server(url: Any, out: dict[str, Any]) -> None:
    """server.address / server.port from the API base URL OpenLLMetry records."""
    if not isinstance(url, str) or "://" not in url:
        return
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a malformed URL (bad IPv6 literal, port out of range)
        return
    if host:
        out[A.SERVER_ADDRESS] = host
        if port is not None:
            out[A.SERVER_PORT] = port


def _first(groups: Mapping[str, list[dict[str, Any]]], prefixes: tuple[str, ...]) -> list[dict[str, Any]]:
    """The items under the first of ``prefixes`` that has any (each generation used one)."""
    return next((groups[p] for p in prefixes if groups[p]), [])


def _content(attrs: Mapping[str, Any], operation: str | None, provider: str | None, out: dict[str, Any]) -> None:
    """Messages and tools from the flattened items, unless the span has GenAI content already."""
    if operation == A.OP_EMBEDDINGS:
        return  # the conventions define no messages for embeddings
    groups = grouped(attrs, ITEM_PREFIXES)
    inputs = outputs = system = None
    if A.INPUT_MESSAGES not in attrs:
        prompts = [m for f in _first(groups, PROMPT_PREFIXES) if (m := M.legacy_message(f, output=False))]
        if provider == "anthropic":
            prompts, system = M.split_system(prompts)
        inputs = prompts
    completions = _first(groups, COMPLETION_PREFIXES) if A.OUTPUT_MESSAGES not in attrs else []
    if completions:
        outputs = M.legacy_outputs(completions)
        reasons = tuple(r for f in completions if isinstance(r := f.get("finish_reason"), str) and r)
        if reasons:
            out[A.RESPONSE_FINISH_REASONS] = reasons
    tools = M.legacy_tools(groups[FUNCTIONS_PREFIX]) if A.TOOL_DEFINITIONS not in attrs else None
    M.set_content(out, inputs, outputs, system, tools)


def legacy(
    attrs: Mapping[str, Any],
    span: ReadableSpan,
    *,
    fields: FieldMap = FIELDS,
    operations: Mapping[str, str] = OPERATIONS,
) -> dict[str, Any]:
    """GenAI attributes for a span in the legacy names (OpenLLMetry's, or LiteLLM's with its tables)."""
    out: dict[str, Any] = {}
    provider = None
    for key in PROVIDER_KEYS:
        provider = provider_name(attrs.get(key))
        if provider is not None:
            break
    provider = provider or attrs.get(A.PROVIDER_NAME)
    if provider is not None:
        out[A.PROVIDER_NAME] = provider
    operation = _operation(attrs, span, operations)
    if operation is not None:
        out[A.OPERATION_NAME] = operation
    else:
        operation = attrs.get(A.OPERATION_NAME)
    copy_fields(attrs, fields, out)
    if A.SERVER_ADDRESS not in attrs:
        _server(attrs.get(API_BASE), out)
    if STRUCTURED_OUTPUT_SCHEMA in attrs:
        out[A.OUTPUT_TYPE] = "json"
    _content(attrs, operation, provider, out)
    return out


def derive(attrs: Mapping[str, Any], span: ReadableSpan) -> dict[str, Any]:
    return legacy(attrs, span)
