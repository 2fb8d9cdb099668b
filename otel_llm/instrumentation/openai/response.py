"""OpenAI response objects → response facts on an Invocation, one function per endpoint kind."""

from __future__ import annotations

import base64
from typing import Any

from otel_llm.genai import Invocation
from otel_llm.genai import attributes as A
from otel_llm.instrumentation._fields import integer
from otel_llm.instrumentation.openai import messages as M


def set_chat_usage(inv: Invocation, usage: Any) -> None:
    """CompletionUsage (chat and legacy completions): prompt tokens include cached ones."""
    if usage is None:
        return
    inv.set_usage(
        integer(getattr(usage, "prompt_tokens", None)),
        integer(getattr(usage, "completion_tokens", None)),
        cache_read=integer(getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", None)),
        reasoning=integer(getattr(getattr(usage, "completion_tokens_details", None), "reasoning_tokens", None)),
    )


def set_openai_extras(inv: Invocation, service_tier: Any, fingerprint: Any) -> None:
    if isinstance(service_tier, str):
        inv.attributes[A.OPENAI_RESPONSE_SERVICE_TIER] = service_tier
    if isinstance(fingerprint, str):
        inv.attributes[A.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = fingerprint


def _choices(inv: Invocation, resp: Any) -> tuple[Any, list[Any]]:
    """What chat and legacy completions share: identity, finish reasons, usage, fingerprint."""
    inv.set_identity(getattr(resp, "id", None), getattr(resp, "model", None))
    choices = getattr(resp, "choices", None) or ()
    reasons = [getattr(c, "finish_reason", None) for c in choices]
    present = [r for r in reasons if isinstance(r, str)]
    if present:
        inv.attributes[A.RESPONSE_FINISH_REASONS] = present
    set_chat_usage(inv, getattr(resp, "usage", None))
    set_openai_extras(inv, getattr(resp, "service_tier", None), getattr(resp, "system_fingerprint", None))
    return choices, reasons


def chat_completion(inv: Invocation, resp: Any) -> None:
    choices, reasons = _choices(inv, resp)
    if inv.capture.enabled:
        pairs = zip(choices, reasons, strict=True)
        inv.output_messages = [M.chat_output_message(getattr(c, "message", None), r) for c, r in pairs]


def completion(inv: Invocation, resp: Any) -> None:
    choices, reasons = _choices(inv, resp)
    if inv.capture.enabled:
        inv.output_messages = [
            {
                "role": "assistant",
                "parts": [M.text_part(getattr(c, "text", None) or "")],
                "finish_reason": M.finish_reason(r),
            }
            for c, r in zip(choices, reasons, strict=True)
        ]


def responses_finish_reason(resp: Any) -> str | None:
    """The Responses API has a status, not a finish reason: derive the schema's value from it."""
    status = getattr(resp, "status", None)
    if status == "completed":
        kinds = {getattr(item, "type", None) for item in getattr(resp, "output", None) or ()}
        return "tool_call" if kinds & {"function_call", "custom_tool_call"} else "stop"
    if status == "incomplete":
        reason = getattr(getattr(resp, "incomplete_details", None), "reason", None)
        return {"max_output_tokens": "length", "content_filter": "content_filter"}.get(reason, reason or "length")
    if status in ("failed", "cancelled"):
        return "error"
    return None


def response(inv: Invocation, resp: Any) -> None:
    """A Responses API ``Response`` (plain, or the final one of a stream)."""
    inv.set_identity(getattr(resp, "id", None), getattr(resp, "model", None))
    reason = responses_finish_reason(resp)
    if reason is not None:
        inv.attributes[A.RESPONSE_FINISH_REASONS] = [reason]
    usage = getattr(resp, "usage", None)
    if usage is not None:
        inv.set_usage(
            integer(getattr(usage, "input_tokens", None)),
            integer(getattr(usage, "output_tokens", None)),
            cache_read=integer(getattr(getattr(usage, "input_tokens_details", None), "cached_tokens", None)),
            reasoning=integer(getattr(getattr(usage, "output_tokens_details", None), "reasoning_tokens", None)),
        )
    set_openai_extras(inv, getattr(resp, "service_tier", None), None)
    conversation = getattr(getattr(resp, "conversation", None), "id", None)
    if isinstance(conversation, str):
        inv.attributes[A.CONVERSATION_ID] = conversation
    if getattr(resp, "status", None) == "failed":
        error = getattr(resp, "error", None)
        inv.set_error(str(getattr(error, "code", None) or "response_failed"), getattr(error, "message", None))
    if inv.capture.enabled:
        parts = M.responses_output_parts(getattr(resp, "output", None))
        inv.output_messages = [{"role": "assistant", "parts": parts, "finish_reason": M.finish_reason(reason)}]


def _dimension(embedding: Any) -> int | None:
    if isinstance(embedding, list):
        return len(embedding)
    if isinstance(embedding, str):  # base64 of float32 values
        try:
            return len(base64.b64decode(embedding)) // 4
        except ValueError:
            return None
    return None


def embeddings(inv: Invocation, resp: Any) -> None:
    inv.set_identity(None, getattr(resp, "model", None))
    usage = getattr(resp, "usage", None)
    if usage is not None:
        inv.set_usage(integer(getattr(usage, "prompt_tokens", None)), None)
    if A.EMBEDDINGS_DIMENSION_COUNT not in inv.request_attributes:
        data = getattr(resp, "data", None) or ()
        if data:
            inv.set(A.EMBEDDINGS_DIMENSION_COUNT, _dimension(getattr(data[0], "embedding", None)))


BY_KIND = {
    "chat": chat_completion,
    "responses": response,
    "completions": completion,
    "embeddings": embeddings,
}
