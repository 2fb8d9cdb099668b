"""OpenAI request body → GenAI request attributes, as data tables per endpoint.

We read the JSON body the SDK is about to send (``FinalRequestOptions.json_data``), which is
the same across SDK lines 1.x, 2.x and 3.x, rather than each method's Python signature.
"""

from __future__ import annotations

from typing import Any

from otel_llm.genai import attributes as A
from otel_llm.instrumentation._endpoint import Endpoint, Row, request_attributes
from otel_llm.instrumentation._fields import get, integer, number, string_list


def _choice_count(value: Any) -> int | None:
    n = integer(value)
    return n if n is not None and n != 1 else None


def _service_tier(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "auto" else None


def _format_type(fmt: Any) -> str | None:
    kind = get(fmt, "type")
    if kind in ("json_object", "json_schema"):
        return "json"
    if kind == "text":
        return "text"
    return None


def _text_format(text: Any) -> str | None:
    return _format_type(get(text, "format"))


def _encoding_formats(value: Any) -> list[str] | None:
    return [value] if isinstance(value, str) else None


def _conversation_id(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    conv_id = get(value, "id")
    return conv_id if isinstance(conv_id, str) else None


# (body key, attribute, converter). Earlier rows win when two keys map to one attribute.
_SAMPLING = (
    ("temperature", A.REQUEST_TEMPERATURE, number),
    ("top_p", A.REQUEST_TOP_P, number),
    ("top_k", A.REQUEST_TOP_K, number),  # not OpenAI's, but compatible servers take it via extra_body
    ("frequency_penalty", A.REQUEST_FREQUENCY_PENALTY, number),
    ("presence_penalty", A.REQUEST_PRESENCE_PENALTY, number),
    ("seed", A.REQUEST_SEED, integer),
    ("stop", A.REQUEST_STOP_SEQUENCES, string_list),
    ("n", A.REQUEST_CHOICE_COUNT, _choice_count),
)
CHAT_PARAMS: tuple[Row, ...] = (
    ("max_completion_tokens", A.REQUEST_MAX_TOKENS, integer),
    ("max_tokens", A.REQUEST_MAX_TOKENS, integer),
    *_SAMPLING,
    ("response_format", A.OUTPUT_TYPE, _format_type),
    ("service_tier", A.OPENAI_REQUEST_SERVICE_TIER, _service_tier),
)
RESPONSES_PARAMS: tuple[Row, ...] = (
    ("max_output_tokens", A.REQUEST_MAX_TOKENS, integer),
    ("temperature", A.REQUEST_TEMPERATURE, number),
    ("top_p", A.REQUEST_TOP_P, number),
    ("text", A.OUTPUT_TYPE, _text_format),
    ("service_tier", A.OPENAI_REQUEST_SERVICE_TIER, _service_tier),
    ("conversation", A.CONVERSATION_ID, _conversation_id),
)
COMPLETIONS_PARAMS: tuple[Row, ...] = (
    ("max_tokens", A.REQUEST_MAX_TOKENS, integer),
    *_SAMPLING,
)
EMBEDDINGS_PARAMS: tuple[Row, ...] = (
    ("encoding_format", A.REQUEST_ENCODING_FORMATS, _encoding_formats),
    ("dimensions", A.EMBEDDINGS_DIMENSION_COUNT, integer),
)


ENDPOINTS: dict[str, Endpoint] = {
    "/chat/completions": Endpoint(A.OP_CHAT, "chat", CHAT_PARAMS, {A.OPENAI_API_TYPE: "chat_completions"}),
    "/responses": Endpoint(A.OP_CHAT, "responses", RESPONSES_PARAMS, {A.OPENAI_API_TYPE: "responses"}),
    "/completions": Endpoint(A.OP_TEXT_COMPLETION, "completions", COMPLETIONS_PARAMS),
    "/embeddings": Endpoint(A.OP_EMBEDDINGS, "embeddings", EMBEDDINGS_PARAMS),
}


__all__ = ["ENDPOINTS", "Endpoint", "request_attributes"]
