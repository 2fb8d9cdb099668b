"""Anthropic response objects → response facts on an Invocation."""

from __future__ import annotations

from typing import Any

from otel_llm.genai import Invocation
from otel_llm.genai import attributes as A
from otel_llm.instrumentation._fields import get, integer
from otel_llm.instrumentation.anthropic import messages as M


def set_usage(inv: Invocation, usage: Any) -> None:
    """Anthropic's ``input_tokens`` excludes cached tokens; the conventions' input count includes them."""
    if usage is None:
        return
    uncached = integer(get(usage, "input_tokens"))
    cache_read = integer(get(usage, "cache_read_input_tokens"))
    cache_creation = integer(get(usage, "cache_creation_input_tokens"))
    total = None
    if uncached is not None:
        total = uncached + (cache_read or 0) + (cache_creation or 0)
    inv.set_usage(
        total,
        integer(get(usage, "output_tokens")),
        cache_read=cache_read,
        cache_creation=cache_creation,
        reasoning=integer(get(get(usage, "output_tokens_details"), "thinking_tokens")),
    )
    breakdown = get(usage, "cache_creation")
    if breakdown is not None:
        inv.set(A.ANTHROPIC_CACHE_CREATION_5M, integer(get(breakdown, "ephemeral_5m_input_tokens")))
        inv.set(A.ANTHROPIC_CACHE_CREATION_1H, integer(get(breakdown, "ephemeral_1h_input_tokens")))
    tier = get(usage, "service_tier")
    if isinstance(tier, str):
        inv.attributes[A.ANTHROPIC_RESPONSE_SERVICE_TIER] = tier


def set_stop_reason(inv: Invocation, stop_reason: Any) -> None:
    """The provider's own value, as for OpenAI; output messages carry the schema's normalised one."""
    if isinstance(stop_reason, str):
        inv.attributes[A.RESPONSE_FINISH_REASONS] = [stop_reason]


def set_request_id(inv: Invocation, result: Any) -> None:
    request_id = getattr(result, "_request_id", None)  # set by the SDK on the top-level model
    if isinstance(request_id, str):
        inv.attributes[A.ANTHROPIC_REQUEST_ID] = request_id


def message(inv: Invocation, msg: Any) -> None:
    inv.set_identity(get(msg, "id"), get(msg, "model"))
    stop_reason = get(msg, "stop_reason")
    set_stop_reason(inv, stop_reason)
    set_usage(inv, get(msg, "usage"))
    set_request_id(inv, msg)
    if inv.capture.enabled:
        inv.output_messages = [M.output_message(get(msg, "content"), stop_reason)]


def count_tokens(inv: Invocation, result: Any) -> None:
    """Counting consumes no tokens: the count is its own attribute, not ``gen_ai.usage.*``."""
    inv.set(A.ANTHROPIC_COUNT_TOKENS_INPUT_TOKENS, integer(get(result, "input_tokens")))
    set_request_id(inv, result)


BY_KIND = {
    "messages": message,
    "count_tokens": count_tokens,
}
