"""Anthropic request body → GenAI request attributes, as data tables per endpoint.

The body is read as the SDK sends it (``FinalRequestOptions.json_data``), which is the same for the
0.x (httpx), 1.x and 2.x (httpx2) lines and for the Bedrock and Vertex clients, whose URL and body
rewriting happens after our hook.
"""

from __future__ import annotations

from typing import Any

from otel_llm.genai import attributes as A
from otel_llm.instrumentation._endpoint import Endpoint, Row
from otel_llm.instrumentation._fields import get, integer, number, scalar, string_list


def _thinking_type(value: Any) -> str | None:
    kind = get(value, "type")
    return kind if isinstance(kind, str) else None


def _thinking_budget(value: Any) -> int | None:
    return integer(get(value, "budget_tokens"))


def _effort(value: Any) -> str | None:
    effort = get(value, "effort")
    return effort if isinstance(effort, str) else None


def _format_type(fmt: Any) -> str | None:
    return "json" if get(fmt, "type") == "json_schema" else None


def _config_format(config: Any) -> str | None:
    return _format_type(get(config, "format"))


MESSAGES_PARAMS: tuple[Row, ...] = (
    ("max_tokens", A.REQUEST_MAX_TOKENS, integer),
    ("temperature", A.REQUEST_TEMPERATURE, number),
    ("top_p", A.REQUEST_TOP_P, number),
    ("top_k", A.REQUEST_TOP_K, number),
    ("stop_sequences", A.REQUEST_STOP_SEQUENCES, string_list),
    ("output_config", A.OUTPUT_TYPE, _config_format),
    ("output_format", A.OUTPUT_TYPE, _format_type),  # the beta spelling of output_config.format
    ("output_config", A.REQUEST_REASONING_LEVEL, _effort),
    ("service_tier", A.ANTHROPIC_REQUEST_SERVICE_TIER, scalar),
    ("thinking", A.ANTHROPIC_THINKING_TYPE, _thinking_type),
    ("thinking", A.ANTHROPIC_THINKING_BUDGET_TOKENS, _thinking_budget),
)

MESSAGES = Endpoint(A.OP_CHAT, "messages", MESSAGES_PARAMS)
COUNT_TOKENS = Endpoint(A.OP_COUNT_TOKENS, "count_tokens", ())

# URL path (query removed: beta calls of 0.x/1.x add ``?beta=true``) → endpoint.
ENDPOINTS: dict[str, Endpoint] = {
    "/v1/messages": MESSAGES,
    "/v1/messages/count_tokens": COUNT_TOKENS,
}


def _header(headers: Any, wanted: str) -> tuple[bool, Any]:
    """(present, value) of a header in a dict of headers, by case-insensitive name."""
    if isinstance(headers, dict):
        for name, value in headers.items():
            if isinstance(name, str) and name.lower() == wanted:
                return True, value
    return False, None


def beta_features(call_headers: Any, client_headers: Any = None) -> list[str] | None:
    """The ``anthropic-beta`` header the call sends, as a list: the call's own (``betas=[...]``,
    ``extra_headers``) or else the client's ``default_headers``. A call's ``Omit`` removes it."""
    present, value = _header(call_headers, "anthropic-beta")
    if not present:
        present, value = _header(client_headers, "anthropic-beta")
    if not isinstance(value, str):
        return None
    features = [f.strip() for f in value.split(",") if f.strip()]
    return features or None
