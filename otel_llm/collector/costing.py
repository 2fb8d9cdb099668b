"""Cost for GenAI spans that arrive at the collector without it.

Spans from other instrumentations (after normalisation), from otel-llm with pricing off, or from
another language carry model and token usage but no ``otel_llm.cost.usd``. The collector prices
them with the same ``Pricer`` and the same attributes the in-process instrumentation writes
(genai/invocation.py), so a record or a dashboard cannot tell where a cost was computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm._safety import report
from otel_llm.collector.normalise._common import with_attributes
from otel_llm.genai import attributes as A
from otel_llm.genai.cost import Pricer, make_pricer
from otel_llm.records import attribute_dict

# Operations that are one priced call. Agent and workflow spans may sum their children's usage:
# pricing them too would count the children twice.
PRICED_OPERATIONS = frozenset({A.OP_CHAT, A.OP_TEXT_COMPLETION, "generate_content", A.OP_EMBEDDINGS})
_USAGE = (
    A.USAGE_INPUT_TOKENS,
    A.USAGE_OUTPUT_TOKENS,
    A.USAGE_CACHE_READ_INPUT_TOKENS,
    A.USAGE_CACHE_CREATION_INPUT_TOKENS,
    A.USAGE_REASONING_OUTPUT_TOKENS,
    A.ANTHROPIC_CACHE_CREATION_1H,
)


def _count_ok(attrs: Mapping[str, Any]) -> bool:
    """Usage present, and every count an int (a string or bool from a foreign sender is not priced)."""
    present = False
    for key in _USAGE:
        value = attrs.get(key)
        if value is None:
            continue
        if type(value) is not int or value < 0:
            return False
        present = present or key in (A.USAGE_INPUT_TOKENS, A.USAGE_OUTPUT_TOKENS)
    return present


class SpanCoster:
    """Adds ``otel_llm.cost.*`` to priced GenAI spans that have none; unknown models stay without."""

    def __init__(self, pricer: Pricer | None = None) -> None:
        self.pricer = pricer if pricer is not None else make_pricer()

    def add_cost(self, span: ReadableSpan) -> ReadableSpan:
        """``span`` with its cost attributes added; the same object when there is nothing to add."""
        try:
            attrs = attribute_dict(span)
            operation = attrs.get(A.OPERATION_NAME)
            if A.COST_USD in attrs or not isinstance(operation, str) or operation not in PRICED_OPERATIONS:
                return span
            request_model = attrs.get(A.REQUEST_MODEL)
            model = attrs.get(A.RESPONSE_MODEL) or request_model
            if not isinstance(model, str) or not _count_ok(attrs):
                return span
            cost = self.pricer.price(
                attrs.get(A.PROVIDER_NAME),
                model,
                attrs,
                request_model=request_model if isinstance(request_model, str) else None,
            )
            if not cost:
                return span
            merged = dict(attrs)
            for key, value in cost.items():
                merged.setdefault(key, value)
            return with_attributes(span, merged)
        except Exception as err:
            report("collector.cost", err)
            return span


__all__ = ["PRICED_OPERATIONS", "SpanCoster"]
