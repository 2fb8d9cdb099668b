"""Request and response payloads the benchmarks serve: realistic, pre-encoded, built once per process."""

from __future__ import annotations

import json
from typing import Any

MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
EMBEDDING_MODEL = "text-embedding-3-small"
STREAM_CHUNKS = 100
EMBEDDING_DIMS = 256  # text-embedding-3-small shortened with dimensions=256

# -- openai ------------------------------------------------------------------------------------

CHAT_REQUEST: dict[str, Any] = {
    "model": MODEL,
    "messages": [
        {"role": "system", "content": "You are a concise assistant for a travel booking site."},
        {"role": "user", "content": "Suggest three things to do in Lisbon on a rainy afternoon."},
    ],
    "temperature": 0.7,
    "top_p": 0.95,
    "max_completion_tokens": 512,
}

_ANSWER = (
    "1. Visit the National Tile Museum (Museu Nacional do Azulejo) to see five centuries of "
    "Portuguese azulejos in a former convent. 2. Spend an hour at the Gulbenkian Museum, whose "
    "collection runs from Egyptian antiquities to Lalique jewellery. 3. Take shelter in the "
    "LX Factory: bookshops, cafes and design studios under one roof in a converted mill."
)


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion_body() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-BxQm2n8d5Yk3ZpA1rT7uV9wE4sLfG",
            "object": "chat.completion",
            "created": 1753400000,
            "model": RESPONSE_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": _ANSWER, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(41, 98),
            "service_tier": "default",
            "system_fingerprint": "fp_34a54ae93c",
        }
    ).encode()


def chat_stream_body(chunks: int = STREAM_CHUNKS) -> bytes:
    """``chunks`` SSE events: a role delta, content deltas, a finish chunk, a usage chunk; [DONE]."""
    words = _ANSWER.split(" ")
    base = {
        "id": "chatcmpl-BxQm2n8d5Yk3ZpA1rT7uV9wE4sLfG",
        "object": "chat.completion.chunk",
        "created": 1753400000,
        "model": RESPONSE_MODEL,
        "service_tier": "default",
        "system_fingerprint": "fp_34a54ae93c",
    }

    def chunk(delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None) -> str:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        event = {**base, "choices": choices, "usage": usage, "obfuscation": "Zk3p"}
        return f"data: {json.dumps(event)}\n\n"

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    for i in range(chunks - 3):
        events.append(chunk({"content": ("" if i == 0 else " ") + words[i % len(words)]}))
    events.append(chunk({}, finish="stop"))
    events.append(chunk(None, usage=_usage(41, chunks - 3)))
    events.append("data: [DONE]\n\n")
    assert len(events) == chunks + 1
    return "".join(events).encode()


def embeddings_body() -> bytes:
    vector = [round(((i * 7919) % 2000 - 1000) / 31250.0, 9) for i in range(EMBEDDING_DIMS)]
    return json.dumps(
        {
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": vector}],
            "model": EMBEDDING_MODEL,
            "usage": {"prompt_tokens": 9, "total_tokens": 9},
        }
    ).encode()


def floor_attributes() -> dict[str, Any]:
    """15 gen_ai.* attributes, as a finished non-streaming chat span carries them."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 512,
        "gen_ai.request.temperature": 0.7,
        "gen_ai.request.top_p": 0.95,
        "gen_ai.request.seed": 42,
        "gen_ai.output.type": "text",
        "gen_ai.response.id": "chatcmpl-BxQm2n8d5Yk3ZpA1rT7uV9wE4sLfG",
        "gen_ai.response.model": RESPONSE_MODEL,
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 41,
        "gen_ai.usage.output_tokens": 98,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.reasoning.output_tokens": 0,
    }


# -- anthropic ---------------------------------------------------------------------------------

ANTHROPIC_MODEL = "claude-sonnet-4-6"
ANTHROPIC_STREAM_EVENTS = 100  # events the SDK yields (pings are skipped by the SDK and not counted)
ANTHROPIC_REQUEST: dict[str, Any] = {
    "model": ANTHROPIC_MODEL,
    "max_tokens": 512,
    "system": "You are a concise assistant for a travel booking site.",
    "messages": [{"role": "user", "content": "Suggest three things to do in Lisbon on a rainy afternoon."}],
}


def _anthropic_usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "server_tool_use": None,
        "service_tier": "standard",
    }


def _anthropic_message(content: list[dict[str, Any]], stop_reason: str | None, usage: dict[str, Any]) -> dict:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": ANTHROPIC_MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def anthropic_message_body() -> bytes:
    text = {"type": "text", "text": _ANSWER, "citations": None}
    return json.dumps(_anthropic_message([text], "end_turn", _anthropic_usage(38, 98))).encode()


def anthropic_stream_body(events: int = ANTHROPIC_STREAM_EVENTS) -> bytes:
    """``events`` SSE events: message_start, a text block of deltas, message_delta, message_stop (+ a ping)."""
    words = _ANSWER.split(" ")

    def sse(event: dict[str, Any]) -> str:
        return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"

    out = [sse({"type": "message_start", "message": _anthropic_message([], None, _anthropic_usage(38, 1))})]
    out.append(sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}))
    out.append(sse({"type": "ping"}))
    deltas = events - 5
    for i in range(deltas):
        text = ("" if i == 0 else " ") + words[i % len(words)]
        out.append(sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}))
    out.append(sse({"type": "content_block_stop", "index": 0}))
    final_usage = {"input_tokens": 38, "output_tokens": deltas, "cache_creation_input_tokens": 0}
    final_usage |= {"cache_read_input_tokens": 0, "server_tool_use": None}
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}}
    out.append(sse({**delta, "usage": final_usage}))
    out.append(sse({"type": "message_stop"}))
    return "".join(out).encode()
