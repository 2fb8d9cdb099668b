"""The anthropic SDK's own spans (anthropic >= 1.14, scope ``com.anthropic.sdk.python[.platform]``) → GenAI.

Measured by running the SDK (1.17 and 2.12) over a mock transport: its ``anthropic.messages.create``
span already follows the conventions (operation, provider, model, usage with cached tokens counted
in the input, the ``anthropic.*`` names otel-llm uses too). What differs:

- the cache-write count is named ``gen_ai.usage.cache_write.input_tokens`` (the unreleased
  conventions' name) where otel-llm uses the published ``cache_creation`` (attributes.py), so cost
  and records would miss it: mapped (for every span, see __init__.COMMON_FIELDS);
- the stop reason is ``anthropic.message.stop_reason`` and there is no
  ``gen_ai.response.finish_reasons``: mapped, the provider's own value as otel-llm records it;
- ``anthropic.messages.count_tokens`` spans have no operation: ``count_tokens``, as otel-llm's
  instrumentation names it.

Its ``gen_ai.output.messages`` (content mode) have no ``finish_reason``, which the output-message
schema requires; normalisation does not rewrite an attribute the span has, so they stay as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm.collector.normalise._common import FieldMap, as_strs, copy_fields
from otel_llm.genai import attributes as A

SCOPE_PREFIX = "com.anthropic.sdk"
STOP_REASON = "anthropic.message.stop_reason"
FIELDS: FieldMap = {STOP_REASON: (A.RESPONSE_FINISH_REASONS, as_strs)}
# Span name → gen_ai.operation.name, for the SDK's spans that have none.
OPERATIONS: Mapping[str, str] = {"anthropic.messages.count_tokens": A.OP_COUNT_TOKENS}


def is_anthropic(attrs: Mapping[str, Any], scope_name: str) -> bool:
    return scope_name.startswith(SCOPE_PREFIX) or STOP_REASON in attrs


def derive(attrs: Mapping[str, Any], span: ReadableSpan) -> dict[str, Any]:
    out: dict[str, Any] = {}
    copy_fields(attrs, FIELDS, out)
    operation = OPERATIONS.get(span.name)
    if operation is not None:
        out[A.OPERATION_NAME] = operation
    return out
