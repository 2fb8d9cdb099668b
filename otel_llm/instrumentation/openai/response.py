"""OpenAI response objects → response facts on an Invocation, one function per endpoint kind."""

from __future__ import annotations

import base64
from typing import Any

from otel_llm.genai import Invocation
from otel_llm.genai import attributes as A
from otel_llm.instrumentation._fields import get, integer
from otel_llm.instrumentation.openai import messages as M


def set_chat_usage(inv: Invocation, usage: Any) -> None:
    """CompletionUsage (chat and legacy completions): prompt tokens include cached ones."""
    if usage is None:
        return
    inv.set_usage(
        integer(get(usage, "prompt_tokens")),
        integer(get(usage, "completion_tokens")),
        cache_read=integer(get(get(usage, "prompt_tokens_details"), "cached_tokens")),
        reasoning=integer(get(get(usage, "completion_tokens_details"), "reasoning_tokens")),
    )


def set_openai_extras(inv: Invocation, service_tier: Any, fingerprint: Any) -> None:
    if isinstance(service_tier, str):
        inv.attributes[A.OPENAI_RESPONSE_SERVICE_TIER] = service_tier
    if isinstance(fingerprint, str):
        inv.attributes[A.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = fingerprint


def set_identity(inv: Invocation, response_id: Any, model: Any) -> None:
    if isinstance(response_id, str):
        inv.attributes[A.RESPONSE_ID] = response_id
    if isinstance(model, str):
        inv.attributes[A.RESPONSE_MODEL] = model


def chat_completion(inv: Invocation, resp: Any) -> None:
    set_identity(inv, get(resp, "id"), get(resp, "model"))
    choices = get(resp, "choices") or ()
    reasons = [get(c, "finish_reason") for c in choices]
    present = [r for r in reasons if isinstance(r, str)]
    if present:
        inv.attributes[A.RESPONSE_FINISH_REASONS] = present
    set_chat_usage(inv, get(resp, "usage"))
    set_openai_extras(inv, get(resp, "service_tier"), get(resp, "system_fingerprint"))
    if inv.capture.enabled:
        pairs = zip(choices, reasons, strict=True)
        inv.output_messages = [M.chat_output_message(get(c, "message"), r) for c, r in pairs]


def completion(inv: Invocation, resp: Any) -> None:
    set_identity(inv, get(resp, "id"), get(resp, "model"))
    choices = get(resp, "choices") or ()
    reasons = [get(c, "finish_reason") for c in choices]
    present = [r for r in reasons if isinstance(r, str)]
    if present:
        inv.attributes[A.RESPONSE_FINISH_REASONS] = present
    set_chat_usage(inv, get(resp, "usage"))
    set_openai_extras(inv, None, get(resp, "system_fingerprint"))
    if inv.capture.enabled:
        inv.output_messages = [
            {"role": "assistant", "parts": [M.text_part(get(c, "text") or "")], "finish_reason": M.finish_reason(r)}
            for c, r in zip(choices, reasons, strict=True)
        ]


def responses_finish_reason(resp: Any) -> str | None:
    """The Responses API has a status, not a finish reason: derive the schema's value from it."""
    status = get(resp, "status")
    if status == "completed":
        kinds = {get(item, "type") for item in get(resp, "output") or ()}
        return "tool_call" if kinds & {"function_call", "custom_tool_call"} else "stop"
    if status == "incomplete":
        reason = get(get(resp, "incomplete_details"), "reason")
        return {"max_output_tokens": "length", "content_filter": "content_filter"}.get(reason, reason or "length")
    if status in ("failed", "cancelled"):
        return "error"
    return None


def response(inv: Invocation, resp: Any) -> None:
    """A Responses API ``Response`` (plain, or the final one of a stream)."""
    set_identity(inv, get(resp, "id"), get(resp, "model"))
    reason = responses_finish_reason(resp)
    if reason is not None:
        inv.attributes[A.RESPONSE_FINISH_REASONS] = [reason]
    usage = get(resp, "usage")
    if usage is not None:
        inv.set_usage(
            integer(get(usage, "input_tokens")),
            integer(get(usage, "output_tokens")),
            cache_read=integer(get(get(usage, "input_tokens_details"), "cached_tokens")),
            reasoning=integer(get(get(usage, "output_tokens_details"), "reasoning_tokens")),
        )
    set_openai_extras(inv, get(resp, "service_tier"), None)
    conversation = get(get(resp, "conversation"), "id")
    if isinstance(conversation, str):
        inv.attributes[A.CONVERSATION_ID] = conversation
    if get(resp, "status") == "failed":
        error = get(resp, "error")
        inv.set_error(str(get(error, "code") or "response_failed"), get(error, "message"))
    if inv.capture.enabled:
        parts = M.responses_output_parts(get(resp, "output"))
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
    set_identity(inv, None, get(resp, "model"))
    usage = get(resp, "usage")
    if usage is not None:
        inv.set_usage(integer(get(usage, "prompt_tokens")), None)
    if A.EMBEDDINGS_DIMENSION_COUNT not in inv.request_attributes:
        data = get(resp, "data") or ()
        if data:
            inv.set(A.EMBEDDINGS_DIMENSION_COUNT, _dimension(get(data[0], "embedding")))


BY_KIND = {
    "chat": chat_completion,
    "responses": response,
    "completions": completion,
    "embeddings": embeddings,
}
