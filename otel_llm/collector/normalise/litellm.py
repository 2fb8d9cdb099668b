"""LiteLLM's OpenTelemetry callback (``litellm/integrations/opentelemetry.py``, callback "otel") → GenAI.

Its ``litellm_request`` span mixes the legacy names OpenLLMetry used (``gen_ai.system`` holding
LiteLLM's ``custom_llm_provider``, ``llm.request.type`` holding the call type, ``llm.is_streaming``
as the string "True"/"False", ``llm.user``, ``llm.request.functions.N.*``, older releases'
``gen_ai.usage.prompt_tokens`` and ``gen_ai.prompt.N.*``) with current ones; it also writes
``metadata.*``, ``hidden_params`` and ``gen_ai.cost.*``. So it is mapped by OpenLLMetry's legacy
mapping with LiteLLM's own tables for what the two spell differently.

LiteLLM's cost (``gen_ai.cost.total_cost``) is not taken as ``otel_llm.cost.usd``: LiteLLM
records 0.0 when it cannot price a call, which cannot be told from a free one, and its input cost
includes cache writes where ours does not. The span is priced like every other (costing.py); the
LiteLLM attributes stay.

Not mapped, because the span already has the attribute and normalisation never overwrites: the
``gen_ai.operation.name`` LiteLLM sets to the raw call type ("acompletion"), its
``gen_ai.response.finish_reasons`` written as a JSON string, and its ``gen_ai.input.messages``
whose parts keep OpenAI's content-part shape and tool calls outside the parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm.collector.normalise import openllmetry
from otel_llm.collector.normalise._common import FieldMap, as_str
from otel_llm.genai import attributes as A

# LiteLLM call types (llm.request.type) → gen_ai.operation.name. "completion" is LiteLLM's chat call.
OPERATIONS: Mapping[str, str] = {
    "completion": A.OP_CHAT,
    "acompletion": A.OP_CHAT,
    "responses": A.OP_CHAT,
    "aresponses": A.OP_CHAT,
    "anthropic_messages": A.OP_CHAT,
    "text_completion": A.OP_TEXT_COMPLETION,
    "atext_completion": A.OP_TEXT_COMPLETION,
    "embedding": A.OP_EMBEDDINGS,
    "aembedding": A.OP_EMBEDDINGS,
    "generate_content": "generate_content",
    "agenerate_content": "generate_content",
}
FIELDS: FieldMap = {
    **openllmetry.FIELDS,
    # The end user the virtual key stands for, when the request named no user.
    "metadata.user_api_key_end_user_id": (A.USER_ID, as_str),
}
# Attributes only LiteLLM's spans have: with the legacy markers, they tell LiteLLM from OpenLLMetry.
MARKERS = ("hidden_params", "metadata.user_api_key_hash", "gen_ai.cost.total_cost")
SCOPE = "litellm"  # the default tracer name (OTEL_TRACER_NAME)
SPAN_NAME = "litellm_request"


def is_litellm(attrs: Mapping[str, Any], span: ReadableSpan, scope_name: str) -> bool:
    return scope_name == SCOPE or span.name == SPAN_NAME or any(k in attrs for k in MARKERS)


def derive(attrs: Mapping[str, Any], span: ReadableSpan) -> dict[str, Any]:
    return openllmetry.legacy(attrs, span, fields=FIELDS, operations=OPERATIONS)
