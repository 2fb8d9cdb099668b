"""Spans of other instrumentation libraries → GenAI semantic-convention attributes, in the collector.

Applications send the collector whatever their instrumentation writes: OpenLLMetry, OpenInference,
the anthropic SDK's own tracing, LiteLLM. Routing, records, cost and the backend views read the
GenAI conventions, so each such span gets the GenAI attributes its foreign ones say, beside them:
nothing is removed (the redactor knows the foreign content keys too), nothing the span already has
is overwritten, the span name is kept, and ``otel_llm.normalised_from`` names the source.

Each source is a module with data tables (foreign key → GenAI key) and a ``derive(attrs, span)``
that returns candidate attributes; this module picks the source from a few marker attributes (a
handful of dict lookups, so a span with nothing foreign costs almost nothing and is returned as
the very same object) and merges. It never raises: a failure is reported once and the span goes on
unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm._safety import report
from otel_llm.collector.normalise import anthropic_native, litellm, openinference, openllmetry
from otel_llm.collector.normalise._common import FieldMap, as_int, copy_fields, with_attributes
from otel_llm.genai import attributes as A
from otel_llm.records import attribute_dict

NORMALISED_FROM: Final = "otel_llm.normalised_from"
OPENLLMETRY: Final = "openllmetry"
OPENINFERENCE: Final = "openinference"
ANTHROPIC: Final = "anthropic"
LITELLM: Final = "litellm"
# Spans in the current conventions that use the unreleased semantic-conventions-genai names
# (opentelemetry-util-genai >= 1.2b0): only those names are mapped.
GENAI_MAIN: Final = "genai_main"

CACHE_WRITE = "gen_ai.usage.cache_write.input_tokens"
# Renames applied to a span of any source: the unreleased conventions' names → the ones we follow.
COMMON_FIELDS: FieldMap = {CACHE_WRITE: (A.USAGE_CACHE_CREATION_INPUT_TOKENS, as_int)}

Derive = Callable[[Mapping[str, Any], ReadableSpan], dict[str, Any]]
DERIVERS: Mapping[str, Derive] = {
    OPENLLMETRY: openllmetry.derive,
    OPENINFERENCE: openinference.derive,
    ANTHROPIC: anthropic_native.derive,
    LITELLM: litellm.derive,
    GENAI_MAIN: lambda attrs, span: {},
}


def source_of(span: ReadableSpan, attrs: Mapping[str, Any]) -> str | None:
    """Which instrumentation wrote ``span``, as far as normalisation cares; None: nothing foreign."""
    if openinference.SPAN_KIND in attrs:
        return OPENINFERENCE
    scope = span.instrumentation_scope
    scope_name = scope.name if scope is not None else ""
    if anthropic_native.is_anthropic(attrs, scope_name):
        return ANTHROPIC
    if any(key in attrs for key in openllmetry.MARKERS):
        return LITELLM if litellm.is_litellm(attrs, span, scope_name) else OPENLLMETRY
    if CACHE_WRITE in attrs:
        return GENAI_MAIN
    return None


def normalise(span: ReadableSpan) -> ReadableSpan:
    """``span`` with GenAI attributes derived from its foreign ones; the same object when there are none."""
    try:
        attrs = attribute_dict(span)
        source = source_of(span, attrs)
        if source is None:
            return span
        derived = DERIVERS[source](attrs, span)
        copy_fields(attrs, COMMON_FIELDS, derived)
        added = {key: value for key, value in derived.items() if key not in attrs}
        if not added:
            return span
        merged = dict(attrs)
        merged.update(added)
        merged.setdefault(NORMALISED_FROM, source)
        return with_attributes(span, merged)
    except Exception as err:
        report("collector.normalise", err)
        return span


__all__ = ["NORMALISED_FROM", "normalise", "source_of"]
